package engine

import "testing"

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
