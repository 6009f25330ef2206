package e2e_test

import (
	"context"
	"testing"

	"github.com/xtsync/xtsync/pkg/engine"
	"github.com/xtsync/xtsync/pkg/graphemu"
)

// Issue 10, in seconds and cheaply: a users delta pass applies a source
// user's change to its target user in at most 3 operations, and a change
// of a user xtsync does not map costs the delta read only.
func TestUserDeltaPass(t *testing.T) {
	h := newHarness(t, []string{"engineering"}, nil)
	ctx := context.Background()
	h.reconcile(engine.RunOptions{}) // takes the users delta link first
	member := syncedMember(t, h, "engineering")
	var outsider graphemu.User
	for _, u := range h.em.Users(src) {
		if _, mapped := h.targetByMail(u.Mail); !mapped && u.UserType != "Guest" {
			outsider = u
			break
		}
	}

	// A non-member's change: one read, no write.
	must(t, h.em.UpdateUser(src, outsider.ID, graphemu.UserUpdate{JobTitle: strp("Somebody else")}))
	h.resetCounts()
	if _, err := h.eng.UserDelta(ctx, engine.RunOptions{}); err != nil {
		t.Fatal(err)
	}
	if s, d, w := h.ops(); s+d > 1 || w != 0 {
		t.Errorf("a non-member's change cost %d operations and %d writes, want 1 and 0", s+d, w)
	}

	// A member's new job title: at most 3 operations.
	must(t, h.em.UpdateUser(src, member.ID, graphemu.UserUpdate{JobTitle: strp("Principal")}))
	h.resetCounts()
	rep, err := h.eng.UserDelta(ctx, engine.RunOptions{})
	if err != nil {
		t.Fatal(err)
	}
	s, d, w := h.ops()
	t.Logf("one user change: %d operations (%d writes), routes %v %v", s+d, w, h.em.Stats(src).Routes, h.routes())
	if tu, _ := h.targetByMail(member.Mail); tu.JobTitle != "Principal" || rep.Summary.UsersUpdated != 1 {
		t.Fatalf("the change did not arrive: %q, %+v", tu.JobTitle, rep.Summary)
	}
	if s+d > 3 || w != 1 {
		t.Errorf("one user change cost %d operations, %d writes; budget 3 and 1", s+d, w)
	}

	// Disabled in the source: disabled in the target (counted by the guard).
	must(t, h.em.UpdateUser(src, member.ID, graphemu.UserUpdate{AccountEnabled: boolp(false)}))
	if rep, err = h.eng.UserDelta(ctx, engine.RunOptions{}); err != nil || rep.Summary.UsersDisabled != 1 {
		t.Fatalf("disable: %v %+v", err, rep.Summary)
	}
	if tu, _ := h.targetByMail(member.Mail); tu.AccountEnabled {
		t.Error("disabled in the source, enabled in the target")
	}

	// An expired link: every mapped user is read again (15 per request),
	// and what changed meanwhile applied.
	must(t, h.em.UpdateUser(src, member.ID, graphemu.UserUpdate{Department: strp("After expiry")}))
	must(t, h.em.ExpireDeltaTokens(src))
	if rep, err = h.eng.UserDelta(ctx, engine.RunOptions{}); err != nil || rep.Summary.UsersUpdated != 1 {
		t.Fatalf("after an expired link: %v %+v", err, rep.Summary)
	}
	if tu, _ := h.targetByMail(member.Mail); tu.Department != "After expiry" {
		t.Errorf("department %q after the expired link's full pass", tu.Department)
	}

	// Deleted in the source: removed from the mirror and deprovisioned.
	must(t, h.em.DeleteUser(src, member.ID))
	if rep, err = h.eng.UserDelta(ctx, engine.RunOptions{}); err != nil || rep.Summary.UsersDeleted != 1 || rep.Summary.MembersRemoved != 1 {
		t.Fatalf("delete: %v %+v", err, rep.Summary)
	}
	if _, ok := h.targetByMail(member.Mail); ok {
		t.Error("a user deleted in the source is still in the target")
	}
	h.assertMirrored(false)
}

// Issue 10: without a stored users delta link (the AWS reconcile only
// plans, so it takes none), the first users pass reads every mapped user
// once and applies what differs, then keeps the link.
func TestUserDeltaWithoutALink(t *testing.T) {
	h := newHarness(t, []string{"finance"}, nil)
	ctx := context.Background()
	h.reconcile(engine.RunOptions{})
	rec, err := h.store.Get(ctx, engine.RecordDelta, "users")
	must(t, err)
	must(t, h.store.Delete(ctx, engine.RecordDelta, "users", rec.Version))
	fin, _ := h.em.Group(src, groupID(t, h.em, "finance"))
	u, _ := h.em.User(src, fin.Members[0])
	must(t, h.em.UpdateUser(src, u.ID, graphemu.UserUpdate{JobTitle: strp("Controller")}))
	rep, err := h.eng.UserDelta(ctx, engine.RunOptions{})
	if err != nil || rep.Summary.UsersUpdated != 1 {
		t.Fatalf("first users pass: %v %+v", err, rep.Summary)
	}
	if tu, _ := h.targetByMail(u.Mail); tu.JobTitle != "Controller" {
		t.Errorf("job title %q, want Controller", tu.JobTitle)
	}
	if _, err := h.store.Get(ctx, engine.RecordDelta, "users"); err != nil {
		t.Errorf("no users delta link kept: %v", err)
	}
}
