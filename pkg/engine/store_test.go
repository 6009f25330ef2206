package engine

import (
	"encoding/json"
	"slices"
	"testing"
	"time"
)

func TestAuditQueryMatches(t *testing.T) {
	t0 := time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)
	add := AuditEntry{
		Time: t0, Run: "r1", Trigger: TriggerNotification, Action: "add-members",
		Group: "g-1", GroupName: "Finance", Source: "s-1", SourceName: "Adele Vance",
		Target: "t-1", TargetName: "adele@contoso.com", Outcome: OutcomeOK,
	}
	rogue := AuditEntry{Time: t0, Action: "remove-members", Group: "g-1", Target: "t-9", TargetName: "rogue@fabrikam.com", Outcome: OutcomeFailed}
	tests := []struct {
		name string
		q    AuditQuery
		e    AuditEntry
		want bool
	}{
		{"zero query", AuditQuery{}, add, true},
		{"group", AuditQuery{Group: "g-1"}, add, true},
		{"group, other case", AuditQuery{Group: "G-1"}, add, true},
		{"other group", AuditQuery{Group: "g-2"}, add, false},
		{"user: source id", AuditQuery{User: "s-1"}, add, true},
		{"user: target id", AuditQuery{User: "T-1"}, add, true},
		{"user: source name", AuditQuery{User: "adele vance"}, add, true},
		{"user: target name (a mail address)", AuditQuery{User: "Adele@Contoso.com"}, add, true},
		{"user: the group is not a user", AuditQuery{User: "g-1"}, add, false},
		{"user: the group's name is not a user", AuditQuery{User: "Finance"}, add, false},
		{"user: a part of a name", AuditQuery{User: "adele"}, add, false},
		{"user: the target of an entry without a source", AuditQuery{User: "rogue@fabrikam.com"}, rogue, true},
		{"action", AuditQuery{Action: "add-members"}, add, true},
		{"other action", AuditQuery{Action: "remove-members"}, add, false},
		{"outcome", AuditQuery{Outcome: OutcomeOK}, add, true},
		{"other outcome", AuditQuery{Outcome: OutcomeFailed}, add, false},
		{"since: inclusive", AuditQuery{Since: t0}, add, true},
		{"since: after", AuditQuery{Since: t0.Add(time.Nanosecond)}, add, false},
		{"until: exclusive", AuditQuery{Until: t0}, add, false},
		{"until: after", AuditQuery{Until: t0.Add(time.Nanosecond)}, add, true},
		{"all fields", AuditQuery{Group: "g-1", User: "t-9", Action: "remove-members", Outcome: OutcomeFailed, Since: t0, Until: t0.Add(time.Second)}, rogue, true},
		{"all fields but one", AuditQuery{Group: "g-1", User: "t-9", Action: "remove-members", Outcome: OutcomeOK, Since: t0, Until: t0.Add(time.Second)}, rogue, false},
		{"limit is ignored", AuditQuery{Limit: 1}, add, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.q.Matches(tt.e); got != tt.want {
				t.Errorf("%+v.Matches(%+v) = %t, want %t", tt.q, tt.e, got, tt.want)
			}
		})
	}
}

// TestAuditEntryStoredBefore: an entry stored before the names and the
// trigger existed decodes, with them empty.
func TestAuditEntryStoredBefore(t *testing.T) {
	old := `{"time":"2026-11-01T08:00:00Z","run":"a1b2c3","action":"add-members","group":"g-1","source":"s-1","target":"t-g","outcome":"ok","detail":"bound at creation"}`
	var got AuditEntry
	if err := json.Unmarshal([]byte(old), &got); err != nil {
		t.Fatal(err)
	}
	want := AuditEntry{Time: time.Date(2026, 11, 1, 8, 0, 0, 0, time.UTC), Run: "a1b2c3", Action: "add-members", Group: "g-1", Source: "s-1", Target: "t-g", Outcome: OutcomeOK, Detail: "bound at creation"}
	if !got.Time.Equal(want.Time) {
		t.Fatalf("time %v, want %v", got.Time, want.Time)
	}
	got.Time = want.Time
	if got != want {
		t.Errorf("decoded %+v, want %+v", got, want)
	}
	// And the new fields are omitted when empty: an entry without them
	// encodes as before.
	b, _ := json.Marshal(want)
	if string(b) != old {
		t.Errorf("encoded %s, want %s", b, old)
	}
}

// TestActionKinds: ActionKinds lists every kind the applier orders, in
// that order.
func TestActionKinds(t *testing.T) {
	kinds := ActionKinds()
	if len(kinds) != len(actionOrder) {
		t.Fatalf("%d kinds, %d ordered", len(kinds), len(actionOrder))
	}
	if !slices.IsSortedFunc(kinds, func(a, b ActionKind) int { return actionOrder[a] - actionOrder[b] }) {
		t.Errorf("kinds %v not in the applier's order", kinds)
	}
	for _, k := range kinds {
		if _, ok := actionOrder[k]; !ok {
			t.Errorf("kind %s not ordered", k)
		}
	}
}
