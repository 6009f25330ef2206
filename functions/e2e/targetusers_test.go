package e2e_test

import (
	"testing"
	"time"

	"github.com/xtsync/xtsync/internal/waitfor"
	"github.com/xtsync/xtsync/pkg/engine"
	"github.com/xtsync/xtsync/pkg/graphemu"
)

// TestLambdaRepairsTargetUsers: the AWS path watches the target's users
// too. After the scheduled reconcile, a member disabled in the source is
// disabled in the target by the worker (no write by a target users pass
// follows); enabled again there, the webhook function takes the target's
// notification on the users subscription, queues the target users pass,
// and the worker disables the user again, with no reconcile.
func TestLambdaRepairsTargetUsers(t *testing.T) {
	w := newWorld(t)
	w.reconcile()
	w.settle(w.worker)
	fin, _ := w.em.Group(src, w.nick["finance"])
	member, _ := w.em.User(src, fin.Members[0])
	link := engine.LinkValue(src, member.ID)
	var target graphemu.User
	for _, u := range w.em.Users(dst) {
		if u.ExtensionAttributes[engine.DefaultLinkAttribute] == link {
			target = u
		}
	}
	if target.ID == "" {
		t.Fatalf("no target user links %s", member.Mail)
	}
	enabled := func() bool { u, _ := w.em.User(dst, target.ID); return u.AccountEnabled }
	off := false
	must(t, w.em.UpdateUser(src, member.ID, graphemu.UserUpdate{AccountEnabled: &off}))
	waitfor.WaitFor(t, 60*time.Second, "the target user disabled", func() bool {
		w.drain(w.worker)
		return !enabled()
	})
	w.drain(w.worker)
	if n := auditByTrigger(t, w, engine.TriggerTargetUserNotification); n != 0 {
		t.Fatalf("xtsync's own disable made %d writes by a target users pass, want 0", n)
	}

	on := true
	start := time.Now()
	must(t, w.em.UpdateUser(dst, target.ID, graphemu.UserUpdate{AccountEnabled: &on}))
	waitfor.WaitFor(t, 60*time.Second, "the re-enabled user disabled again", func() bool {
		w.drain(w.worker)
		return !enabled()
	})
	t.Logf("a re-enabled guest disabled again under the RIE (webhook, SQS, worker) in %s", time.Since(start).Round(time.Millisecond))
	if n := auditByTrigger(t, w, engine.TriggerTargetUserNotification); n == 0 {
		t.Error("no write by a target users pass: the repair came from elsewhere")
	}
}
