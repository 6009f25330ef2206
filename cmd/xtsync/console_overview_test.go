package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/xtsync/xtsync/internal/testlog"
	"github.com/xtsync/xtsync/pkg/config"
	"github.com/xtsync/xtsync/pkg/engine"
	"github.com/xtsync/xtsync/pkg/memqueue"
	"github.com/xtsync/xtsync/pkg/metrics"
	"github.com/xtsync/xtsync/pkg/task"
)

// statusBackend is a console backend that only has a status: the
// overview's rendering of it is under test.
type statusBackend struct{ st statusReport }

var _ consoleBackend = statusBackend{}

var errOnlyStatus = errors.New("this backend has only a status")

func (statusBackend) Config() *config.Config { return &config.Config{} }
func (b statusBackend) Status(context.Context) (statusReport, error) {
	return b.st, nil
}
func (statusBackend) Audit(context.Context, url.Values, engine.AuditQuery) ([]engine.AuditEntry, error) {
	return nil, errOnlyStatus
}
func (statusBackend) Explain(context.Context, string, string) (*engine.Explanation, error) {
	return nil, errOnlyStatus
}
func (statusBackend) HeldPlan(context.Context) (*engine.Report, error) { return nil, errOnlyStatus }
func (statusBackend) Approve(context.Context) (string, error)          { return "", errOnlyStatus }
func (statusBackend) Sync(context.Context, string) (string, error)     { return "", errOnlyStatus }
func (statusBackend) Samples() ([]metrics.Sample, bool)                { return nil, false }

// TestOverviewShowsWorkByGroup: serve's queue marks each group with its
// shard's work (queueByGroup), and the overview shows it as text: a
// change waiting as BEHIND with since when, parked work as PARKED with
// its error, else the last change's lag, or "-" before any.
func TestOverviewShowsWorkByGroup(t *testing.T) {
	// Three delta shards of 50: the first waits, the second is parked,
	// the third is in step.
	var scope []string
	for i := range 110 {
		scope = append(scope, fmt.Sprintf("00000000-0000-0000-0000-%012d", i))
	}
	sh := engine.NewSharding(scope)
	ids := []string{scope[0], scope[50], scope[100], scope[101]}
	waiting := time.Now().Add(-90 * time.Second)
	rep := statusReport{
		Groups: []groupStatus{
			{SourceID: ids[0], Name: "Waiting", TargetID: "t-a", LastSync: time.Now(), Members: 3, SourceMembers: 4},
			{SourceID: ids[1], Name: "Parked", TargetID: "t-b", LastSync: time.Now(), Members: 1, SourceMembers: 1},
			{SourceID: ids[2], Name: "Applied", TargetID: "t-c", LastSync: time.Now(), Members: 2, SourceMembers: 2, Lag: 1500 * time.Millisecond},
			{SourceID: ids[3], Name: "Quiet", TargetID: "t-d", LastSync: time.Now(), Members: 2, SourceMembers: 5},
		},
		Parked: []memqueue.Parked{{Task: task.Of(task.Delta, sh.ShardOf(ids[1])), Attempts: 5, LastError: "read group delta: 503"}},
	}
	behind := map[task.Task]time.Time{task.Of(task.Delta, sh.ShardOf(ids[0])): waiting}
	queueByGroup(rep, sh, behind)

	c, err := newConsole(statusBackend{rep}, testlog.New(t, slog.LevelInfo))
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	c.routes(mux)
	w := httptest.NewRecorder()
	mux.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/", nil))
	if w.Code != http.StatusOK {
		t.Fatalf("overview: %d\n%s", w.Code, w.Body)
	}
	rows := overviewRows(w.Body.String())
	tests := []struct {
		group, cell, want string
	}{
		{ids[0], "lag", "WAITING 1m30s: its delta pass has changes queued since " + consoleTime(waiting)},
		{ids[0], "source-members", "4"},
		{ids[0], "members", "3"},
		{ids[1], "note", "PARKED: read group delta: 503"},
		{ids[1], "lag", "-"},
		{ids[2], "lag", "1.5s (the last change)"},
		{ids[2], "note", ""},
		{ids[3], "lag", "-"},
	}
	for _, tt := range tests {
		if got := rows[tt.group][tt.cell]; got != tt.want {
			t.Errorf("%s of %s: got %q, want %q", tt.cell, rows[tt.group]["name"], got, tt.want)
		}
	}
	if !strings.Contains(w.Body.String(), "<strong>WAITING") || !strings.Contains(w.Body.String(), "<strong>PARKED") {
		t.Error("WAITING and PARKED are not marked strong")
	}
}
