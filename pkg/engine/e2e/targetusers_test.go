package e2e_test

import (
	"context"
	"testing"

	"github.com/xtsync/xtsync/pkg/engine"
	"github.com/xtsync/xtsync/pkg/graphemu"
	"github.com/xtsync/xtsync/pkg/msgraph"
)

// TestTargetUsersPass: the target users pass puts back what someone
// changed in the target in a user xtsync created (a guest xtsync disabled
// enabled again, a synced attribute edited), recognises xtsync's own
// writes (one read, no write), and leaves alone the users it does not
// keep and those it matched.
func TestTargetUsersPass(t *testing.T) {
	h := newHarness(t, []string{"engineering"}, nil)
	h.eng.WatchTargetUsers(msgraph.NewSource(h.dstC, msgraph.SchemaOf(h.opts)))
	ctx := context.Background()
	h.reconcile(engine.RunOptions{})
	pass := func(what string) (*engine.Report, int, int) {
		t.Helper()
		h.resetCounts()
		rep, err := h.eng.TargetUsers(ctx, engine.RunOptions{Trigger: engine.TriggerTargetUserNotification})
		if err != nil {
			t.Fatalf("target users pass after %s: %v", what, err)
		}
		s, d, w := h.ops()
		return rep, s + d, w
	}
	// The first pass takes the link, and reads nothing else.
	if _, ops, writes := pass("the initial sync"); ops > 2 || writes != 0 {
		t.Errorf("the first pass: %d requests, %d writes; want at most 2 and none", ops, writes)
	}
	if _, ops, writes := pass("nothing"); ops != 1 || writes != 0 {
		t.Errorf("a pass with nothing changed: %d requests, %d writes; want 1 and 0", ops, writes)
	}

	member := syncedMember(t, h, "engineering")
	target, ok := h.targetByMail(member.Mail)
	if !ok {
		t.Fatalf("%s has no target user", member.Mail)
	}

	// xtsync disables the user (disabled in the source): the pass sees its
	// own write, one read and no write.
	must(t, h.em.UpdateUser(src, member.ID, graphemu.UserUpdate{AccountEnabled: boolp(false)}))
	if rep, err := h.eng.UserDelta(ctx, engine.RunOptions{}); err != nil || rep.Summary.UsersDisabled != 1 {
		t.Fatalf("disable: %v %+v", err, rep.Summary)
	}
	if rep, ops, writes := pass("xtsync's disable"); ops != 1 || writes != 0 || len(rep.DriftedUsers) != 0 {
		t.Errorf("after xtsync's own disable: %d requests, %d writes, drifted %v; want 1, 0 and none", ops, writes, rep.DriftedUsers)
	}

	// Someone enables it again in the target: disabled again.
	must(t, h.em.UpdateUser(dst, target.ID, graphemu.UserUpdate{AccountEnabled: boolp(true)}))
	rep, ops, writes := pass("a re-enable")
	t.Logf("the re-enable put back in %d requests, %d writes, routes %v", ops, writes, h.routes())
	if u, _ := h.em.User(dst, target.ID); u.AccountEnabled || rep.Summary.UsersDisabled != 1 {
		t.Fatalf("enabled again in the target: enabled %t after the pass, summary %+v; want disabled again", u.AccountEnabled, rep.Summary)
	}
	if _, ops, writes := pass("the repair"); ops != 1 || writes != 0 {
		t.Errorf("after the repair: %d requests, %d writes; want 1 and 0", ops, writes)
	}

	// Someone edits a synced attribute: put back as the source says.
	must(t, h.em.UpdateUser(dst, target.ID, graphemu.UserUpdate{JobTitle: strp("Chief of everything")}))
	pass("an edited job title")
	if u, _ := h.em.User(dst, target.ID); u.JobTitle != member.JobTitle {
		t.Errorf("job title %q after the pass, want the source's %q", u.JobTitle, member.JobTitle)
	}

	// A user xtsync does not keep: the delta read, nothing else.
	stranger, err := h.em.CreateUser(dst, graphemu.User{UserPrincipalName: "stranger@fabrikam.onmicrosoft.com", Mail: "stranger@fabrikam.com", AccountEnabled: true})
	must(t, err)
	must(t, h.em.UpdateUser(dst, stranger.ID, graphemu.UserUpdate{AccountEnabled: boolp(false)}))
	if _, ops, writes := pass("a stranger's change"); ops != 1 || writes != 0 {
		t.Errorf("a change of a user xtsync does not keep: %d requests, %d writes; want 1 and 0", ops, writes)
	}
	if u, _ := h.em.User(dst, stranger.ID); u.AccountEnabled {
		t.Error("the stranger was enabled")
	}

	// Someone disables in the target a user xtsync created whose source
	// is enabled: an admin's block removes access, and holds (xtsync
	// enables only the users it disabled itself, as the reconcile does).
	eng, _ := h.em.Group(src, groupID(t, h.em, "engineering"))
	var blocked graphemu.User
	for _, id := range eng.Members {
		if u, ok := h.em.User(src, id); ok && id != member.ID && u.UserType != "Guest" && u.Mail != "" && u.AccountEnabled {
			blocked, _ = h.targetByMail(u.Mail)
			break
		}
	}
	if blocked.ID == "" {
		t.Fatal("no second synced member")
	}
	must(t, h.em.UpdateUser(dst, blocked.ID, graphemu.UserUpdate{AccountEnabled: boolp(false)}))
	if _, _, writes := pass("a block in the target"); writes != 0 {
		t.Errorf("a block in the target: %d writes, want none", writes)
	}
	if u, _ := h.em.User(dst, blocked.ID); u.AccountEnabled {
		t.Error("the user blocked in the target was enabled again")
	}
}

// TestTargetUsersPassLeavesMatchedUsers: a user xtsync matched (it existed
// in the target) is never edited: someone disabling it, or renaming it, in
// the target costs the pass its reads and no write.
func TestTargetUsersPassLeavesMatchedUsers(t *testing.T) {
	h := newHarness(t, []string{"finance"}, nil)
	h.eng.WatchTargetUsers(msgraph.NewSource(h.dstC, msgraph.SchemaOf(h.opts)))
	ctx := context.Background()
	fin, _ := h.em.Group(src, groupID(t, h.em, "finance"))
	first, _ := h.em.User(src, fin.Members[0])
	pre, err := h.em.CreateUser(dst, graphemu.User{UserPrincipalName: "pre@fabrikam.onmicrosoft.com", Mail: first.Mail, DisplayName: "Pre-existing", AccountEnabled: true})
	must(t, err)
	if rep := h.reconcile(engine.RunOptions{}); rep.Summary.UsersMatched != 1 {
		t.Fatalf("summary %+v, want the pre-existing user matched", rep.Summary)
	}
	if _, err := h.eng.TargetUsers(ctx, engine.RunOptions{}); err != nil { // takes the link
		t.Fatal(err)
	}
	must(t, h.em.UpdateUser(dst, pre.ID, graphemu.UserUpdate{AccountEnabled: boolp(false), DisplayName: strp("Pre-existing, renamed")}))
	h.resetCounts()
	rep, err := h.eng.TargetUsers(ctx, engine.RunOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, w := h.ops(); w != 0 {
		t.Errorf("the pass wrote %d times to a matched user's change, want none", w)
	}
	if u, _ := h.em.User(dst, pre.ID); u.AccountEnabled || u.DisplayName != "Pre-existing, renamed" {
		t.Errorf("the matched user was edited: enabled %t, name %q", u.AccountEnabled, u.DisplayName)
	}
	if len(rep.DriftedUsers) != 1 {
		t.Errorf("drifted %v, want the matched user's source user looked at", rep.DriftedUsers)
	}
}
