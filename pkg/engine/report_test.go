package engine

import (
	"reflect"
	"testing"
)

// TestMergeSkipped adds a second pass's skipped entries and their count to
// the report.
func TestMergeSkipped(t *testing.T) {
	rep := &Report{Plan: &Plan{Skipped: []Skip{{Group: "g1", Reason: "distribution list"}}}, Summary: Summary{Skipped: 1}}
	again := &Report{Plan: &Plan{Skipped: []Skip{{Group: "g2", Member: "u1", Reason: "guest"}, {Group: "g2", Member: "u2", Reason: "guest"}}}, Summary: Summary{Skipped: 2}}
	rep.Merge(again)
	if rep.Summary.Skipped != 3 || len(rep.Plan.Skipped) != 3 {
		t.Errorf("merged: summary.skipped %d, plan %+v, want 3 of each", rep.Summary.Skipped, rep.Plan.Skipped)
	}
}

// TestSummaryLogAttrs: the run done line carries every count, under
// distinct keys, updates included.
func TestSummaryLogAttrs(t *testing.T) {
	s := Summary{GroupsUpdated: 2, UsersUpdated: 3, UsersInvited: 4, Skipped: 5, Failures: 1}
	attrs := s.LogAttrs()
	if len(attrs)%2 != 0 {
		t.Fatalf("odd attribute list: %v", attrs)
	}
	got := map[string]any{}
	for i := 0; i < len(attrs); i += 2 {
		k := attrs[i].(string)
		if _, dup := got[k]; dup {
			t.Errorf("key %q twice", k)
		}
		got[k] = attrs[i+1]
	}
	for k, want := range map[string]int{"updated": 2, "users_updated": 3, "invited": 4, "skipped": 5, "failures": 1, "created": 0} {
		if got[k] != want {
			t.Errorf("%s: got %v, want %d", k, got[k], want)
		}
	}
	if n := reflect.TypeOf(s).NumField(); len(got) != n {
		t.Errorf("%d keys for %d counts", len(got), n)
	}
}
