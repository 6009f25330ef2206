package e2e_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/xtsync/xtsync/pkg/engine"
	"github.com/xtsync/xtsync/pkg/graphemu"
)

var allSample = []string{"engineering", "sales", "finance", "allcompany", "marketing", "remoteworkers", "announcements", "sre", "platform", "partnerproject", "executives"}

// Behaviour 1 and 2: groups of every kind become target security groups with
// their direct user members invited; lists and guests are skipped.
func TestInitialSyncMirrorsScope(t *testing.T) {
	h := newHarness(t, allSample[:10], nil) // not executives: out of scope
	rep := h.reconcile(engine.RunOptions{})
	h.assertMirrored(false)
	if _, ok := h.targetGroup(groupID(t, h.em, "executives")); ok {
		t.Error("out-of-scope group executives was mirrored")
	}
	if _, ok := h.targetGroup(groupID(t, h.em, "announcements")); ok {
		t.Error("distribution list was mirrored")
	}
	reasons := map[string]string{}
	for _, s := range rep.Plan.Skipped {
		reasons[s.Group] += s.Reason + ";"
	}
	if r := reasons[groupID(t, h.em, "announcements")]; !strings.Contains(r, "distribution list") {
		t.Errorf("distribution list skip reason: %q", r)
	}
	if r := reasons[groupID(t, h.em, "platform")]; !strings.Contains(r, "nested group") {
		t.Errorf("nested group skip reason: %q", r)
	}
	if r := reasons[groupID(t, h.em, "partnerproject")]; !strings.Contains(r, "guest") {
		t.Errorf("guest skip reason: %q", r)
	}
	// Invited users: Member type, invitation, pending.
	for _, u := range h.em.Users(dst) {
		if u.CreationType != "Invitation" || u.UserType != "Member" || !strings.Contains(u.UserPrincipalName, "#EXT#") {
			t.Errorf("target user %s: %+v", u.Mail, u)
		}
		if u.Mail == "kim@northwind.com" {
			t.Error("the source guest was provisioned")
		}
	}
	// Target nicknames are unique.
	nicks := map[string]bool{}
	for _, g := range h.em.Groups(dst) {
		if nicks[g.MailNickname] {
			t.Errorf("duplicate mailNickname %s", g.MailNickname)
		}
		nicks[g.MailNickname] = true
	}
	if rep.Summary.GroupsCreated != 9 || rep.Summary.Failures != 0 {
		t.Errorf("summary %+v, want 9 groups created and no failures", rep.Summary)
	}
	// Mappings and provenance are stored.
	users, _ := h.store.List(context.Background(), engine.RecordUser)
	if len(users) != len(h.em.Users(dst)) {
		t.Errorf("user mappings %d, target users %d", len(users), len(h.em.Users(dst)))
	}
	for _, r := range users {
		if !strings.Contains(string(r.Data), `"provenance":"created"`) {
			t.Errorf("mapping %s: %s", r.Key, r.Data)
		}
	}
}

// A missing scoped group is reported, not an error, and counted in the
// summary, on a dry run as on a run.
func TestMissingGroupSkipped(t *testing.T) {
	h := newHarness(t, []string{"sales"}, func(o *engine.Options) {
		o.Scope = append(o.Scope, "0badc0de-0000-4000-8000-000000000000")
	})
	if rep := h.reconcile(engine.RunOptions{DryRun: true}); rep.Summary.Skipped == 0 || rep.Summary.Skipped != len(rep.Plan.Skipped) {
		t.Errorf("dry run: summary.skipped %d, want the %d skipped entries %+v", rep.Summary.Skipped, len(rep.Plan.Skipped), rep.Plan.Skipped)
	}
	rep := h.reconcile(engine.RunOptions{})
	if rep.Summary.Skipped == 0 || rep.Summary.Skipped != len(rep.Plan.Skipped) {
		t.Errorf("summary.skipped %d, want the %d skipped entries %+v", rep.Summary.Skipped, len(rep.Plan.Skipped), rep.Plan.Skipped)
	}
	found := false
	for _, s := range rep.Plan.Skipped {
		if s.Group == "0badc0de-0000-4000-8000-000000000000" && strings.Contains(s.Reason, "not found") {
			found = true
		}
	}
	if !found {
		t.Errorf("missing group not reported: %+v", rep.Plan.Skipped)
	}
	h.assertMirrored(false)
}

// Behaviour 2: existing target users are matched by mail, never invited, and
// recorded as matched.
func TestMatchByMail(t *testing.T) {
	h := newHarness(t, []string{"finance"}, nil)
	fin, _ := h.em.Group(src, groupID(t, h.em, "finance"))
	first, _ := h.em.User(src, fin.Members[0])
	pre, err := h.em.CreateUser(dst, graphemu.User{UserPrincipalName: "pre@fabrikam.onmicrosoft.com", Mail: first.Mail, DisplayName: "Pre-existing", AccountEnabled: true})
	if err != nil {
		t.Fatal(err)
	}
	rep := h.reconcile(engine.RunOptions{})
	h.assertMirrored(false)
	if rep.Summary.UsersMatched != 1 || rep.Summary.UsersInvited != len(fin.Members)-1 {
		t.Errorf("summary %+v", rep.Summary)
	}
	r, err := h.store.Get(context.Background(), engine.RecordUser, first.ID)
	if err != nil || !strings.Contains(string(r.Data), `"provenance":"matched"`) || !strings.Contains(string(r.Data), pre.ID) {
		t.Errorf("mapping of the matched user: %s %v", r.Data, err)
	}
}

// Behaviour 2: flatten puts transitive users in the target group.
func TestFlattenNestedGroups(t *testing.T) {
	h := newHarness(t, []string{"platform"}, func(o *engine.Options) { o.NestedGroups = engine.NestedFlatten })
	h.reconcile(engine.RunOptions{})
	h.assertMirrored(true)
	tg, _ := h.targetGroup(groupID(t, h.em, "platform"))
	if len(tg.Members) != 7 { // 3 direct + 4 from SRE
		t.Errorf("flattened platform has %d members, want 7", len(tg.Members))
	}
}

// Behaviour 3: the source is authoritative.
func TestTargetDriftReverted(t *testing.T) {
	h := newHarness(t, []string{"engineering", "sales"}, nil)
	h.reconcile(engine.RunOptions{})
	eng := groupID(t, h.em, "engineering")
	sales := groupID(t, h.em, "sales")
	tEng, _ := h.targetGroup(eng)
	tSales, _ := h.targetGroup(sales)
	// A rogue member, a removed member, a rename, and a deleted group.
	rogue, _ := h.em.CreateUser(dst, graphemu.User{UserPrincipalName: "rogue@fabrikam.onmicrosoft.com", Mail: "rogue@fabrikam.com", AccountEnabled: true})
	must(t, h.em.AddMember(dst, tEng.ID, rogue.ID))
	must(t, h.em.RemoveMember(dst, tEng.ID, tEng.Members[0]))
	must(t, h.em.UpdateGroup(dst, tEng.ID, func(g *graphemu.Group) { g.DisplayName = "Hacked" }))
	must(t, h.em.DeleteGroup(dst, tSales.ID))

	rep := h.reconcile(engine.RunOptions{})
	h.assertMirrored(false)
	if rep.Summary.GroupsRestored != 1 || rep.Summary.GroupsUpdated < 1 || rep.Summary.MembersRemoved != 1 {
		t.Errorf("summary %+v", rep.Summary)
	}
	if g, ok := h.em.Group(dst, tSales.ID); !ok || len(g.Members) == 0 {
		t.Errorf("sales was not restored under its id: %+v", g)
	}
	if _, ok := h.em.User(dst, rogue.ID); !ok {
		t.Error("a user the tool did not create was deleted")
	}

	// Gone from deleted items too: recreated under a new id.
	tSales, _ = h.targetGroup(sales)
	must(t, h.em.DeleteGroup(dst, tSales.ID))
	c := h.dstC
	_ = c
	if err := purge(h, tSales.ID); err != nil {
		t.Fatal(err)
	}
	rep = h.reconcile(engine.RunOptions{})
	h.assertMirrored(false)
	if rep.Summary.GroupsCreated != 1 {
		t.Errorf("recreate: summary %+v", rep.Summary)
	}
}

// Behaviour 4: removal in the source; deprovisioning only of created users.
func TestSourceRemovalAndDeprovision(t *testing.T) {
	for _, mode := range []string{engine.DeprovisionDelete, engine.DeprovisionDisable, engine.DeprovisionKeep} {
		t.Run(mode, func(t *testing.T) {
			h := newHarness(t, []string{"finance", "executives"}, func(o *engine.Options) { o.DeprovisionUsers = mode })
			fin, _ := h.em.Group(src, groupID(t, h.em, "finance"))
			// A pre-existing target user matched for finance's first member.
			first, _ := h.em.User(src, fin.Members[0])
			matched, _ := h.em.CreateUser(dst, graphemu.User{UserPrincipalName: "m@fabrikam.onmicrosoft.com", Mail: first.Mail, AccountEnabled: true})
			h.reconcile(engine.RunOptions{})
			second, _ := h.em.User(src, fin.Members[1])
			must(t, h.em.RemoveMember(src, fin.ID, first.ID))
			must(t, h.em.RemoveMember(src, fin.ID, second.ID))
			rep := h.reconcile(engine.RunOptions{})
			h.assertMirrored(false)
			if rep.Summary.MembersRemoved != 2 {
				t.Errorf("removed %d", rep.Summary.MembersRemoved)
			}
			// The matched user is never touched.
			if u, ok := h.em.User(dst, matched.ID); !ok || !u.AccountEnabled {
				t.Errorf("matched user deleted or disabled: %+v %t", u, ok)
			}
			var secondTarget graphemu.User
			for _, u := range append(h.em.Users(dst), deletedUsers(h)...) {
				if strings.EqualFold(u.Mail, second.Mail) {
					secondTarget = u
				}
			}
			_, live := h.em.User(dst, secondTarget.ID)
			switch mode {
			case engine.DeprovisionDelete:
				if live {
					t.Error("created user not deleted")
				}
			case engine.DeprovisionDisable:
				if !live || secondTarget.AccountEnabled {
					t.Errorf("created user not disabled: %+v", secondTarget)
				}
			case engine.DeprovisionKeep:
				if !live || !secondTarget.AccountEnabled {
					t.Errorf("created user not kept: %+v", secondTarget)
				}
			}
			// Re-adding the user in the source brings it back.
			must(t, h.em.AddMember(src, fin.ID, second.ID))
			h.reconcile(engine.RunOptions{})
			h.assertMirrored(false)
		})
	}
}

// Behaviour 5: a group leaving scope or deleted in the source.
func TestUnscopedGroups(t *testing.T) {
	for _, mode := range []string{engine.UnscopedDelete, engine.UnscopedKeep} {
		t.Run(mode, func(t *testing.T) {
			h := newHarness(t, []string{"finance", "sales", "executives"}, func(o *engine.Options) { o.UnscopedGroups = mode })
			h.reconcile(engine.RunOptions{})
			fin, sales := groupID(t, h.em, "finance"), groupID(t, h.em, "sales")
			tFin, _ := h.targetGroup(fin)
			tSales, _ := h.targetGroup(sales)
			must(t, h.em.DeleteGroup(src, sales))
			h.opts.Scope = slices.DeleteFunc(slices.Clone(h.opts.Scope), func(s string) bool { return s == fin })
			h.rebuild()
			rep := h.reconcile(engine.RunOptions{})
			_, finLive := h.em.Group(dst, tFin.ID)
			_, salesLive := h.em.Group(dst, tSales.ID)
			if mode == engine.UnscopedDelete && (finLive || salesLive) {
				t.Errorf("delete mode kept groups: finance %t sales %t (%+v)", finLive, salesLive, rep.Summary)
			}
			if mode == engine.UnscopedKeep && (!finLive || !salesLive) {
				t.Errorf("keep mode deleted groups: finance %t sales %t", finLive, salesLive)
			}
			// Either way they are no longer managed.
			if ms, _ := engine.LoadGroupMappings(context.Background(), h.store); len(ms) != 1 {
				t.Errorf("mappings left: %d, want 1 (executives)", len(ms))
			}
		})
	}
}

// Behaviour 6: the deletion threshold.
func TestDeletionThreshold(t *testing.T) {
	h := newHarness(t, []string{"engineering"}, func(o *engine.Options) { o.DeletionThreshold = 5 })
	h.reconcile(engine.RunOptions{})
	eng, _ := h.em.Group(src, groupID(t, h.em, "engineering"))
	for _, m := range eng.Members[:10] {
		must(t, h.em.RemoveMember(src, eng.ID, m))
	}
	before := len(h.em.Users(dst))
	h.resetCounts()
	rep, err := h.eng.Reconcile(context.Background(), engine.RunOptions{})
	// 10 removals and the 10 users they leave in no group: 20 against the
	// guard.
	if !errors.Is(err, engine.ErrThreshold) || !rep.Halted || rep.Plan.Deletions != 20 || len(rep.Plan.Held) != 11 {
		t.Fatalf("want a halt at 20 deletions, 11 actions held: err %v halted %t deletions %d held %d", err, rep != nil && rep.Halted, rep.Plan.Deletions, len(rep.Plan.Held))
	}
	if _, _, writes := h.ops(); writes != 0 || len(h.em.Users(dst)) != before {
		t.Fatalf("a halted run wrote %d times", writes)
	}
	rep, err = h.eng.Reconcile(context.Background(), engine.RunOptions{AllowDeletions: true})
	if err != nil || rep.Summary.UsersDeleted != 10 {
		t.Fatalf("allowed run: %v %+v", err, rep.Summary)
	}
	h.assertMirrored(false)
}

// Behaviour 6: an emptied source group counts its removals against the
// threshold; a failed read removes nothing.
func TestEmptyOrFailedReadIsNotMassRemoval(t *testing.T) {
	h := newHarness(t, []string{"engineering"}, func(o *engine.Options) { o.DeletionThreshold = 5 })
	h.reconcile(engine.RunOptions{})
	eng, _ := h.em.Group(src, groupID(t, h.em, "engineering"))
	tg, _ := h.targetGroup(eng.ID)
	// The source read fails every time.
	must(t, h.em.SetFaults(src, graphemu.Faults{ServerErrorRate: 1}))
	rep, err := h.eng.Reconcile(context.Background(), engine.RunOptions{})
	if err == nil && len(rep.Plan.Failed) == 0 {
		t.Fatalf("failed reads not reported: %+v", rep)
	}
	must(t, h.em.SetFaults(src, graphemu.Faults{}))
	if g, _ := h.em.Group(dst, tg.ID); len(g.Members) != len(tg.Members) {
		t.Fatalf("a failed read removed members: %d -> %d", len(tg.Members), len(g.Members))
	}
	// An emptied group halts.
	for _, m := range eng.Members {
		must(t, h.em.RemoveMember(src, eng.ID, m))
	}
	rep, err = h.eng.Reconcile(context.Background(), engine.RunOptions{})
	if !errors.Is(err, engine.ErrThreshold) {
		t.Fatalf("emptied group: err %v, plan deletions %d", err, rep.Plan.Deletions)
	}
	if g, _ := h.em.Group(dst, tg.ID); len(g.Members) != len(tg.Members) {
		t.Fatalf("an emptied read removed members before the threshold allowed it")
	}
}

// Behaviour 7: an unchanged world costs zero writes; and dry-run writes
// nothing.
func TestSecondRunNoWrites(t *testing.T) {
	h := newHarness(t, allSample, nil)
	dry, err := h.eng.Reconcile(context.Background(), engine.RunOptions{DryRun: true})
	if err != nil || dry.Plan.Empty() {
		t.Fatalf("dry run: %v, %d actions", err, len(dry.Plan.Actions))
	}
	if _, _, writes := h.ops(); writes != 0 || len(h.em.Groups(dst)) != 0 {
		t.Fatalf("dry run wrote %d times", writes)
	}
	h.reconcile(engine.RunOptions{})
	h.resetCounts()
	rep := h.reconcile(engine.RunOptions{})
	srcOps, dstOps, writes := h.ops()
	if writes != 0 || !rep.Plan.Empty() {
		t.Fatalf("second run: %d writes, plan %d actions", writes, len(rep.Plan.Actions))
	}
	t.Logf("no-change reconcile of %d groups: %d source ops, %d target ops", len(allSample), srcOps, dstOps)
}

// Behaviour 10: every applied action is audited.
func TestAuditLog(t *testing.T) {
	h := newHarness(t, []string{"finance"}, nil)
	rep := h.reconcile(engine.RunOptions{})
	entries, err := h.store.Audit(context.Background(), engine.AuditQuery{})
	if err != nil {
		t.Fatal(err)
	}
	fin, _ := h.em.Group(src, groupID(t, h.em, "finance"))
	// Every write is audited as started before it is sent, then with its
	// outcome.
	count := map[string]int{}
	started := map[string]bool{}
	for _, e := range entries {
		key := e.Action + " " + e.Group + " " + e.Source
		if e.Run != rep.Run || e.Time.IsZero() || e.Source == "" {
			t.Errorf("entry %+v", e)
		}
		switch e.Outcome {
		case engine.OutcomeStarted:
			started[key] = true
		case engine.OutcomeOK:
			count[e.Action]++
			if !started[key] {
				t.Errorf("%s: outcome without a started entry before it", key)
			}
		default:
			t.Errorf("entry %+v", e)
		}
	}
	if count["create-group"] != 1 || count["invite-user"] != len(fin.Members) || count["add-members"] != len(fin.Members) {
		t.Errorf("audit counts %v, want 1 create-group and %d invite-user and add-members", count, len(fin.Members))
	}
	byGroup, _ := h.store.Audit(context.Background(), engine.AuditQuery{Group: fin.ID})
	if len(byGroup) == 0 {
		t.Error("no entries for the group")
	}
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
