package emf_test

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/xtsync/xtsync/pkg/emf"
	"github.com/xtsync/xtsync/pkg/metrics"
)

var now = time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)

// diff is what happened to a fresh set in do.
func diff(do func(s *metrics.Set)) metrics.Snapshot {
	s := metrics.New()
	before := s.Snapshot()
	do(s)
	return s.Snapshot().Sub(before)
}

// directive is the metadata of a record with dims and defs.
func directive(dims []string, defs ...emf.Definition) emf.Metadata {
	return emf.Metadata{Timestamp: now.UnixMilli(), CloudWatchMetrics: []emf.Directive{{Namespace: "xtsync/Test", Dimensions: [][]string{dims}, Metrics: defs}}}
}

var counters = []emf.Definition{
	{Name: metrics.CWChangesReceived, Unit: "Count"}, {Name: metrics.CWChangesApplied, Unit: "Count"}, {Name: metrics.CWGuardHeld, Unit: "Count"},
	{Name: metrics.CWMirrorRepairs, Unit: "Count"},
}

func graphDefs() []emf.Definition {
	return []emf.Definition{
		{Name: metrics.CWGraphRequests, Unit: "Count"}, {Name: metrics.CWGraphThrottled, Unit: "Count"},
		{Name: metrics.CWGraphRetries, Unit: "Count"}, {Name: metrics.CWGraphWrites, Unit: "Count"},
	}
}

func TestRecords(t *testing.T) {
	tests := []struct {
		name  string
		do    func(s *metrics.Set)
		extra []emf.Value
		want  []emf.Record
	}{
		{name: "nothing happened", do: func(*metrics.Set) {}},
		{
			name: "worker: a mirror pass repairs two mirrors",
			do:   func(s *metrics.Set) { s.MirrorRepairs(2) },
			want: []emf.Record{{AWS: directive([]string{}, counters...), Members: map[string]any{
				metrics.CWChangesReceived: int64(0), metrics.CWChangesApplied: int64(0), metrics.CWGuardHeld: int64(0), metrics.CWMirrorRepairs: int64(2),
			}}},
		},
		{
			name: "webhook: changes received",
			do:   func(s *metrics.Set) { s.ChangesReceived(3) },
			want: []emf.Record{{AWS: directive([]string{}, counters...), Members: map[string]any{
				metrics.CWChangesReceived: int64(3), metrics.CWChangesApplied: int64(0), metrics.CWGuardHeld: int64(0), metrics.CWMirrorRepairs: int64(0),
			}}},
		},
		{
			name: "worker: one change applied, exact latency, Graph per tenant",
			do: func(s *metrics.Set) {
				s.ChangesApplied(1, 1500*time.Millisecond)
				s.GraphRequest("source", "GET", "/groups/delta", 200)
				s.GraphRequest("target", "POST", "/groups/{id}/members/$ref", 204)
				s.GraphRequest("target", "POST", "/groups/{id}/members/$ref", 429)
				s.GraphRetry("target")
				s.GuardHeld()
			},
			want: []emf.Record{
				{AWS: directive([]string{}, append(counters, emf.Definition{Name: metrics.CWChangeLatency, Unit: "Seconds"})...), Members: map[string]any{
					metrics.CWChangesReceived: int64(0), metrics.CWChangesApplied: int64(1), metrics.CWGuardHeld: int64(1), metrics.CWMirrorRepairs: int64(0),
					metrics.CWChangeLatency: []float64{1.5},
				}},
				{AWS: directive([]string{metrics.CWTenant}, graphDefs()...), Members: map[string]any{
					metrics.CWTenant: "source", metrics.CWGraphRequests: int64(1), metrics.CWGraphThrottled: int64(0), metrics.CWGraphRetries: int64(0), metrics.CWGraphWrites: int64(0),
				}},
				{AWS: directive([]string{metrics.CWTenant}, graphDefs()...), Members: map[string]any{
					metrics.CWTenant: "target", metrics.CWGraphRequests: int64(2), metrics.CWGraphThrottled: int64(1), metrics.CWGraphRetries: int64(1), metrics.CWGraphWrites: int64(2),
				}},
			},
		},
		{
			name: "latency in several buckets: upper bounds, overflow from the sum",
			do: func(s *metrics.Set) {
				s.ChangesApplied(2, 200*time.Millisecond) // <= 0.25
				s.ChangesApplied(1, 3*time.Second)        // <= 5
				s.ChangesApplied(1, 400*time.Second)      // > 300
			},
			want: []emf.Record{{AWS: directive([]string{}, append(counters, emf.Definition{Name: metrics.CWChangeLatency, Unit: "Seconds"})...), Members: map[string]any{
				metrics.CWChangesReceived: int64(0), metrics.CWChangesApplied: int64(4), metrics.CWGuardHeld: int64(0), metrics.CWMirrorRepairs: int64(0),
				// 403.4 s in all, 5.5 of them in buckets by their bounds
				metrics.CWChangeLatency: []float64{0.25, 0.25, 5, 403.4 - 5.5},
			}}},
		},
		{
			name:  "reconcile: only extra values",
			do:    func(*metrics.Set) {},
			extra: []emf.Value{emf.Count(metrics.CWReconcileActions, 12), emf.Seconds(metrics.CWSubscriptionExpiry, 48*time.Hour)},
			want: []emf.Record{{AWS: directive([]string{}, append(counters,
				emf.Definition{Name: metrics.CWReconcileActions, Unit: "Count"}, emf.Definition{Name: metrics.CWSubscriptionExpiry, Unit: "Seconds"})...), Members: map[string]any{
				metrics.CWChangesReceived: int64(0), metrics.CWChangesApplied: int64(0), metrics.CWGuardHeld: int64(0), metrics.CWMirrorRepairs: int64(0),
				metrics.CWReconcileActions: float64(12), metrics.CWSubscriptionExpiry: float64(48 * 3600),
			}}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := emf.Records("xtsync/Test", now, diff(tt.do), tt.extra...)
			if err != nil {
				t.Fatal(err)
			}
			if g, w := jsonOf(t, got), jsonOf(t, tt.want); g != w {
				t.Errorf("records\n got %s\nwant %s", g, w)
			}
		})
	}
}

// TestLatencyOverHundredValues checks the specification's 100-value limit:
// further latency values go into records of their own, none lost.
func TestLatencyOverHundredValues(t *testing.T) {
	d := diff(func(s *metrics.Set) { s.ChangesApplied(250, time.Second) })
	recs, err := emf.Records("xtsync/Test", now, d)
	if err != nil {
		t.Fatal(err)
	}
	var sizes []int
	for _, r := range recs {
		vs, _ := r.Members[metrics.CWChangeLatency].([]float64)
		sizes = append(sizes, len(vs))
	}
	if got, want := jsonOf(t, sizes), "[100,100,50]"; got != want {
		t.Errorf("latency values per record %s, want %s", got, want)
	}
	if got := recs[1].Members[metrics.CWChangesApplied]; got != nil {
		t.Errorf("the counters are in a latency-only record too: %v", got)
	}
}

// TestWriteMatchesTheSpecification writes records, parses the lines back
// and checks each against the specification's required structure.
func TestWriteMatchesTheSpecification(t *testing.T) {
	d := diff(func(s *metrics.Set) {
		s.ChangesReceived(2)
		s.ChangesApplied(130, 700*time.Millisecond)
		s.ChangesApplied(1, 20*time.Second)
		s.GraphRequest("source", "GET", "/groups/delta", 200)
		s.GraphRequest("target", "PATCH", "/users/{id}", 429)
	})
	var buf bytes.Buffer
	if err := emf.Write(&buf, "xtsync/Test", now, d, emf.Count(metrics.CWReconcileFailedReads, 1)); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	if len(lines) != 4 { // dimensionless, latency overflow, two tenants
		t.Fatalf("%d lines, want 4:\n%s", len(lines), buf.String())
	}
	values := 0
	for _, l := range lines {
		if err := emf.Validate([]byte(l)); err != nil {
			t.Errorf("%v in %s", err, l)
		}
		r, ok, err := emf.Parse([]byte(l))
		if !ok || err != nil {
			t.Fatalf("Parse(%s) = %v, %v", l, ok, err)
		}
		if r.AWS.Timestamp != now.UnixMilli() || r.AWS.CloudWatchMetrics[0].Namespace != "xtsync/Test" {
			t.Errorf("record stamped %d in %q", r.AWS.Timestamp, r.AWS.CloudWatchMetrics[0].Namespace)
		}
		vs, _ := r.Members[metrics.CWChangeLatency].([]any)
		values += len(vs)
	}
	if values != 131 {
		t.Errorf("%d latency values, want 131", values)
	}
}

// TestValidateRejects checks that Validate finds what the specification
// forbids.
func TestValidateRejects(t *testing.T) {
	for _, line := range []string{
		`not json`,
		`{"a":1}`,
		`{"_aws":{"CloudWatchMetrics":[]}}`,
		`{"_aws":{"Timestamp":1.5,"CloudWatchMetrics":[]}}`,
		`{"_aws":{"Timestamp":1,"CloudWatchMetrics":[{"Namespace":"n","Dimensions":[],"Metrics":[]}]}}`,
		`{"_aws":{"Timestamp":1,"CloudWatchMetrics":[{"Namespace":"n","Dimensions":[["T"]],"Metrics":[]}]}}`,
		`{"_aws":{"Timestamp":1,"CloudWatchMetrics":[{"Namespace":"n","Dimensions":[[]],"Metrics":[{"Name":"M"}]}]}}`,
		`{"_aws":{"Timestamp":1,"CloudWatchMetrics":[{"Namespace":"n","Dimensions":[[]],"Metrics":[{"Name":"M","Unit":"Parsecs"}]}]},"M":1}`,
		`{"_aws":{"Timestamp":1,"CloudWatchMetrics":[{"Namespace":"n","Dimensions":[[]],"Metrics":[{"Name":"M"}]}]},"M":{"Values":[1],"Counts":[2]}}`,
		`{"_aws":{"Timestamp":1,"CloudWatchMetrics":[{"Namespace":"n","Dimensions":[[]],"Metrics":[{"Name":"M"}]}]},"M":[]}`,
		`{"_aws":{"Timestamp":1,"CloudWatchMetrics":[{"Namespace":"","Dimensions":[[]],"Metrics":[{"Name":"M"}]}]},"M":1}`,
		`{"_aws":{"Timestamp":1,"Extra":1,"CloudWatchMetrics":[]}}`,
	} {
		if err := emf.Validate([]byte(line)); err == nil {
			t.Errorf("Validate(%s) = nil", line)
		}
	}
	ok := `{"_aws":{"Timestamp":1,"CloudWatchMetrics":[{"Namespace":"n","Dimensions":[["T"]],"Metrics":[{"Name":"M","Unit":"Count"}]}]},"T":"x","M":[1,2]}`
	if err := emf.Validate([]byte(ok)); err != nil {
		t.Errorf("Validate(%s) = %v", ok, err)
	}
}

// TestWriteNothingAndErrors checks the empty difference and the errors.
func TestWriteNothingAndErrors(t *testing.T) {
	var buf bytes.Buffer
	if err := emf.Write(&buf, "xtsync/Test", now, metrics.Snapshot{}); err != nil || buf.Len() != 0 {
		t.Errorf("empty difference: %v, wrote %q", err, buf.String())
	}
	d := diff(func(s *metrics.Set) { s.ChangesReceived(1) })
	if err := emf.Write(&buf, "", now, d); err == nil {
		t.Error("no error without a namespace")
	}
	if err := emf.Write(&buf, "n", now, d, emf.Count(metrics.CWChangesApplied, 1)); err == nil {
		t.Error("no error for an extra value named like a counter")
	}
}

func jsonOf(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
