package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/xtsync/xtsync/internal/waitfor"
	"github.com/xtsync/xtsync/pkg/graphemu"
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

// TestOperatorCommandsWhileServing: with serve running (its notifications
// lost, so only the operator's commands act), `sync --group` runs in serve
// and applies one group; a halt of the deletion guard is shown by
// `approve`, which writes nothing, and applied by `approve --yes`.
func TestOperatorCommandsWhileServing(t *testing.T) {
	var users []graphemu.User
	env, srv := startServeWith(t, "sync: {deletion_threshold: 5}\n", func(env *reconcileEnv) { users = engineeringUsers(t, env, 12, "") })
	src := graphemu.SampleSourceTenant
	must(t, env.em.SetFaults(src, graphemu.Faults{NotifyDropRate: 1}))
	eng, fin := env.nick["engineering"], env.nick["finance"]

	// On demand: one group, in the running serve.
	must(t, env.em.UpdateGroup(src, fin, func(g *graphemu.Group) { g.DisplayName += " (renamed)" }))
	code, out, errs := xtsync(t, "sync", "--config", env.cfg, "--group", fin)
	if code != 0 || !strings.Contains(errs, "sync run by the running xtsync serve") {
		t.Fatalf("sync while serving: exit %d\n%s\n%s", code, out, errs)
	}
	if m, _ := mirrorOf(env.em, fin); !strings.HasSuffix(m.DisplayName, "(renamed)") {
		t.Errorf("finance's mirror is %q, want renamed", m.DisplayName)
	}

	// Empty engineering: the sync of it is held by the guard.
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
	must(t, srv.queue.WaitIdle(context.Background()))
	waitfor.WaitFor(t, 10*time.Second, "converged", func() bool { return verifyMirror(env.em, srv.cfg.Scope.Groups) == nil })
}

// TestUnsubscribeWhileServing: unsubscribe refuses while serve runs (it
// would subscribe again), saying to stop it first, and deletes nothing.
func TestUnsubscribeWhileServing(t *testing.T) {
	env, _ := startServeScope(t, []string{"finance"}, "", nil, nil)
	before := len(env.em.Subscriptions(graphemu.SampleSourceTenant))
	code, _, errs := xtsync(t, "unsubscribe", "--config", env.cfg)
	if code != exitFailure || !strings.Contains(errs, "xtsync serve is running") || !strings.Contains(errs, "stop it") {
		t.Errorf("unsubscribe while serving: exit %d, stderr %q", code, errs)
	}
	if got := len(env.em.Subscriptions(graphemu.SampleSourceTenant)); got != before || got == 0 {
		t.Errorf("subscriptions: %d, want the %d serve made", got, before)
	}
}
