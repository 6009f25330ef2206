package emf

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/xtsync/xtsync/pkg/metrics"
)

// Units of CloudWatch metrics (MetricDatum's StandardUnit values) this
// package writes.
const (
	UnitCount   = "Count"
	UnitSeconds = "Seconds"
)

// Limits of the specification.
const (
	// MaxValues is the most numbers a metric value's array may hold.
	MaxValues = 100
	// MaxMetrics is the most metric definitions a directive may hold.
	MaxMetrics = 100
)

// Value is a one-off metric written with the dimensionless record (the
// reconcile's planned actions, failed reads, subscription expiry).
type Value struct {
	Name  string
	Unit  string
	Value float64
}

// Count is a Value in Count.
func Count(name string, n int) Value { return Value{Name: name, Unit: UnitCount, Value: float64(n)} }

// Seconds is a Value in Seconds.
func Seconds(name string, d time.Duration) Value {
	return Value{Name: name, Unit: UnitSeconds, Value: d.Seconds()}
}

// Record is one EMF document: its metadata and its members (dimension
// values and metric values), as Write writes it and Parse reads it.
type Record struct {
	AWS     Metadata       `json:"_aws"`
	Members map[string]any `json:"-"`
}

// Metadata is the _aws member.
type Metadata struct {
	Timestamp         int64       `json:"Timestamp"`
	CloudWatchMetrics []Directive `json:"CloudWatchMetrics"`
}

// Directive is a MetricDirective.
type Directive struct {
	Namespace  string       `json:"Namespace"`
	Dimensions [][]string   `json:"Dimensions"`
	Metrics    []Definition `json:"Metrics"`
}

// Definition is a MetricDefinition.
type Definition struct {
	Name string `json:"Name"`
	Unit string `json:"Unit,omitempty"`
}

// MarshalJSON writes the metadata and the members at the root.
func (r Record) MarshalJSON() ([]byte, error) {
	root := make(map[string]any, len(r.Members)+1)
	for k, v := range r.Members {
		root[k] = v
	}
	root["_aws"] = r.AWS
	return json.Marshal(root)
}

// Write writes d, a difference of snapshots (Snapshot.Sub), and extra as
// EMF records in namespace, stamped now, one line each, each in one Write
// call. It writes nothing when d counts nothing and there is no extra
// value.
func Write(w io.Writer, namespace string, now time.Time, d metrics.Snapshot, extra ...Value) error {
	recs, err := Records(namespace, now, d, extra...)
	if err != nil {
		return err
	}
	for _, r := range recs {
		b, err := json.Marshal(r)
		if err != nil {
			return fmt.Errorf("emf: encode: %w", err)
		}
		if _, err := w.Write(append(b, '\n')); err != nil {
			return fmt.Errorf("emf: write: %w", err)
		}
	}
	return nil
}

// Records are the records Write writes.
func Records(namespace string, now time.Time, d metrics.Snapshot, extra ...Value) ([]Record, error) {
	if namespace == "" {
		return nil, errors.New("emf: no namespace")
	}
	tenants := d.Tenants()
	latency := latencyValues(d.Latency)
	if d.ChangesReceived == 0 && d.ChangesApplied == 0 && d.GuardHeld == 0 && d.MirrorRepairs == 0 && len(latency) == 0 && len(tenants) == 0 && len(extra) == 0 {
		return nil, nil
	}
	ts := now.UnixMilli()
	rec := func(dims []string) *builder {
		return &builder{rec: Record{
			AWS:     Metadata{Timestamp: ts, CloudWatchMetrics: []Directive{{Namespace: namespace, Dimensions: [][]string{dims}}}},
			Members: map[string]any{},
		}}
	}
	main := rec([]string{})
	main.add(metrics.CWChangesReceived, UnitCount, d.ChangesReceived)
	main.add(metrics.CWChangesApplied, UnitCount, d.ChangesApplied)
	main.add(metrics.CWGuardHeld, UnitCount, d.GuardHeld)
	main.add(metrics.CWMirrorRepairs, UnitCount, d.MirrorRepairs)
	for _, v := range extra {
		if v.Name == "" {
			return nil, errors.New("emf: an extra value has no name")
		}
		if _, dup := main.rec.Members[v.Name]; dup {
			return nil, fmt.Errorf("emf: metric %s twice", v.Name)
		}
		main.add(v.Name, v.Unit, v.Value)
	}
	if len(main.rec.AWS.CloudWatchMetrics[0].Metrics) >= MaxMetrics {
		return nil, fmt.Errorf("emf: more than %d metrics in one record", MaxMetrics-1)
	}
	chunks := chunk(latency, MaxValues)
	if len(chunks) > 0 {
		main.add(metrics.CWChangeLatency, UnitSeconds, chunks[0])
	}
	out := []Record{main.rec}
	for _, c := range chunks[min(1, len(chunks)):] {
		r := rec([]string{})
		r.add(metrics.CWChangeLatency, UnitSeconds, c)
		out = append(out, r.rec)
	}
	for _, t := range tenants {
		r := rec([]string{metrics.CWTenant})
		r.rec.Members[metrics.CWTenant] = t
		r.add(metrics.CWGraphRequests, UnitCount, d.RequestsBy()[t])
		r.add(metrics.CWGraphThrottled, UnitCount, d.Throttled[t])
		r.add(metrics.CWGraphRetries, UnitCount, d.Retries[t])
		r.add(metrics.CWGraphWrites, UnitCount, d.Writes[t])
		out = append(out, r.rec)
	}
	return out, nil
}

// builder adds metrics to a record's one directive.
type builder struct{ rec Record }

func (b *builder) add(name, unit string, value any) {
	dir := &b.rec.AWS.CloudWatchMetrics[0]
	dir.Metrics = append(dir.Metrics, Definition{Name: name, Unit: unit})
	b.rec.Members[name] = value
}

// latencyValues are the histogram's observations, one value each, in
// seconds: the upper bound of each one's bucket (Sum/Count for all when
// they share one bucket). Observations above the last bound are the mean
// of what the sum leaves for them, and at least the last bound.
func latencyValues(h metrics.Histogram) []float64 {
	if h.Count <= 0 {
		return nil
	}
	// per-bucket counts from the cumulative ones; the last is the overflow
	per := make([]int64, len(h.Counts)+1)
	var prev int64
	for i, c := range h.Counts {
		per[i] = c - prev
		prev = c
	}
	per[len(h.Counts)] = h.Count - prev
	nonEmpty := 0
	for _, n := range per {
		if n > 0 {
			nonEmpty++
		}
	}
	out := make([]float64, 0, h.Count)
	if nonEmpty == 1 {
		mean := h.Sum / float64(h.Count)
		for range h.Count {
			out = append(out, mean)
		}
		return out
	}
	var inBuckets float64
	for i, n := range per[:len(h.Bounds)] {
		for range n {
			out = append(out, h.Bounds[i])
			inBuckets += h.Bounds[i]
		}
	}
	if over := per[len(h.Bounds)]; over > 0 {
		v := h.Bounds[len(h.Bounds)-1]
		if rest := (h.Sum - inBuckets) / float64(over); rest > v {
			v = rest
		}
		for range over {
			out = append(out, v)
		}
	}
	return out
}

// chunk splits vs into slices of at most n.
func chunk(vs []float64, n int) [][]float64 {
	var out [][]float64
	for len(vs) > 0 {
		k := min(n, len(vs))
		out = append(out, vs[:k])
		vs = vs[k:]
	}
	return out
}

// Parse reads one line Write wrote; ok is false for a line that is not an
// EMF record (a log line).
func Parse(line []byte) (r Record, ok bool, err error) {
	line = bytes.TrimSpace(line)
	if len(line) == 0 || line[0] != '{' {
		return Record{}, false, nil
	}
	var root map[string]json.RawMessage
	if err := json.Unmarshal(line, &root); err != nil {
		return Record{}, false, nil
	}
	aws, found := root["_aws"]
	if !found {
		return Record{}, false, nil
	}
	if err := json.Unmarshal(aws, &r.AWS); err != nil {
		return Record{}, true, fmt.Errorf("emf: _aws: %w", err)
	}
	r.Members = map[string]any{}
	for k, v := range root {
		if k == "_aws" {
			continue
		}
		var x any
		if err := json.Unmarshal(v, &x); err != nil {
			return Record{}, true, fmt.Errorf("emf: %s: %w", k, err)
		}
		r.Members[k] = x
	}
	return r, true, nil
}
