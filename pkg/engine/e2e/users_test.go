package e2e_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/xtsync/xtsync/pkg/engine"
	"github.com/xtsync/xtsync/pkg/graphemu"
)

// targetByMail finds the target user with a mail (the target users xtsync
// invited have the source mail).
func (h *harness) targetByMail(mail string) (graphemu.User, bool) {
	for _, u := range h.em.Users(dst) {
		if strings.EqualFold(u.Mail, mail) {
			return u, true
		}
	}
	return graphemu.User{}, false
}

func strp(s string) *string { return &s }
func boolp(b bool) *bool    { return &b }

// Issue 10, reconcile: the users xtsync created follow their source users:
// the mapped attributes set with the link at invitation and kept equal (a
// source change applied, a target edit reverted), sign-in disabled and
// enabled with the source, a deleted source user removed and deprovisioned;
// a matched user is left alone.
func TestUsersFollowTheirSource(t *testing.T) {
	h := newHarness(t, []string{"engineering", "sales"}, nil)
	eng, _ := h.em.Group(src, groupID(t, h.em, "engineering"))
	var us []graphemu.User
	for _, id := range eng.Members {
		if u, ok := h.em.User(src, id); ok && u.UserType != "Guest" && u.Mail != "" {
			us = append(us, u)
		}
	}
	alice, bob, carol, dave := us[0], us[1], us[2], us[3]
	must(t, h.em.UpdateUser(src, alice.ID, graphemu.UserUpdate{JobTitle: strp("Engineer"), Department: strp("R&D"), CompanyName: strp("Contoso"), OfficeLocation: strp("Building 7")}))
	// dave exists in the target already, with other values: matched.
	matched, err := h.em.CreateUser(dst, graphemu.User{DisplayName: "Dave (Fabrikam's own)", UserPrincipalName: "dave.own@" + graphemu.SampleTargetDomain, Mail: dave.Mail, UserType: "Member", AccountEnabled: true, JobTitle: "Fabrikam title", Created: time.Now().AddDate(-1, 0, 0)})
	must(t, err)

	h.reconcile(engine.RunOptions{})
	ta, ok := h.targetByMail(alice.Mail)
	if !ok || ta.JobTitle != "Engineer" || ta.Department != "R&D" || ta.CompanyName != "Contoso" || ta.OfficeLocation != "Building 7" || ta.DisplayName != alice.DisplayName || linkOf(ta) != engine.LinkValue(src, alice.ID) {
		t.Fatalf("alice's target user after the first sync: %+v", ta)
	}

	// Source changes arrive; a target edit is reverted; only what differs
	// is written.
	must(t, h.em.UpdateUser(src, alice.ID, graphemu.UserUpdate{JobTitle: strp("Staff Engineer"), DisplayName: strp("Alice Renamed")}))
	tb, _ := h.targetByMail(bob.Mail)
	must(t, h.em.UpdateUser(dst, tb.ID, graphemu.UserUpdate{GivenName: strp("Hacked")}))
	must(t, h.em.UpdateUser(src, carol.ID, graphemu.UserUpdate{AccountEnabled: boolp(false)}))
	h.resetCounts()
	rep := h.reconcile(engine.RunOptions{})
	if rep.Summary.UsersUpdated != 2 || rep.Summary.UsersDisabled != 1 {
		t.Errorf("updated %d users (want alice and bob), disabled %d (want carol): %+v", rep.Summary.UsersUpdated, rep.Summary.UsersDisabled, rep.Summary)
	}
	if n := h.routes()["PATCH /users/{id}"]; n != 3 {
		t.Errorf("%d user PATCHes, want 3 (alice, bob, carol)", n)
	}
	ta, _ = h.targetByMail(alice.Mail)
	tb, _ = h.targetByMail(bob.Mail)
	tc, _ := h.targetByMail(carol.Mail)
	if ta.JobTitle != "Staff Engineer" || ta.DisplayName != "Alice Renamed" {
		t.Errorf("alice's change did not arrive: %q %q", ta.JobTitle, ta.DisplayName)
	}
	if tb.GivenName != bob.GivenName {
		t.Errorf("bob's target givenName %q, want the source's %q", tb.GivenName, bob.GivenName)
	}
	if tc.AccountEnabled {
		t.Error("carol is disabled in the source but enabled in the target")
	}
	if !slices.Contains(func() []string { m, _ := h.targetGroup(eng.ID); return m.Members }(), tc.ID) {
		t.Error("a disabled source user left the mirror (only sign-in follows)")
	}
	// The matched user is never edited; what differs is reported.
	if got, _ := h.em.User(dst, matched.ID); got.JobTitle != "Fabrikam title" || got.DisplayName != "Dave (Fabrikam's own)" {
		t.Errorf("matched user edited: %+v", got)
	}
	reported := false
	for _, s := range rep.Plan.Skipped {
		reported = reported || (s.Member == dave.ID && strings.Contains(s.Reason, "matched user differs"))
	}
	if !reported {
		t.Errorf("the matched user's differences are not reported: %+v", rep.Plan.Skipped)
	}

	// An unchanged world costs no write.
	h.resetCounts()
	h.reconcile(engine.RunOptions{})
	if w := h.em.Stats(dst).Writes(); w != 0 {
		t.Errorf("no-change reconcile wrote %d times", w)
	}

	// Re-enabled in the source: re-enabled in the target.
	must(t, h.em.UpdateUser(src, carol.ID, graphemu.UserUpdate{AccountEnabled: boolp(true)}))
	rep = h.reconcile(engine.RunOptions{})
	if tc, _ = h.targetByMail(carol.Mail); !tc.AccountEnabled || rep.Summary.UsersEnabled != 1 {
		t.Errorf("carol not re-enabled: %+v", rep.Summary)
	}

	// Deleted in the source: leaves every mirror, deprovisioned (deleted).
	must(t, h.em.DeleteUser(src, alice.ID))
	rep = h.reconcile(engine.RunOptions{})
	if _, ok := h.targetByMail(alice.Mail); ok || rep.Summary.UsersDeleted != 1 {
		t.Errorf("alice deleted in the source is still in the target: %+v", rep.Summary)
	}
	h.assertMirrored(false)
}

// Issue 10: a disabled user reached through a nested group (flattened) is
// disabled like a direct member.
func TestDisabledThroughANestedGroup(t *testing.T) {
	h := newHarness(t, []string{"platform"}, func(o *engine.Options) { o.NestedGroups = engine.NestedFlatten })
	h.reconcile(engine.RunOptions{})
	sre, _ := h.em.Group(src, groupID(t, h.em, "sre"))
	u, _ := h.em.User(src, sre.Members[0])
	must(t, h.em.UpdateUser(src, u.ID, graphemu.UserUpdate{AccountEnabled: boolp(false)}))
	rep := h.reconcile(engine.RunOptions{})
	if tu, _ := h.targetByMail(u.Mail); tu.AccountEnabled || rep.Summary.UsersDisabled != 1 {
		t.Errorf("nested member disabled in the source: target enabled %t, %+v", tu.AccountEnabled, rep.Summary)
	}
}

// Issue 10, identity not address: a source user whose mail and UPN change
// keeps its target user; no second invitation.
func TestUserKeepsItsTargetWhenItsAddressChanges(t *testing.T) {
	h := newHarness(t, []string{"finance"}, nil)
	h.reconcile(engine.RunOptions{})
	fin, _ := h.em.Group(src, groupID(t, h.em, "finance"))
	u, _ := h.em.User(src, fin.Members[0])
	before, _ := h.targetByMail(u.Mail)
	must(t, h.em.UpdateUser(src, u.ID, graphemu.UserUpdate{Mail: strp("renamed." + u.Mail)}))
	h.resetCounts()
	rep := h.reconcile(engine.RunOptions{})
	if n := h.routes()["POST /invitations"]; n != 0 || rep.Summary.UsersInvited != 0 {
		t.Errorf("a changed address cost %d invitations", n)
	}
	tg, _ := h.targetGroup(fin.ID)
	if !slices.Contains(tg.Members, before.ID) || len(h.em.Users(dst)) != len(fin.Members)-countGuests(h, fin.Members) {
		t.Errorf("the mirror lost the user's target %s, or the target grew: %v", before.ID, tg.Members)
	}
}

func countGuests(h *harness, ids []string) int {
	n := 0
	for _, id := range ids {
		if u, ok := h.em.User(src, id); !ok || u.UserType == "Guest" {
			n++
		}
	}
	return n
}
