package e2e_test

import (
	"context"
	"strings"
	"testing"

	"github.com/xtsync/xtsync/pkg/engine"
	"github.com/xtsync/xtsync/pkg/graphemu"
)

// TestAuditNamesAndTrigger: every entry of a run carries the run's
// trigger and names, as far as the plan and the state know them, the
// group and the object in each tenant by id and by name: the mirror of a
// created group, the invited users (by display name, not in the detail),
// each member added; a member removed names its source user and its target
// user, a target admin's member only its target user.
func TestAuditNamesAndTrigger(t *testing.T) {
	h := newHarness(t, []string{"finance"}, nil)
	ctx := context.Background()
	fid := groupID(t, h.em, "finance")
	fin, _ := h.em.Group(src, fid)
	if len(fin.Members) < 3 {
		t.Fatalf("finance has %d members, the test needs 3", len(fin.Members))
	}

	// The initial sync.
	rep := h.reconcile(engine.RunOptions{Trigger: engine.TriggerSchedule})
	tg, _ := h.targetGroup(fid)
	targetOf := targetsByMail(h)
	entries := h.runAudit(rep.Run, engine.TriggerSchedule)
	seen := map[string]int{}
	for _, e := range entries {
		seen[e.Action+" "+e.Outcome]++
		switch e.Action {
		case "create-group":
			want := engine.AuditEntry{Group: fid, GroupName: fin.DisplayName, Source: fid, SourceName: fin.DisplayName, TargetName: tg.DisplayName}
			if e.Outcome == engine.OutcomeOK {
				want.Target = tg.ID
			}
			checkNames(t, e, want)
		case "invite-user", "add-members":
			su, ok := h.em.User(src, e.Source)
			if !ok {
				t.Errorf("%s entry names source user %q, not a source user", e.Action, e.Source)
				continue
			}
			mail := strings.ToLower(su.Mail)
			want := engine.AuditEntry{Source: su.ID, SourceName: su.DisplayName, Target: targetOf[mail], TargetName: mail}
			if e.Action == "add-members" {
				want.Group, want.GroupName = fid, fin.DisplayName
			} else if e.Outcome == engine.OutcomeStarted {
				want.Target = "" // not known before the invitation answers
			}
			checkNames(t, e, want)
			if e.Action == "invite-user" && (e.Detail == su.DisplayName || e.Detail == "") {
				t.Errorf("invite-user detail %q: want the reason, not the user's name", e.Detail)
			}
		}
	}
	if seen["create-group ok"] != 1 || seen["invite-user ok"] != len(fin.Members) || seen["add-members ok"] != len(fin.Members) {
		t.Errorf("entries by action and outcome %v, want 1 create-group, %d invite-user and add-members ok", seen, len(fin.Members))
	}

	// A member leaves in the source; a target admin adds an account: a
	// reconcile with no trigger named records Reconcile's.
	gone, _ := h.em.User(src, fin.Members[0])
	must(t, h.em.RemoveMember(src, fid, gone.ID))
	rogue, err := h.em.CreateUser(dst, graphemu.User{UserPrincipalName: "rogue@fabrikam.onmicrosoft.com", Mail: "rogue@fabrikam.com", AccountEnabled: true})
	must(t, err)
	must(t, h.em.AddMember(dst, tg.ID, rogue.ID))
	rep = h.reconcile(engine.RunOptions{})
	goneMail := strings.ToLower(gone.Mail)
	removals := checkRemovals(t, h.runAudit(rep.Run, engine.TriggerReconcile), map[string]engine.AuditEntry{
		targetOf[goneMail]: {Group: fid, GroupName: fin.DisplayName, Source: gone.ID, SourceName: gone.DisplayName, Target: targetOf[goneMail], TargetName: goneMail},
		rogue.ID:           {Group: fid, GroupName: fin.DisplayName, Target: rogue.ID, TargetName: "rogue@fabrikam.com"},
	})
	if removals != 4 {
		t.Errorf("%d remove-members entries, want 4 (started and ok for each member)", removals)
	}

	// A member leaves, applied by a delta pass: its removal and its
	// deprovisioning name it, with the pass's trigger.
	next, _ := h.em.User(src, fin.Members[1])
	must(t, h.em.RemoveMember(src, fid, next.ID))
	rep, err = h.eng.DeltaSync(ctx, engine.RunOptions{Trigger: engine.TriggerNotification})
	must(t, err)
	nextMail := strings.ToLower(next.Mail)
	want := engine.AuditEntry{Source: next.ID, SourceName: next.DisplayName, Target: targetOf[nextMail], TargetName: nextMail}
	entries = h.runAudit(rep.Run, engine.TriggerNotification)
	deleted := 0
	for _, e := range entries {
		if e.Action == "delete-user" {
			deleted++
			checkNames(t, e, want)
		}
	}
	want.Group, want.GroupName = fid, fin.DisplayName
	if n := checkRemovals(t, entries, map[string]engine.AuditEntry{want.Target: want}); n != 2 || deleted != 2 {
		t.Errorf("delta pass: %d remove-members and %d delete-user entries, want 2 of each: %+v", n, deleted, entries)
	}
}

// runAudit returns the audit entries of run, checking that each carries
// trigger.
func (h *harness) runAudit(run, trigger string) []engine.AuditEntry {
	h.t.Helper()
	all, err := h.store.Audit(context.Background(), engine.AuditQuery{})
	if err != nil {
		h.t.Fatal(err)
	}
	var out []engine.AuditEntry
	for _, e := range all {
		if e.Run != run {
			continue
		}
		if e.Trigger != trigger {
			h.t.Errorf("entry %+v: trigger %q, want %q", e, e.Trigger, trigger)
		}
		out = append(out, e)
	}
	if len(out) == 0 {
		h.t.Fatalf("no audit entries of run %s", run)
	}
	return out
}

// targetsByMail maps the target users' mail addresses (lower case) to
// their ids.
func targetsByMail(h *harness) map[string]string {
	out := map[string]string{}
	for _, u := range h.em.Users(dst) {
		out[strings.ToLower(u.Mail)] = u.ID
	}
	return out
}

// checkRemovals checks the remove-members entries of entries against
// want, by target user id, and returns how many there are.
func checkRemovals(t *testing.T, entries []engine.AuditEntry, want map[string]engine.AuditEntry) int {
	t.Helper()
	n := 0
	for _, e := range entries {
		if e.Action != "remove-members" {
			continue
		}
		n++
		w, ok := want[e.Target]
		if !ok {
			t.Errorf("remove-members entry %+v: an unexpected target user", e)
			continue
		}
		checkNames(t, e, w)
	}
	return n
}

// checkNames compares the ids and names of e with want's.
func checkNames(t *testing.T, e, want engine.AuditEntry) {
	t.Helper()
	got := engine.AuditEntry{Group: e.Group, GroupName: e.GroupName, Source: e.Source, SourceName: e.SourceName, Target: e.Target, TargetName: e.TargetName}
	if got != want {
		t.Errorf("%s %s entry names\n got  %+v\n want %+v", e.Action, e.Outcome, got, want)
	}
}
