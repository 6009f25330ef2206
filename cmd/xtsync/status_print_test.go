package main

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/xtsync/xtsync/pkg/app"
	"github.com/xtsync/xtsync/pkg/engine"
	"github.com/xtsync/xtsync/pkg/memqueue"
	"github.com/xtsync/xtsync/pkg/task"
	"github.com/xtsync/xtsync/pkg/webhook"
)

// statusFixture is a running serve's status and a stopped one's with a
// halt of the deletion guard, at now.
func statusFixture(now time.Time) (running, halted statusReport) {
	groups := []groupStatus{
		{SourceID: "3f0a3c1e-6d2b-4f7a-9a51-0c8e2b7d4a10", Name: "Finance", Kind: "security", TargetID: "7c2e9b14-3a5d-4e8f-b061-2d4f6a8c0e12", LastSync: now.Add(-90 * time.Second), Members: 12},
		{SourceID: "8b1d5f2a-7c3e-4a9b-8d60-1e2f3a4b5c6d", Name: "Sales", Kind: "dynamic security", TargetID: "1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d", LastSync: now.Add(-2 * time.Hour), Members: 40},
		{SourceID: "5e4d3c2b-1a0f-4e9d-8c7b-6a5f4e3d2c1b"},
		{SourceID: "6f5e4d3c-2b1a-4f0e-9d8c-7b6a5f4e3d2c", Name: "Announcements", Kind: "distribution list", Skipped: "distribution list: Exchange manages its members; not synced"},
	}
	subs := []subStatus{{ID: "b3c4d5e6-f7a8-4b9c-8d0e-1f2a3b4c5d6e", Resource: "/groups", Expires: now.Add(40 * time.Hour)}, {ID: "c4d5e6f7-a8b9-4c0d-9e1f-2a3b4c5d6e7f", Resource: "/groups/0f9e8d7c-6b5a-4938-8271-605f4e3d2c1b", Expires: now.Add(41 * time.Hour), Mirrors: true}}
	guard := guardStatus{Threshold: 500, Window: "1h0m0s", Used: 3}
	running = statusReport{
		Running: true, Groups: groups, Subscriptions: subs, Guard: guard,
		Queue:  &memqueue.Stats{Pending: 1, Running: 2, Retrying: 0, Parked: 1, Processed: 48, Failed: 3},
		Parked: []memqueue.Parked{{Task: task.Of(task.Delta, "3f0a3c1e"), Attempts: 5, ParkedAt: now.Add(-10 * time.Minute), LastError: "add members to 7c2e9b14: 403 Authorization_RequestDenied"}},
		App: &app.Status{
			RouterStatus: app.RouterStatus{ChangesQueued: 51, Lifecycle: 2},
			WorkerStatus: app.WorkerStatus{LastReconcile: now.Add(-30 * time.Minute), LastReconcileRun: "9f8e7d6c5b4a", LastDelta: now.Add(-20 * time.Second), DeltaPasses: 47},
		},
		Webhook: &webhook.Stats{Accepted: 51, Validations: 3, Lifecycle: 2, BadRequests: 1, Rejected: map[string]int64{"client-state": 1}},
	}
	held := slices.Clone(groups)
	held[0].Held = true
	halted = statusReport{Groups: held, SubscriptionsOff: true, Guard: guardStatus{
		Threshold: 5, Window: "1h0m0s", Used: 5,
		Halt: &engine.Halt{Since: now.Add(-5 * time.Minute), Run: "0a1b2c3d4e5f", Planned: 12, Used: 0, Held: 12, Groups: []string{held[0].SourceID}},
	}}
	return running, halted
}

// TestStatusOutput: the status of a running serve and of a stopped one
// with a halt, as an operator reads them (testdata/status-*.golden): no Go
// values, no zero times.
func TestStatusOutput(t *testing.T) {
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	running, halted := statusFixture(now)
	for _, tt := range []struct {
		name string
		r    statusReport
	}{{"status-running.golden", running}, {"status-halted.golden", halted}} {
		t.Run(tt.name, func(t *testing.T) {
			var b strings.Builder
			printStatus(&b, tt.r, now)
			out := b.String()
			if strings.Contains(out, "{") || strings.Contains(out, "0001-01-01") {
				t.Errorf("status prints a Go value or a zero time:\n%s", out)
			}
			golden(t, tt.name, out)
		})
	}
}
