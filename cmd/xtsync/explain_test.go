package main

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/xtsync/xtsync/pkg/engine"
	"github.com/xtsync/xtsync/pkg/graphemu"
)

// TestExplainUser: after a reconcile a user is explained by mail: mapped,
// created by xtsync, in its groups, the invitation audited, nothing next;
// once removed from a group in the source, the next run's removal is
// shown, and --group reads that the source no longer lists them; by serve
// too, while it runs.
func TestExplainUser(t *testing.T) {
	env, _ := startServeScope(t, []string{"finance", "sales"}, "", nil, nil)
	src := graphemu.SampleSourceTenant
	fin := env.nick["finance"]
	g, _ := env.em.Group(src, fin)
	var u graphemu.User
	for _, id := range g.Members {
		if su, ok := env.em.User(src, id); ok && su.UserType != "Guest" {
			u = su
			break
		}
	}
	code, out, errs := xtsync(t, "explain", "--config", env.cfg, "--user", u.Mail)
	if code != 0 {
		t.Fatalf("explain: exit %d\n%s\n%s", code, out, errs)
	}
	for _, want := range []string{"source user " + u.ID, "(created)", "Finance", "invite-user", "in step: the next run would change nothing"} {
		if !strings.Contains(out, want) {
			t.Errorf("explain lacks %q:\n%s", want, out)
		}
	}

	// Lost notifications: the removal waits for the next run, which
	// explain shows.
	must(t, env.em.SetFaults(src, graphemu.Faults{NotifyDropRate: 1}))
	must(t, env.em.RemoveMember(src, fin, u.ID))
	code, out, errs = xtsync(t, "explain", "--config", env.cfg, "--user", u.ID, "--group", fin, "--json")
	if code != 0 {
		t.Fatalf("explain --json: exit %d\n%s\n%s", code, out, errs)
	}
	var x engine.Explanation
	must(t, json.Unmarshal([]byte(out), &x))
	removal := false
	for _, a := range x.Next {
		removal = removal || (a.Kind == engine.ActRemoveMembers && a.Group == fin)
	}
	if !removal {
		t.Errorf("next actions %+v: want the removal from finance", x.Next)
	}
	member := true
	for _, eg := range x.Groups {
		if eg.SourceID == fin && eg.Member != nil {
			member = *eg.Member
		}
	}
	if member {
		t.Errorf("groups %+v: want finance read as not listing the user", x.Groups)
	}
	// Explain wrote nothing: the mirror still holds the user.
	if m, _ := mirrorOf(env.em, fin); len(m.Members) != len(g.Members)-countGuests(env.em, g.Members) {
		t.Errorf("explain changed the mirror: %d members, want %d", len(m.Members), len(g.Members)-countGuests(env.em, g.Members))
	}

	// Bad input.
	if code, _, errs := xtsync(t, "explain", "--config", env.cfg); code != exitUsage || !strings.Contains(errs, "--user is required") {
		t.Errorf("explain without --user: exit %d %q", code, errs)
	}
	if code, _, errs := xtsync(t, "explain", "--config", env.cfg, "--user", u.Mail, "--group", env.nick["engineering"]); code != exitUsage || !strings.Contains(errs, "not in scope.groups") {
		t.Errorf("explain --group out of scope: exit %d %q", code, errs)
	}
}

func countGuests(em *graphemu.Emulator, ids []string) int {
	n := 0
	for _, id := range ids {
		if u, ok := em.User(graphemu.SampleSourceTenant, id); !ok || u.UserType == "Guest" {
			n++
		}
	}
	return n
}

// TestExplainGolden: the text of an explanation (testdata/explain.golden).
func TestExplainGolden(t *testing.T) {
	at := time.Date(2026, 12, 1, 11, 0, 0, 0, time.UTC)
	yes, no := true, false
	x := &engine.Explanation{
		Query:   "adelev@contoso.com",
		Source:  &engine.Member{ID: "4f8c2a1e-9b3d-4e7f-8a6c-1d2e3f4a5b6c", Type: engine.TypeUser, DisplayName: "Adele Vance", Mail: "adelev@contoso.com"},
		Mapping: &engine.UserMapping{SourceID: "4f8c2a1e-9b3d-4e7f-8a6c-1d2e3f4a5b6c", TargetID: "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d", Mail: "adelev@contoso.com", Provenance: engine.Created, Groups: []string{"3f0a3c1e-6d2b-4f7a-9a51-0c8e2b7d4a10"}},
		Target:  &engine.User{ID: "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d", DisplayName: "Adele Vance", Mail: "adelev@contoso.com", UserType: "Member", AccountEnabled: true, Created: at},
		Groups: []engine.ExplainedGroup{
			{SourceID: "3f0a3c1e-6d2b-4f7a-9a51-0c8e2b7d4a10", Name: "Finance", TargetID: "7c2e9b14-3a5d-4e8f-b061-2d4f6a8c0e12", Member: &no},
			{SourceID: "8b1d5f2a-7c3e-4a9b-8d60-1e2f3a4b5c6d", Name: "Sales", Member: &yes},
		},
		Audit: []engine.AuditEntry{
			{Time: at, Run: "1a2b3c4d5e6f", Action: "invite-user", Source: "4f8c2a1e-9b3d-4e7f-8a6c-1d2e3f4a5b6c", Target: "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d", Outcome: engine.OutcomeOK},
			{Time: at.Add(time.Second), Run: "1a2b3c4d5e6f", Action: "add-members", Group: "3f0a3c1e-6d2b-4f7a-9a51-0c8e2b7d4a10", Outcome: engine.OutcomeOK},
		},
		Next:    []engine.Action{{Kind: engine.ActRemoveMembers, Group: "3f0a3c1e-6d2b-4f7a-9a51-0c8e2b7d4a10", GroupName: "Finance", Users: []string{"9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d"}}},
		Skipped: []engine.Skip{{Group: "8b1d5f2a-7c3e-4a9b-8d60-1e2f3a4b5c6d", Name: "Sales", Member: "4f8c2a1e-9b3d-4e7f-8a6c-1d2e3f4a5b6c", Reason: "matched user differs from the source in displayName: not edited (xtsync did not create it)"}},
		Notes:   []string{"created by xtsync (invited; the target user carries xtsync's link marker in extensionAttribute15): xtsync keeps it in step, and may disable or delete it per sync.deprovision_users"},
	}
	var b strings.Builder
	printExplain(&b, x)
	golden(t, "explain.golden", b.String())
}
