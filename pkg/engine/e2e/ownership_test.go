package e2e_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/xtsync/xtsync/pkg/engine"
	"github.com/xtsync/xtsync/pkg/graphemu"
	"github.com/xtsync/xtsync/pkg/memstore"
)

// routes are the target's request counts of a run, by route.
func (h *harness) routes() map[string]int { return h.em.Stats(dst).Routes }

// linkOf is the link attribute of a target user.
func linkOf(u graphemu.User) string { return u.ExtensionAttributes[engine.DefaultLinkAttribute] }

// Issue 9, state loss: after the state file is lost the target's links
// bring everything back: no group created, no invitation sent, the created
// users re-linked as created (so they are still deprovisioned), and writes
// a small fraction of the first run's.
func TestStateLoss(t *testing.T) {
	h := newHarness(t, allSample, nil)
	h.resetCounts()
	first := h.reconcile(engine.RunOptions{})
	firstWrites := h.em.Stats(dst).Writes()
	if first.Summary.UsersInvited == 0 || firstWrites == 0 {
		t.Fatalf("first run: %+v", first.Summary)
	}
	// Every user xtsync created carries its link; nothing else does.
	created := 0
	for _, u := range h.em.Users(dst) {
		if l := linkOf(u); l != "" {
			created++
			if !strings.HasPrefix(l, "xtsync:"+strings.ToLower(src)+":") {
				t.Errorf("user %s has link %q", u.Mail, l)
			}
		}
	}
	if created != first.Summary.UsersInvited {
		t.Errorf("%d users carry a link, %d were invited", created, first.Summary.UsersInvited)
	}
	groupsBefore, usersBefore := len(h.em.Groups(dst)), len(h.em.Users(dst))

	h.store = memstore.New() // the state file is gone
	h.rebuild()
	h.resetCounts()
	rep := h.reconcile(engine.RunOptions{})
	r := h.routes()
	writes := h.em.Stats(dst).Writes()
	t.Logf("after state loss: %d target writes (first run %d), %d groups adopted, %d users linked, %d matched; routes %v", writes, firstWrites, rep.Summary.GroupsAdopted, rep.Summary.UsersLinked, rep.Summary.UsersMatched, r)
	if r["POST /groups"] != 0 || r["POST /invitations"] != 0 {
		t.Errorf("state loss: %d groups created, %d invitations sent; want none", r["POST /groups"], r["POST /invitations"])
	}
	if float64(writes) > 0.05*float64(firstWrites) {
		t.Errorf("state loss: %d writes, over 5%% of the first run's %d", writes, firstWrites)
	}
	if rep.Summary.UsersLinked != first.Summary.UsersInvited || rep.Summary.GroupsAdopted != first.Summary.GroupsCreated {
		t.Errorf("re-linked %d users (want %d) and adopted %d groups (want %d)", rep.Summary.UsersLinked, first.Summary.UsersInvited, rep.Summary.GroupsAdopted, first.Summary.GroupsCreated)
	}
	if len(h.em.Groups(dst)) != groupsBefore || len(h.em.Users(dst)) != usersBefore {
		t.Errorf("target grew: %d groups (was %d), %d users (was %d)", len(h.em.Groups(dst)), groupsBefore, len(h.em.Users(dst)), usersBefore)
	}
	h.assertMirrored(false)

	// A created user removed from every source group is still deprovisioned.
	adele := sourceUser(t, h.em, "adelev")
	for _, g := range h.em.Groups(src) {
		if slices.Contains(g.Members, adele.ID) {
			must(t, h.em.RemoveMember(src, g.ID, adele.ID))
		}
	}
	rep = h.reconcile(engine.RunOptions{})
	if rep.Summary.UsersDeleted != 1 {
		t.Errorf("deprovisioned %d users, want adele: %+v", rep.Summary.UsersDeleted, rep.Summary)
	}
	for _, u := range h.em.Users(dst) {
		if strings.EqualFold(u.Mail, adele.Mail) {
			t.Errorf("adele's target user %s is still there", u.ID)
		}
	}
}

// Issue 9: a guest an admin invited earlier (a different mail, the source
// address only in otherMails) and a member with the source user's mail are
// matched: never re-invited, never deleted or disabled, whatever
// deprovision_users says.
func TestPreexistingUsersAreNeverTouched(t *testing.T) {
	for _, policy := range []string{engine.DeprovisionDelete, engine.DeprovisionDisable} {
		t.Run(policy, func(t *testing.T) {
			h := newHarness(t, []string{"engineering"}, func(o *engine.Options) { o.DeprovisionUsers = policy })
			eng, _ := h.em.Group(src, groupID(t, h.em, "engineering"))
			var members []graphemu.User
			for _, id := range eng.Members {
				if u, ok := h.em.User(src, id); ok && u.UserType != "Guest" && u.Mail != "" {
					members = append(members, u)
				}
			}
			byOther, byMail := members[0], members[1]
			guest, err := h.em.CreateUser(dst, graphemu.User{
				DisplayName: "Invited by an admin", UserPrincipalName: "someone_partner.example#EXT#@" + graphemu.SampleTargetDomain,
				Mail: "someone@partner.example", OtherMails: []string{strings.ToUpper(byOther.Mail)},
				UserType: "Guest", AccountEnabled: true, CreationType: "Invitation", ExternalUserState: "Accepted",
				Created: time.Now().AddDate(-1, 0, 0),
			})
			must(t, err)
			member, err := h.em.CreateUser(dst, graphemu.User{
				DisplayName: byMail.DisplayName, UserPrincipalName: "preexisting.member@" + graphemu.SampleTargetDomain,
				Mail: byMail.Mail, UserType: "Member", AccountEnabled: true, Created: time.Now().AddDate(-2, 0, 0),
			})
			must(t, err)
			h.resetCounts()
			rep := h.reconcile(engine.RunOptions{})
			if rep.Summary.UsersMatched != 2 || rep.Summary.UsersInvited != len(members)-2 {
				t.Fatalf("matched %d (want 2), invited %d (want %d)", rep.Summary.UsersMatched, rep.Summary.UsersInvited, len(members)-2)
			}
			if n := h.routes()["POST /invitations"]; n != len(members)-2 {
				t.Errorf("%d invitations sent, want %d", n, len(members)-2)
			}
			if mirror, _ := h.targetGroup(eng.ID); !slices.Contains(mirror.Members, guest.ID) || !slices.Contains(mirror.Members, member.ID) || len(mirror.Members) != len(members) {
				t.Errorf("mirror members %v: want the %d source members, the guest %s and the member %s among them", mirror.Members, len(members), guest.ID, member.ID)
			}

			// Both leave every source group: removed from the mirror, and
			// otherwise untouched.
			for _, u := range []graphemu.User{byOther, byMail} {
				for _, g := range h.em.Groups(src) {
					if slices.Contains(g.Members, u.ID) {
						must(t, h.em.RemoveMember(src, g.ID, u.ID))
					}
				}
			}
			rep = h.reconcile(engine.RunOptions{AllowDeletions: true})
			if rep.Summary.UsersDeleted != 0 || rep.Summary.UsersDisabled != 0 {
				t.Errorf("deprovisioned matched users: %+v", rep.Summary)
			}
			for _, want := range []graphemu.User{guest, member} {
				got, ok := h.em.User(dst, want.ID)
				if !ok || !got.AccountEnabled || got.DisplayName != want.DisplayName || linkOf(got) != "" {
					t.Errorf("pre-existing user %s: present %t, enabled %t, name %q, link %q", want.Mail, ok, got.AccountEnabled, got.DisplayName, linkOf(got))
				}
			}
			h.assertMirrored(false)
		})
	}
}

// Issue 9: a user whose mapping says created but whose target user lacks
// the link (a state written by an earlier version, or an edited one) is not
// deleted: the target must prove the ownership.
func TestDeleteNeedsTheLinkOnTheTarget(t *testing.T) {
	h := newHarness(t, []string{"finance"}, nil)
	h.reconcile(engine.RunOptions{})
	fin, _ := h.em.Group(src, groupID(t, h.em, "finance"))
	var victim graphemu.User
	for _, id := range fin.Members {
		if u, ok := h.em.User(src, id); ok && u.UserType != "Guest" {
			victim = u
			break
		}
	}
	var target graphemu.User
	for _, u := range h.em.Users(dst) {
		if strings.EqualFold(u.Mail, victim.Mail) {
			target = u
		}
	}
	must(t, h.em.UpdateUser(dst, target.ID, graphemu.UserUpdate{ExtensionAttributes: map[string]string{engine.DefaultLinkAttribute: ""}}))
	for _, g := range h.em.Groups(src) {
		if slices.Contains(g.Members, victim.ID) {
			must(t, h.em.RemoveMember(src, g.ID, victim.ID))
		}
	}
	rep, err := h.eng.Reconcile(context.Background(), engine.RunOptions{})
	if err != nil || !rep.Failed() || rep.Summary.UsersDeleted != 0 || rep.Summary.MembersRemoved != 1 {
		t.Fatalf("want the removal applied and the delete refused: err %v, %+v", err, rep.Summary)
	}
	if _, ok := h.em.User(dst, target.ID); !ok {
		t.Fatal("a user without the link was deleted")
	}
	// From then on it is matched: the next run plans no delete.
	rep = h.reconcile(engine.RunOptions{})
	if rep.Summary.UsersDeleted != 0 || rep.Failed() {
		t.Errorf("second run: %+v", rep.Summary)
	}
}

// Issue 9: a duplicate mirror (left by an earlier version) is deleted by a
// full reconcile, counted against the deletion guard as the members it
// held.
func TestDuplicateMirrorRemovedWithinTheGuard(t *testing.T) {
	h := newHarness(t, []string{"finance"}, func(o *engine.Options) { o.DeletionThreshold = 3 })
	h.reconcile(engine.RunOptions{})
	fid := groupID(t, h.em, "finance")
	mirror, _ := h.targetGroup(fid)
	dup, err := h.em.CreateGroup(dst, graphemu.Group{DisplayName: mirror.DisplayName, MailNickname: mirror.MailNickname, SecurityEnabled: true, GroupTypes: []string{}, Members: mirror.Members})
	must(t, err)
	rep, err := h.eng.Reconcile(context.Background(), engine.RunOptions{})
	if !errors.Is(err, engine.ErrThreshold) || len(rep.Plan.Held) != 1 || rep.Plan.Held[0].Target != dup.ID {
		t.Fatalf("want the duplicate's delete held (%d members > threshold 3): err %v, held %+v", len(mirror.Members), err, rep.Plan.Held)
	}
	if _, ok := h.em.Group(dst, dup.ID); !ok {
		t.Fatal("held delete applied")
	}
	rep = h.reconcile(engine.RunOptions{AllowDeletions: true})
	if _, ok := h.em.Group(dst, dup.ID); ok || rep.Summary.GroupsDeleted != 1 {
		t.Fatalf("duplicate still there: %+v", rep.Summary)
	}
	if _, ok := h.em.Group(dst, mirror.ID); !ok {
		t.Fatal("the mirror itself was deleted")
	}
	h.assertMirrored(false)
}
