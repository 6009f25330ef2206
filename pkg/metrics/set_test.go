package metrics_test

import (
	"testing"
	"time"

	"github.com/xtsync/xtsync/pkg/metrics"
)

func TestSetCountsAndDifferences(t *testing.T) {
	s := metrics.New()
	s.ChangesReceived(3)
	s.ChangesApplied(2, 400*time.Millisecond)
	s.GraphRequest("target", "POST", "/$batch", 200)
	s.GraphRequest("target", "POST", "/$batch", 429)
	s.GraphRequest("source", "GET", "/groups/delta", 200)
	s.GraphRetry("target")
	before := s.Snapshot()
	s.ChangesApplied(1, 3*time.Second)
	s.GuardHeld()
	after := s.Snapshot()

	if got, want := before.ChangesReceived, int64(3); got != want {
		t.Errorf("received %d, want %d", got, want)
	}
	if got, want := before.Throttled["target"], int64(1); got != want {
		t.Errorf("429s %d, want %d", got, want)
	}
	if got, want := before.Writes["target"], int64(2); got != want || before.Writes["source"] != 0 {
		t.Errorf("writes %v, want target %d and no source", before.Writes, want)
	}
	// 0.4 s falls in the 0.5 s bucket and above; 3 s only from 5 s up.
	h := after.Latency
	if h.Count != 3 || h.Counts[1] != 0 || h.Counts[2] != 2 || h.Counts[5] != 3 {
		t.Errorf("histogram %+v", h)
	}
	d := after.Sub(before)
	if d.ChangesApplied != 1 || d.GuardHeld != 1 || d.Latency.Count != 1 || d.Latency.Counts[5] != 1 || d.Latency.Counts[4] != 0 || len(d.Requests) != 0 {
		t.Errorf("difference %+v", d)
	}
	if got := before.RequestsBy(); got["target"] != 2 || got["source"] != 1 {
		t.Errorf("requests by tenant %v", got)
	}
}

func TestHistoryKeepsTheLast(t *testing.T) {
	s := metrics.New()
	h := metrics.NewHistory(s, 3)
	t0 := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	for i := range 5 {
		s.ChangesReceived(1)
		h.Record(t0.Add(time.Duration(i) * 10 * time.Second))
	}
	got := h.Samples()
	if len(got) != 3 || got[0].ChangesReceived != 3 || got[2].ChangesReceived != 5 || !got[2].At.Equal(t0.Add(40*time.Second)) {
		t.Errorf("samples %+v", got)
	}
}
