package main

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/xtsync/xtsync/internal/waitfor"
	"github.com/xtsync/xtsync/pkg/graphemu"
	"github.com/xtsync/xtsync/pkg/task"
)

// TestSyncOneGroup: `xtsync sync --group` applies one group's changes and
// leaves the others' for their own runs.
func TestSyncOneGroup(t *testing.T) {
	env := newReconcileEnv(t, []string{"finance", "sales"}, "")
	if code, out, errs := xtsync(t, "reconcile", "--config", env.cfg); code != 0 {
		t.Fatalf("reconcile: exit %d\n%s\n%s", code, out, errs)
	}
	src := graphemu.SampleSourceTenant
	fin, sales := env.nick["finance"], env.nick["sales"]
	for _, gid := range []string{fin, sales} {
		must(t, env.em.UpdateGroup(src, gid, func(g *graphemu.Group) { g.DisplayName += " (renamed)" }))
	}
	code, out, errs := xtsync(t, "sync", "--config", env.cfg, "--group", fin)
	if code != 0 || !strings.Contains(out, "1 updated") {
		t.Fatalf("sync: exit %d\n%s\n%s", code, out, errs)
	}
	if m, _ := mirrorOf(env.em, fin); !strings.HasSuffix(m.DisplayName, "(renamed)") {
		t.Errorf("finance's mirror is %q, want renamed", m.DisplayName)
	}
	if m, _ := mirrorOf(env.em, sales); strings.HasSuffix(m.DisplayName, "(renamed)") {
		t.Errorf("sales' mirror was renamed too: %q", m.DisplayName)
	}

	// Bad input names the flag and the fix, and writes nothing.
	other := env.nick["engineering"]
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"--group", "not-a-guid"}, "is not a group object id"},
		{[]string{"--group", other}, "is not in scope.groups"},
		{nil, "--group is required"},
	} {
		code, _, errs := xtsync(t, append([]string{"sync", "--config", env.cfg}, tt.args...)...)
		if code != exitUsage || !strings.Contains(errs, tt.want) {
			t.Errorf("sync %v: exit %d, stderr %q; want %d naming %q", tt.args, code, errs, exitUsage, tt.want)
		}
	}
}

// TestOperatorCommandsWhileServing: with serve running and applying
// changes (notifications on, sales renamed again and again, Graph
// answering after 20 ms), `sync --group` runs in serve and applies one
// group; explain and audit read while it works; a halt of the deletion
// guard is shown by `approve`, which writes nothing, and applied by
// `approve --yes`.
func TestOperatorCommandsWhileServing(t *testing.T) {
	var users []graphemu.User
	env, srv := startServeWith(t, "sync: {deletion_threshold: 5}\n", func(env *reconcileEnv) { users = engineeringUsers(t, env, 12, "") })
	src, dst := graphemu.SampleSourceTenant, graphemu.SampleTargetTenant
	must(t, srv.queue.WaitIdle(context.Background())) // the start-up reconcile
	must(t, env.em.SetFaults(dst, graphemu.Faults{Latency: graphemu.Duration(20 * time.Millisecond)}))
	eng, fin, sales := env.nick["engineering"], env.nick["finance"], env.nick["sales"]
	churn := make(chan struct{})
	go func() {
		defer close(churn)
		// Each rename after the last one reached the mirror: work in
		// flight all along, paced by serve itself.
		for i := range 15 {
			name := fmt.Sprintf("Sales %d", i)
			_ = env.em.UpdateGroup(src, sales, func(g *graphemu.Group) { g.DisplayName = name })
			if !waitfor.Until(20*time.Second, func() bool { m, _ := mirrorOf(env.em, sales); return m.DisplayName == name }) {
				t.Errorf("the rename to %q did not reach the mirror", name)
				return
			}
		}
	}()
	defer func() { <-churn }()

	// On demand: one group, in the running serve.
	must(t, env.em.UpdateGroup(src, fin, func(g *graphemu.Group) { g.DisplayName += " (renamed)" }))
	code, out, errs := xtsync(t, "sync", "--config", env.cfg, "--group", fin)
	if code != 0 || !strings.Contains(errs, "sync run by the running xtsync serve") {
		t.Fatalf("sync while serving: exit %d\n%s\n%s", code, out, errs)
	}
	if m, _ := mirrorOf(env.em, fin); !strings.HasSuffix(m.DisplayName, "(renamed)") {
		t.Errorf("finance's mirror is %q, want renamed", m.DisplayName)
	}
	if code, out, errs := xtsync(t, "explain", "--config", env.cfg, "--user", users[0].Mail); code != 0 || !strings.Contains(out, "Engineering") {
		t.Errorf("explain while serving: exit %d\n%s\n%s", code, out, errs)
	}
	if code, out, errs := xtsync(t, "audit", "--config", env.cfg, "--group", fin, "--csv"); code != 0 || !strings.Contains(out, "update-group") {
		t.Errorf("audit --csv while serving: exit %d\n%s\n%s", code, out, errs)
	}

	// Empty engineering: serve's delta pass of it, or the operator's sync,
	// is held by the guard.
	for _, u := range users {
		must(t, env.em.RemoveMember(src, eng, u.ID))
	}
	code, _, errs = xtsync(t, "sync", "--config", env.cfg, "--group", eng)
	if code != exitHalted || !strings.Contains(errs, "xtsync approve") {
		t.Fatalf("sync above the threshold: exit %d, stderr %q; want %d naming xtsync approve", code, errs, exitHalted)
	}
	if m, _ := mirrorOf(env.em, eng); len(m.Members) != 12 {
		t.Fatalf("the guard let removals through: mirror has %d members, want 12", len(m.Members))
	}
	if code, out, _ := xtsync(t, "status", "--config", env.cfg); code != 0 || !strings.Contains(out, "HOLDING removals") {
		t.Errorf("status does not show engineering held: exit %d\n%s", code, out)
	}

	// Review: the halt and the plan, nothing written.
	code, out, errs = xtsync(t, "approve", "--config", env.cfg)
	if code != 0 || !strings.Contains(out, "HOLDING") || !strings.Contains(out, "remove-members") || !strings.Contains(out, "approve --config") {
		t.Fatalf("approve: exit %d\n%s\n%s", code, out, errs)
	}
	if m, _ := mirrorOf(env.em, eng); len(m.Members) != 12 {
		t.Fatalf("approve without --yes removed members: mirror has %d, want 12", len(m.Members))
	}
	// Apply.
	code, out, errs = xtsync(t, "approve", "--config", env.cfg, "--yes")
	if code != 0 {
		t.Fatalf("approve --yes: exit %d\n%s\n%s", code, out, errs)
	}
	if m, _ := mirrorOf(env.em, eng); len(m.Members) != 0 {
		t.Errorf("after the approval the mirror has %d members, want 0", len(m.Members))
	}
	if g := guardOf(t, srv); g.Halt != nil {
		t.Errorf("the approval left the halt: %+v", g.Halt)
	}
	code, out, _ = xtsync(t, "approve", "--config", env.cfg)
	if code != 0 || !strings.Contains(out, "nothing to approve") {
		t.Errorf("approve with nothing held: exit %d\n%s", code, out)
	}
	<-churn
	waitfor.WaitFor(t, 20*time.Second, "converged", func() bool {
		return srv.queue.Stats().Pending == 0 && verifyMirror(env.em, srv.cfg.Scope.Groups) == nil
	})
}

// TestUnsubscribeWhileServing: unsubscribe against a running serve deletes
// its subscriptions in it, and they stay off: serve's own subscription
// check makes none, status says so; subscribe makes them again.
func TestUnsubscribeWhileServing(t *testing.T) {
	env, srv := startServeScope(t, []string{"finance"}, "", nil, nil)
	src := graphemu.SampleSourceTenant
	must(t, srv.queue.WaitIdle(context.Background())) // the mirror's subscriptions are made after the run that made it
	before := len(env.em.Subscriptions(src)) + len(env.em.Subscriptions(graphemu.SampleTargetTenant))
	if before != 4 { // finance and the users; finance's mirror and the target's users
		t.Fatalf("serve made %d subscriptions, want 4", before)
	}
	code, out, errs := xtsync(t, "unsubscribe", "--config", env.cfg)
	if code != 0 || !strings.Contains(out, fmt.Sprintf("deleted %d subscription(s)", before)) || !strings.Contains(errs, "unsubscribe run by the running xtsync serve") {
		t.Fatalf("unsubscribe while serving: exit %d\n%s\n%s", code, out, errs)
	}
	// serve's scheduled subscription check, now: it makes none.
	must(t, srv.queue.Enqueue(context.Background(), task.Of(task.Subscriptions, "")))
	must(t, srv.queue.WaitIdle(context.Background()))
	if got := len(env.em.Subscriptions(src)) + len(env.em.Subscriptions(graphemu.SampleTargetTenant)); got != 0 {
		t.Errorf("after the unsubscribe and serve's subscription check Graph has %d subscription(s), want 0", got)
	}
	if code, out, _ := xtsync(t, "status", "--config", env.cfg); code != 0 || !strings.Contains(out, "OFF (xtsync unsubscribe)") {
		t.Errorf("status: exit %d\n%s", code, out)
	}
	code, out, errs = xtsync(t, "subscribe", "--config", env.cfg)
	if code != 0 || !strings.Contains(out, fmt.Sprintf("%d subscription(s) active", before)) {
		t.Fatalf("subscribe while serving: exit %d\n%s\n%s", code, out, errs)
	}
	if got := len(env.em.Subscriptions(src)) + len(env.em.Subscriptions(graphemu.SampleTargetTenant)); got != before {
		t.Errorf("after subscribe Graph has %d subscription(s), want %d", got, before)
	}
}
