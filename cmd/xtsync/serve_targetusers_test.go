package main

import (
	"context"
	"testing"
	"time"

	"github.com/xtsync/xtsync/internal/waitfor"
	"github.com/xtsync/xtsync/pkg/engine"
	"github.com/xtsync/xtsync/pkg/graphemu"
)

// linkedUser is the target user carrying source user sourceID's link.
func linkedUser(t *testing.T, em *graphemu.Emulator, sourceID string) graphemu.User {
	t.Helper()
	u, ok := em.User(graphemu.SampleTargetTenant, targetUserOf(em, sourceID))
	if !ok {
		t.Fatalf("no target user links %s", sourceID)
	}
	return u
}

// TestServeRepairsTargetUsersInSeconds: with the reconcile an hour away, a
// guest xtsync disabled (its source user was disabled) that someone enables
// again in the target is disabled again by serve within seconds of the
// target's change notification, and a synced attribute edited there is
// put back; xtsync's own user writes cause no write of a target users
// pass.
func TestServeRepairsTargetUsersInSeconds(t *testing.T) {
	env, srv := startServeScope(t, []string{"finance"}, "", nil, nil)
	ctx := context.Background()
	must(t, srv.queue.WaitIdle(ctx))
	src, dst := graphemu.SampleSourceTenant, graphemu.SampleTargetTenant
	lastReconcile := srv.local.Status().LastReconcile
	fin, _ := env.em.Group(src, env.nick["finance"])
	member, _ := env.em.User(src, fin.Members[0])
	target := linkedUser(t, env.em, member.ID)

	// Disabled in the source: serve disables the target user; its own
	// write makes no write of a target users pass.
	must(t, env.em.UpdateUser(src, member.ID, graphemu.UserUpdate{AccountEnabled: boolp(false)}))
	waitfor.WaitFor(t, 20*time.Second, "the target user disabled", func() bool {
		u, _ := env.em.User(dst, target.ID)
		return !u.AccountEnabled
	})
	must(t, srv.queue.WaitIdle(ctx))
	if n := auditCount(t, srv, engine.TriggerTargetUserNotification); n != 0 {
		t.Fatalf("xtsync's own disable made %d writes by a target users pass, want 0", n)
	}

	// Enabled again in the target: disabled again.
	start := time.Now()
	must(t, env.em.UpdateUser(dst, target.ID, graphemu.UserUpdate{AccountEnabled: boolp(true)}))
	waitfor.WaitFor(t, 20*time.Second, "the re-enabled user disabled again", func() bool {
		u, _ := env.em.User(dst, target.ID)
		return !u.AccountEnabled
	})
	reenabled := time.Since(start)

	// A synced attribute edited in the target: put back.
	must(t, srv.queue.WaitIdle(ctx))
	start = time.Now()
	must(t, env.em.UpdateUser(dst, target.ID, graphemu.UserUpdate{Department: strp("Edited in the target")}))
	waitfor.WaitFor(t, 20*time.Second, "the edited department put back", func() bool {
		u, _ := env.em.User(dst, target.ID)
		return u.Department == member.Department
	})
	edited := time.Since(start)
	t.Logf("target user repairs: re-enabled guest disabled again in %s, edited attribute put back in %s", reenabled.Round(time.Millisecond), edited.Round(time.Millisecond))

	must(t, srv.queue.WaitIdle(ctx))
	if n := auditCount(t, srv, engine.TriggerTargetUserNotification); n < 2 {
		t.Errorf("%d audited writes by target users passes, want the disable and the update", n)
	}
	if got := srv.local.Status().LastReconcile; !got.Equal(lastReconcile) {
		t.Errorf("a reconcile ran (%s), want the repairs by target users passes alone", got)
	}
}

func boolp(b bool) *bool    { return &b }
func strp(s string) *string { return &s }
