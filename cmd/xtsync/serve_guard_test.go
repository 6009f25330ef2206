package main

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/xtsync/xtsync/internal/waitfor"
	"github.com/xtsync/xtsync/pkg/engine"
	"github.com/xtsync/xtsync/pkg/graphemu"
)

// guardOf reads the deletion guard from the running serve's state.
func guardOf(t *testing.T, srv *server) engine.GuardState {
	t.Helper()
	g, err := engine.LoadGuard(context.Background(), srv.local.store)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// engineeringUsers trims the source's engineering group to n direct user
// members (no guests) and returns them; with alsoIn, each also joins that
// group, so that leaving engineering deprovisions nobody.
func engineeringUsers(t *testing.T, env *reconcileEnv, n int, alsoIn string) []graphemu.User {
	t.Helper()
	src := graphemu.SampleSourceTenant
	gid := env.nick["engineering"]
	g, _ := env.em.Group(src, gid)
	var keep []graphemu.User
	for _, id := range g.Members {
		u, ok := env.em.User(src, id)
		switch {
		case !ok:
			continue // a nested group
		case u.UserType == "Guest" || len(keep) == n:
			must(t, env.em.RemoveMember(src, gid, id))
		default:
			keep = append(keep, u)
			if alsoIn != "" {
				if other, _ := env.em.Group(src, env.nick[alsoIn]); !slices.Contains(other.Members, id) {
					must(t, env.em.AddMember(src, env.nick[alsoIn], id))
				}
			}
		}
	}
	if len(keep) != n {
		t.Fatalf("engineering has %d users, want %d", len(keep), n)
	}
	return keep
}

// targetIDOf is the target user mirroring a source user (by mail).
func targetIDOf(env *reconcileEnv, u graphemu.User) string {
	for _, tu := range env.em.Users(graphemu.SampleTargetTenant) {
		if strings.EqualFold(tu.Mail, u.Mail) {
			return tu.ID
		}
	}
	return ""
}

// Issue 9: serve's delta passes go through the one deletion guard. With
// threshold 5, emptying a 12-member group leaves the mirror untouched, and
// the operator's reconcile --allow-deletions, run while serve runs, then
// empties it.
func TestServeGuardHoldsAnEmptiedGroup(t *testing.T) {
	var users []graphemu.User
	env, srv := startServeWith(t, "sync: {deletion_threshold: 5}\n", func(env *reconcileEnv) { users = engineeringUsers(t, env, 12, "") })
	eng := env.nick["engineering"]
	mirror, _ := mirrorOf(env.em, eng)
	if len(mirror.Members) != 12 {
		t.Fatalf("mirror has %d members, want 12", len(mirror.Members))
	}
	for _, u := range users {
		must(t, env.em.RemoveMember(graphemu.SampleSourceTenant, eng, u.ID))
	}
	waitfor.WaitFor(t, 20*time.Second, "the guard halts", func() bool { return guardOf(t, srv).Halt != nil })
	must(t, srv.queue.WaitIdle(context.Background()))
	if m, _ := mirrorOf(env.em, eng); len(m.Members) != 12 {
		t.Fatalf("the guard let removals through: mirror has %d members, want 12", len(m.Members))
	}
	code, out, errOut := xtsync(t, "status", "--config", env.cfg)
	if code != 0 || !strings.Contains(out, "Deletion guard: HOLDING") {
		t.Errorf("status (exit %d) does not show the halt:\n%s\n%s", code, out, errOut)
	}

	code, out, errOut = xtsync(t, "reconcile", "--config", env.cfg, "--allow-deletions")
	if code != 0 {
		t.Fatalf("reconcile --allow-deletions while serve runs: exit %d\n%s\n%s", code, out, errOut)
	}
	if m, _ := mirrorOf(env.em, eng); len(m.Members) != 0 {
		t.Errorf("after the approval the mirror has %d members, want 0", len(m.Members))
	}
	if g := guardOf(t, srv); g.Halt != nil {
		t.Errorf("the approval left the halt: %+v", g.Halt)
	}
	if err := verifyMirror(env.em, srv.cfg.Scope.Groups); err != nil {
		t.Error(err)
	}
}

// Issue 9: removals that trickle in, one per notification, add up in the
// guard's rolling window: at most the threshold goes through, then the
// guard holds the rest. The members stay in another synced group, so only
// the removals count.
func TestServeGuardHoldsTrickledRemovals(t *testing.T) {
	var users []graphemu.User
	env, srv := startServeWith(t, "sync: {deletion_threshold: 5}\n", func(env *reconcileEnv) { users = engineeringUsers(t, env, 12, "sales") })
	eng := env.nick["engineering"]
	removed := 0
	for i, u := range users {
		tid := targetIDOf(env, u)
		held := 0
		if g := guardOf(t, srv).Halt; g != nil {
			held = g.Held
		}
		must(t, env.em.RemoveMember(graphemu.SampleSourceTenant, eng, u.ID))
		// Each removal is its own delta pass: wait until it is applied or
		// held before the next.
		waitfor.WaitFor(t, 20*time.Second, "removal applied or held", func() bool {
			m, _ := mirrorOf(env.em, eng)
			h := guardOf(t, srv).Halt
			return !slices.Contains(m.Members, tid) || (h != nil && h.Held > held)
		})
		if m, _ := mirrorOf(env.em, eng); !slices.Contains(m.Members, tid) {
			removed++
		}
		t.Logf("removal %d: %d applied so far", i+1, removed)
	}
	if removed != 5 {
		t.Errorf("%d removals went through, want the threshold (5)", removed)
	}
	if m, _ := mirrorOf(env.em, eng); len(m.Members) != 7 {
		t.Errorf("mirror has %d members, want the 7 held", len(m.Members))
	}
	if code, out, errOut := xtsync(t, "reconcile", "--config", env.cfg, "--allow-deletions"); code != 0 {
		t.Fatalf("reconcile --allow-deletions: exit %d\n%s\n%s", code, out, errOut)
	}
	if err := verifyMirror(env.em, srv.cfg.Scope.Groups); err != nil {
		t.Error(err)
	}
}
