package stacks

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/xtsync/xtsync/pkg/contract"
	"github.com/xtsync/xtsync/pkg/engine"
	"github.com/xtsync/xtsync/pkg/memstore"
)

// filterTerm is one `$.field = "value"` comparison of a CloudWatch JSON
// filter pattern ("*" at the end of the value matches any suffix).
var filterTerm = regexp.MustCompile(`\$\.([A-Za-z_]+)\s*=\s*"([^"]*)"`)

// matches evaluates a JSON filter pattern made of equality terms joined by
// && (the only kind the stack writes) against one log line.
func matches(pattern string, line map[string]any) bool {
	terms := filterTerm.FindAllStringSubmatch(pattern, -1)
	if len(terms) == 0 || strings.Contains(pattern, "||") {
		return false
	}
	for _, m := range terms {
		v, _ := line[m[1]].(string)
		want := m[2]
		if strings.HasSuffix(want, "*") {
			if !strings.HasPrefix(v, strings.TrimSuffix(want, "*")) {
				return false
			}
		} else if v != want {
			return false
		}
	}
	return true
}

// graphless are engine ports that are never called: the guard needs none.
type (
	noSource struct{ engine.Source }
	noTarget struct{ engine.Target }
)

// TestAlarmsMatchRealLogs feeds the log lines the engine's deletion guard
// really writes (JSON, as the functions log) through the stack's metric
// filters: a held run raises DeletionGuardHolding from either function's
// log group; an approval does not.
func TestAlarmsMatchRealLogs(t *testing.T) {
	s := mainApp(t)
	filters := metricFilters(t, s, s.dep.Sync.Stack)
	var buf bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&buf, nil))
	eng, err := engine.New(noSource{}, noTarget{}, memstore.New(), engine.Options{DeletionThreshold: 5}, log, engine.SystemClock{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := eng.HoldDeletions(ctx, "run1", &engine.Plan{Deletions: 12}); err != nil {
		t.Fatal(err)
	}
	if err := eng.ApproveDeletions(ctx, "run2", 12); err != nil {
		t.Fatal(err)
	}
	lines := jsonLines(t, buf.String())
	if len(lines) != 2 {
		t.Fatalf("the guard logged %d lines, want the hold and the approval: %s", len(lines), buf.String())
	}
	hold, approve := lines[0], lines[1]
	for _, key := range []string{"worker " + DeletionGuardHoldingMetric, "reconcile " + DeletionGuardHoldingMetric} {
		pattern, _, _ := strings.Cut(filters[key], " -> ")
		if !matches(pattern, hold) {
			t.Errorf("filter %s (%q) does not match the guard's hold line %v", key, pattern, hold)
		}
		if matches(pattern, approve) {
			t.Errorf("filter %s (%q) matches the approval line %v", key, pattern, approve)
		}
	}
}

// TestMetricsFromRealLogs feeds the reconcile function's lines, written by
// the functions that write them (pkg/contract), through the stack's metric
// filters: each filter matches its line, and the value it publishes is a
// number of that line.
func TestMetricsFromRealLogs(t *testing.T) {
	s := mainApp(t)
	filters := metricFilters(t, s, s.dep.Sync.Stack)
	var buf bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&buf, nil))
	plan := &engine.Plan{
		Actions: make([]engine.Action, 12), Deletions: 2,
		Failed: []engine.Skip{{Group: "g1"}, {Group: "g2"}, {Group: "g3"}},
	}
	contract.LogPlanned(t.Context(), log, plan)
	contract.LogSubscriptionsFailed(t.Context(), log, errors.New("graph: 403"))
	lines := jsonLines(t, buf.String())
	planned, subsFailed := lines[0], lines[1]
	tests := []struct {
		filter string
		line   map[string]any
		other  map[string]any
		want   float64
	}{
		{"reconcile ReconcileActions", planned, subsFailed, 12},
		{"reconcile ReconcileFailedReads", planned, subsFailed, 3},
		{"reconcile SubscriptionErrors", subsFailed, planned, 1},
	}
	for _, tt := range tests {
		f, ok := filters[tt.filter]
		if !ok {
			t.Errorf("no metric filter %s", tt.filter)
			continue
		}
		pattern, value, _ := strings.Cut(f, " -> ")
		if !matches(pattern, tt.line) {
			t.Errorf("filter %s (%q) does not match its line %v", tt.filter, pattern, tt.line)
		}
		if matches(pattern, tt.other) {
			t.Errorf("filter %s (%q) matches another line %v", tt.filter, pattern, tt.other)
		}
		got, err := metricValue(value, tt.line)
		if err != nil || got != tt.want {
			t.Errorf("filter %s publishes %v (%v) from %v, want %v", tt.filter, got, err, tt.line, tt.want)
		}
	}
}

// metricValue is what a metric filter publishes for a line it matches: a
// literal number, or the number at $.field.
func metricValue(value string, line map[string]any) (float64, error) {
	if field, ok := strings.CutPrefix(value, "$."); ok {
		n, ok := line[field].(float64)
		if !ok {
			return 0, fmt.Errorf("field %s is %v, not a number", field, line[field])
		}
		return n, nil
	}
	return strconv.ParseFloat(value, 64)
}

// jsonLines decodes JSON log lines.
func jsonLines(t *testing.T, text string) []map[string]any {
	t.Helper()
	var lines []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(text), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("log line %q: %v", l, err)
		}
		lines = append(lines, m)
	}
	return lines
}
