package main

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"maps"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/xtsync/xtsync/pkg/config"
	"github.com/xtsync/xtsync/pkg/engine"
	"github.com/xtsync/xtsync/pkg/graphemu"
)

// auditSample is a provisioning log of every shape: a run's invitation,
// creation and members, a removal of a target admin's member (no source
// user), a failure whose error spans lines and a name CSV must quote, a
// deprovisioning, and an entry stored before entries had names and a
// trigger.
func auditSample() []engine.AuditEntry {
	t0 := time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)
	const (
		finance = "d4160cd2-ab43-4441-9b49-ec9ca3aab119"
		mirror  = "e8784799-6b6f-4373-b039-d5adc3617b19"
		patti   = "2b622f4d-8472-4495-82a5-59f107fb9325"
		pattiT  = "0921eb19-5744-4550-9112-0d7e26c346b9"
		adele   = "87d349ed-44d7-43e1-9a83-5f2406dee5bd"
		adeleT  = "5b3a0c3e-1b0f-4f7e-9d0a-2f6f1d1e7c41"
		rogue   = "40d93926-fc9d-4de6-b692-4ddebe964697"
	)
	pattiName, pattiMail := "Patti Fernandez", "pattif@contoso.com"
	return []engine.AuditEntry{
		{Time: t0, Run: "0a1b2c3d4e5f", Action: "add-members", Group: finance, Source: patti, Target: mirror, Outcome: engine.OutcomeOK},
		{Time: t0.Add(time.Hour), Run: "1bd2088c350e", Trigger: engine.TriggerSchedule, Action: "invite-user", Source: patti, SourceName: pattiName, TargetName: pattiMail, Outcome: engine.OutcomeStarted, Detail: "no target user with this address"},
		{Time: t0.Add(time.Hour + 1500*time.Millisecond), Run: "1bd2088c350e", Trigger: engine.TriggerSchedule, Action: "invite-user", Source: patti, SourceName: pattiName, Target: pattiT, TargetName: pattiMail, Outcome: engine.OutcomeOK, Detail: "no target user with this address"},
		{Time: t0.Add(time.Hour + 2*time.Second), Run: "1bd2088c350e", Trigger: engine.TriggerSchedule, Action: "create-group", Group: finance, GroupName: "Finance", Source: finance, SourceName: "Finance", TargetName: "Finance", Outcome: engine.OutcomeStarted},
		{Time: t0.Add(time.Hour + 3*time.Second), Run: "1bd2088c350e", Trigger: engine.TriggerSchedule, Action: "create-group", Group: finance, GroupName: "Finance", Source: finance, SourceName: "Finance", Target: mirror, TargetName: "Finance", Outcome: engine.OutcomeOK},
		{Time: t0.Add(time.Hour + 3*time.Second), Run: "1bd2088c350e", Trigger: engine.TriggerSchedule, Action: "add-members", Group: finance, GroupName: "Finance", Source: patti, SourceName: pattiName, Target: pattiT, TargetName: pattiMail, Outcome: engine.OutcomeOK, Detail: "bound at creation"},
		{Time: t0.Add(2 * time.Hour), Run: "81ff7348187b", Trigger: engine.TriggerNotification, Action: "add-members", Group: finance, GroupName: "Finance", Source: adele, SourceName: `Vance, Adele "AV"`, Target: adeleT, TargetName: "adelev@contoso.com", Outcome: engine.OutcomeFailed, Detail: "graph 403 Forbidden:\n\tAuthorization_RequestDenied"},
		{Time: t0.Add(3 * time.Hour), Run: "aa8fdc0dcb95", Trigger: engine.TriggerReconcile, Action: "remove-members", Group: finance, GroupName: "Finance", Target: rogue, TargetName: "rogue@fabrikam.com", Outcome: engine.OutcomeOK},
		{Time: t0.Add(4 * time.Hour), Run: "c0ffee123456", Trigger: engine.TriggerUserNotification, Action: "delete-user", Source: patti, SourceName: pattiName, Target: pattiT, TargetName: pattiMail, Outcome: engine.OutcomeOK, Detail: "in no synced group"},
	}
}

// TestAuditOutputGolden: the table and the CSV of a fixed log, against
// testdata/audit-*.golden (go test ./cmd/xtsync -run Golden -update
// rewrites them).
func TestAuditOutputGolden(t *testing.T) {
	var table, csvOut bytes.Buffer
	if err := printAuditTable(&table, auditSample()); err != nil {
		t.Fatal(err)
	}
	golden(t, "audit-table.golden", table.String())
	if err := printAuditCSV(&csvOut, auditSample()); err != nil {
		t.Fatal(err)
	}
	golden(t, "audit-csv.golden", csvOut.String())

	// The CSV reads back as every field of every entry.
	rows, err := csv.NewReader(strings.NewReader(csvOut.String())).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(rows[0], auditCSVHeader()) || len(rows) != len(auditSample())+1 {
		t.Fatalf("CSV: header %q and %d rows, want %q and %d", rows[0], len(rows)-1, auditCSVHeader(), len(auditSample()))
	}
	for i, e := range auditSample() {
		if got := csvEntry(t, rows[0], rows[i+1]); got != e {
			t.Errorf("CSV row %d reads back as %+v, want %+v", i+1, got, e)
		}
	}

	var empty bytes.Buffer
	if err := printAuditTable(&empty, nil); err != nil || !strings.Contains(empty.String(), "no audit entries") {
		t.Errorf("empty table: %q, %v", empty.String(), err)
	}
}

// csvEntry decodes one CSV row under header.
func csvEntry(t *testing.T, header, row []string) engine.AuditEntry {
	t.Helper()
	m := map[string]string{}
	for i, h := range header {
		m[h] = row[i]
	}
	tm, err := time.Parse(time.RFC3339Nano, m["time"])
	if err != nil {
		t.Fatalf("CSV time %q: %v", m["time"], err)
	}
	return engine.AuditEntry{
		Time: tm, Run: m["run"], Trigger: m["trigger"], Action: m["action"], Group: m["group"], GroupName: m["groupName"],
		Source: m["source"], SourceName: m["sourceName"], Target: m["target"], TargetName: m["targetName"], Outcome: m["outcome"], Detail: m["detail"],
	}
}

// TestAuditFiltersAfterReconcile runs a real reconcile, then selects by
// user (a mail address, then an id) and by action and outcome, from the
// state file.
func TestAuditFiltersAfterReconcile(t *testing.T) {
	scope := []string{"finance", "sales"}
	env := newReconcileEnv(t, scope, "")
	if code, out, errs := xtsync(t, "reconcile", "--config", env.cfg); code != 0 {
		t.Fatalf("reconcile: exit %d\n%s\n%s", code, out, errs)
	}
	members := syncedMembers(env, scope) // by group id
	fin := env.nick["finance"]
	user, _ := env.em.User(graphemu.SampleSourceTenant, members[fin][0])
	var groupsOf []string
	for gid, ids := range members {
		if slices.Contains(ids, user.ID) {
			groupsOf = append(groupsOf, gid)
		}
	}

	// --user MAIL --csv: the user's invitation and its additions, started
	// and ok, and nothing else.
	code, out, errs := xtsync(t, "audit", "--config", env.cfg, "--user", strings.ToUpper(user.Mail), "--csv")
	if code != 0 {
		t.Fatalf("audit --user --csv: exit %d\n%s", code, errs)
	}
	rows, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if err != nil || len(rows) == 0 {
		t.Fatalf("audit --user --csv: %v\n%s", err, out)
	}
	count := map[string]int{}
	for _, row := range rows[1:] {
		e := csvEntry(t, rows[0], row)
		count[e.Action]++
		invitationSent := e.Action == "invite-user" && e.Outcome == engine.OutcomeStarted // its target not known yet
		if e.Source != user.ID || e.SourceName != user.DisplayName || !strings.EqualFold(e.TargetName, user.Mail) || (e.Target == "") != invitationSent || e.Trigger != engine.TriggerReconcile {
			t.Errorf("audit --user %s: row %+v", user.Mail, e)
		}
		if e.Action == "add-members" && (!slices.Contains(groupsOf, e.Group) || e.GroupName == "") {
			t.Errorf("audit --user %s: add-members row of group %s %q, want one of %v", user.Mail, e.Group, e.GroupName, groupsOf)
		}
	}
	if want := map[string]int{"invite-user": 2, "add-members": 2 * len(groupsOf)}; !maps.Equal(count, want) {
		t.Errorf("audit --user %s: rows by action %v, want %v", user.Mail, count, want)
	}
	// By its source id: the same rows; by its target id: all but the
	// invitation's start (the target user was not known then).
	if _, bySource, _ := xtsync(t, "audit", "--config", env.cfg, "--user", user.ID, "--csv"); bySource != out {
		t.Errorf("audit --user %s selects other rows than --user %s:\n%s\nwant\n%s", user.ID, user.Mail, bySource, out)
	}
	_, byTarget, _ := xtsync(t, "audit", "--config", env.cfg, "--user", targetOf(t, env, user.Mail), "--csv")
	targetRows, _ := csv.NewReader(strings.NewReader(byTarget)).ReadAll()
	var invites []string
	for _, row := range targetRows[1:] {
		if e := csvEntry(t, targetRows[0], row); e.Action == "invite-user" {
			invites = append(invites, e.Outcome)
		}
	}
	if len(targetRows) != len(rows)-1 || !slices.Equal(invites, []string{engine.OutcomeOK}) {
		t.Errorf("audit --user <target id>: %d rows, invite-user outcomes %v; want %d rows and [ok]:\n%s", len(targetRows)-1, invites, len(rows)-2, byTarget)
	}

	// --action add-members --outcome ok --json: one entry per member of
	// each group, and nothing else.
	code, out, errs = xtsync(t, "audit", "--config", env.cfg, "--action", "add-members", "--outcome", "ok", "--json")
	var entries []engine.AuditEntry
	if err := json.Unmarshal([]byte(out), &entries); code != 0 || err != nil {
		t.Fatalf("audit --action --outcome --json: exit %d, %v\n%s\n%s", code, err, out, errs)
	}
	got := map[string][]string{}
	for _, e := range entries {
		if e.Action != "add-members" || e.Outcome != engine.OutcomeOK || e.GroupName == "" || e.SourceName == "" || e.Target == "" || e.TargetName == "" {
			t.Errorf("audit --action add-members --outcome ok: entry %+v", e)
		}
		got[e.Group] = append(got[e.Group], e.Source)
	}
	for gid, want := range members {
		slices.Sort(got[gid])
		if !slices.Equal(got[gid], want) {
			t.Errorf("add-members ok entries of %s: sources %v, want %v", gid, got[gid], want)
		}
	}

	// Nothing matches: an empty JSON list, the table says so.
	if _, out, _ := xtsync(t, "audit", "--config", env.cfg, "--user", "nobody@contoso.com", "--json"); strings.TrimSpace(out) != "[]" {
		t.Errorf("audit of nobody --json: %q, want []", out)
	}
	if _, out, _ := xtsync(t, "audit", "--config", env.cfg, "--until", "2000-01-01T00:00:00Z"); !strings.Contains(out, "no audit entries") {
		t.Errorf("audit --until 2000: %q", out)
	}
	// The table names the user and the group.
	_, out, _ = xtsync(t, "audit", "--config", env.cfg, "--user", user.ID, "--outcome", "ok", "--since", "1h")
	if !strings.Contains(out, "TRIGGER") || !strings.Contains(out, user.DisplayName+" ("+user.ID+")") || !strings.Contains(out, "Finance") {
		t.Errorf("audit table does not name the user and the group:\n%s", out)
	}
}

// syncedMembers are the source users each scoped group's mirror gets
// (not guests, with a mail address), sorted, by group id.
func syncedMembers(env *reconcileEnv, scope []string) map[string][]string {
	out := map[string][]string{}
	for _, nick := range scope {
		g, _ := env.em.Group(graphemu.SampleSourceTenant, env.nick[nick])
		for _, id := range g.Members {
			if u, ok := env.em.User(graphemu.SampleSourceTenant, id); ok && u.UserType != "Guest" && u.Mail != "" {
				out[g.ID] = append(out[g.ID], id)
			}
		}
		slices.Sort(out[g.ID])
	}
	return out
}

// targetOf is the id of the target user with mail.
func targetOf(t *testing.T, env *reconcileEnv, mail string) string {
	t.Helper()
	for _, u := range env.em.Users(graphemu.SampleTargetTenant) {
		if strings.EqualFold(u.Mail, mail) {
			return u.ID
		}
	}
	t.Fatalf("no target user %s", mail)
	return ""
}

// TestAuditBadFlags: a bad filter is a usage error (exit 2) naming the
// flag, and the valid values when there is a list of them.
func TestAuditBadFlags(t *testing.T) {
	tests := []struct {
		args []string
		want []string // each in stderr
	}{
		{[]string{"--csv", "--json"}, []string{"--csv", "--json"}},
		{[]string{"--action", "nope"}, []string{"--action", `"nope"`, "add-members", "remove-members", "invite-user"}},
		{[]string{"--outcome", "maybe"}, []string{"--outcome", `"maybe"`, "started, ok, failed"}},
		{[]string{"--since", "yesterday"}, []string{"--since", "RFC 3339"}},
		{[]string{"--until", "-1h"}, []string{"--until"}},
		{[]string{"--since", "1h", "--until", "2h"}, []string{"--until", "not after --since"}},
		{[]string{"--group", "finance"}, []string{"--group"}},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			code, _, stderr := runCLI(t, append([]string{"audit", "--config", "unused.yaml"}, tt.args...)...)
			if code != exitUsage {
				t.Errorf("exit code %d, want %d; stderr:\n%s", code, exitUsage, stderr)
			}
			for _, w := range tt.want {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr does not name %q:\n%s", w, stderr)
				}
			}
		})
	}
}

// TestAuditQueryTimes: --since and --until take a duration ago or an RFC
// 3339 time.
func TestAuditQueryTimes(t *testing.T) {
	now := time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)
	q, err := auditQuery(url.Values{"since": {"48h"}, "until": {"2026-11-28T09:30:00+01:00"}}, now)
	if err != nil {
		t.Fatal(err)
	}
	if want := now.Add(-48 * time.Hour); !q.Since.Equal(want) {
		t.Errorf("since %v, want %v", q.Since, want)
	}
	if want := time.Date(2026, 11, 28, 8, 30, 0, 0, time.UTC); !q.Until.Equal(want) {
		t.Errorf("until %v, want %v", q.Until, want)
	}
}

// checkServedAudit checks the filters against a running serve (which
// holds the state file, so the CLI must ask it): the start-up
// reconcile's group creations, with its trigger and their names, and one
// user's additions, by mail.
func checkServedAudit(t *testing.T, env *reconcileEnv) {
	t.Helper()
	code, out, errs := xtsync(t, "audit", "--config", env.cfg, "--action", "create-group", "--outcome", "ok", "--since", "1h", "--json")
	var created []engine.AuditEntry
	if err := json.Unmarshal([]byte(out), &created); code != 0 || err != nil || len(created) == 0 {
		t.Fatalf("audit --action create-group --outcome ok while serving: exit %d, %v, %d entries\n%s\n%s", code, err, len(created), out, errs)
	}
	for _, e := range created {
		if e.Action != "create-group" || e.Outcome != engine.OutcomeOK || e.Trigger != engine.TriggerSchedule || e.GroupName == "" || e.Target == "" || e.TargetName == "" {
			t.Errorf("audit --action create-group --outcome ok while serving: entry %+v", e)
		}
	}
	fin := env.nick["finance"]
	user, _ := env.em.User(graphemu.SampleSourceTenant, syncedMembers(env, []string{"finance"})[fin][0])
	// serve's GET /audit filters by itself (the CLI filters its answer
	// again, for a serve of an older version).
	cfg, err := config.Load(env.cfg)
	if err != nil {
		t.Fatal(err)
	}
	var served []engine.AuditEntry
	v := url.Values{"user": {strings.ToUpper(user.Mail)}, "action": {"add-members"}, "outcome": {"ok"}, "until": {"2100-01-01T00:00:00Z"}}
	if running, err := fromServer(t.Context(), cfg, "/audit?"+v.Encode(), &served); !running || err != nil || len(served) == 0 {
		t.Fatalf("GET /audit?%s: running %t, %v, %d entries", v.Encode(), running, err, len(served))
	}
	for _, e := range served {
		if e.Action != "add-members" || e.Outcome != engine.OutcomeOK || e.Source != user.ID {
			t.Errorf("GET /audit?%s answered %+v", v.Encode(), e)
		}
	}
	code, out, errs = xtsync(t, "audit", "--config", env.cfg, "--user", user.Mail, "--action", "add-members", "--group", fin, "--csv")
	rows, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if code != 0 || err != nil || len(rows) < 3 {
		t.Fatalf("audit --user --action --group --csv while serving: exit %d, %v, %d rows (want started and ok)\n%s\n%s", code, err, len(rows)-1, out, errs)
	}
	for _, row := range rows[1:] {
		if e := csvEntry(t, rows[0], row); e.Action != "add-members" || e.Group != fin || e.Source != user.ID || e.SourceName != user.DisplayName {
			t.Errorf("audit --user %s --action add-members --group finance while serving: row %+v", user.Mail, e)
		}
	}
}

// TestAuditCSVKeepsFormulasOut: a name that a spreadsheet would take for a
// formula is written with a leading apostrophe.
func TestAuditCSVKeepsFormulasOut(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"=HYPERLINK(\"x\")", "'=HYPERLINK(\"x\")"}, {"+1", "'+1"}, {"-2", "'-2"}, {"@SUM", "'@SUM"}, {"Adele", "Adele"}, {"", ""},
	} {
		if got := csvText(tt.in); got != tt.want {
			t.Errorf("csvText(%q): got %q, want %q", tt.in, got, tt.want)
		}
	}
}
