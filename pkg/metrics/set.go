package metrics

import (
	"maps"
	"sort"
	"sync"
	"time"
)

// Set holds the counters; it is safe for concurrent use. The zero value is
// not usable: call New.
type Set struct {
	mu        sync.Mutex
	received  int64
	applied   int64
	latency   Histogram
	requests  map[Request]int64
	throttled map[string]int64
	retries   map[string]int64
	writes    map[string]int64
	held      int64
	repairs   int64
}

// Request is one label set of GraphRequests.
type Request struct {
	Tenant string `json:"tenant"`
	Method string `json:"method"`
	Route  string `json:"route"`
	Status int    `json:"status"`
}

// Histogram is a cumulative histogram over LatencyBuckets, in seconds.
type Histogram struct {
	// Counts[i] counts the observations at most Bounds[i] (cumulative);
	// Count counts them all.
	Bounds []float64 `json:"bounds"`
	Counts []int64   `json:"counts"`
	Count  int64     `json:"count"`
	Sum    float64   `json:"sum"`
}

// New returns an empty set.
func New() *Set {
	b := LatencyBuckets()
	return &Set{
		latency:  Histogram{Bounds: b, Counts: make([]int64, len(b))},
		requests: map[Request]int64{}, throttled: map[string]int64{}, retries: map[string]int64{}, writes: map[string]int64{},
	}
}

// ChangesReceived counts n changes queued from notifications.
func (s *Set) ChangesReceived(n int) {
	s.mu.Lock()
	s.received += int64(n)
	s.mu.Unlock()
}

// ChangesApplied counts n changes applied, the oldest of them notified
// latency ago (one latency sample per applied change).
func (s *Set) ChangesApplied(n int, latency time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.applied += int64(n)
	sec := latency.Seconds()
	s.latency.Count += int64(n)
	s.latency.Sum += sec * float64(n)
	for i, b := range s.latency.Bounds {
		if sec <= b {
			s.latency.Counts[i] += int64(n)
		}
	}
}

// GraphRequest counts one Graph request attempt and its answer's status
// (0 when none came).
func (s *Set) GraphRequest(tenant, method, route string, status int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests[Request{tenant, method, route, status}]++
	if status == 429 {
		s.throttled[tenant]++
	}
	if method != "GET" {
		s.writes[tenant]++
	}
}

// GraphRetry counts one request sent again.
func (s *Set) GraphRetry(tenant string) {
	s.mu.Lock()
	s.retries[tenant]++
	s.mu.Unlock()
}

// GuardHeld counts one run the deletion guard held.
func (s *Set) GuardHeld() {
	s.mu.Lock()
	s.held++
	s.mu.Unlock()
}

// MirrorRepairs counts n mirrors found changed by someone else.
func (s *Set) MirrorRepairs(n int) {
	s.mu.Lock()
	s.repairs += int64(n)
	s.mu.Unlock()
}

// Snapshot is the set's counts at one time.
type Snapshot struct {
	ChangesReceived int64             `json:"changesReceived"`
	ChangesApplied  int64             `json:"changesApplied"`
	Latency         Histogram         `json:"latency"`
	Requests        map[Request]int64 `json:"-"`
	Throttled       map[string]int64  `json:"throttled"`
	Retries         map[string]int64  `json:"retries"`
	Writes          map[string]int64  `json:"writes"`
	GuardHeld       int64             `json:"guardHeld"`
	MirrorRepairs   int64             `json:"mirrorRepairs"`
}

// Snapshot copies the counts.
func (s *Set) Snapshot() Snapshot {
	s.mu.Lock()
	defer s.mu.Unlock()
	h := s.latency
	h.Bounds, h.Counts = append([]float64(nil), h.Bounds...), append([]int64(nil), h.Counts...)
	return Snapshot{
		ChangesReceived: s.received, ChangesApplied: s.applied, Latency: h,
		Requests: maps.Clone(s.requests), Throttled: maps.Clone(s.throttled), Retries: maps.Clone(s.retries), Writes: maps.Clone(s.writes),
		GuardHeld: s.held, MirrorRepairs: s.repairs,
	}
}

// RequestsBy sums the snapshot's Graph requests per tenant.
func (s Snapshot) RequestsBy() map[string]int64 {
	out := map[string]int64{}
	for r, n := range s.Requests {
		out[r.Tenant] += n
	}
	return out
}

// Tenants are the tenants the snapshot counts anything of (requests,
// 429s, retries or writes), sorted.
func (s Snapshot) Tenants() []string {
	seen := map[string]bool{}
	for t, n := range s.RequestsBy() {
		seen[t] = seen[t] || n != 0
	}
	for _, m := range []map[string]int64{s.Throttled, s.Retries, s.Writes} {
		for t, n := range m {
			seen[t] = seen[t] || n != 0
		}
	}
	var out []string
	for t, counted := range seen {
		if counted {
			out = append(out, t)
		}
	}
	sort.Strings(out)
	return out
}

// Sub is what happened between earlier and s: every counter's difference
// (the histogram's too).
func (s Snapshot) Sub(earlier Snapshot) Snapshot {
	d := Snapshot{
		ChangesReceived: s.ChangesReceived - earlier.ChangesReceived,
		ChangesApplied:  s.ChangesApplied - earlier.ChangesApplied,
		GuardHeld:       s.GuardHeld - earlier.GuardHeld,
		MirrorRepairs:   s.MirrorRepairs - earlier.MirrorRepairs,
		Requests:        map[Request]int64{}, Throttled: subMap(s.Throttled, earlier.Throttled),
		Retries: subMap(s.Retries, earlier.Retries), Writes: subMap(s.Writes, earlier.Writes),
	}
	for k, v := range s.Requests {
		if n := v - earlier.Requests[k]; n != 0 {
			d.Requests[k] = n
		}
	}
	h := s.Latency
	d.Latency = Histogram{Bounds: h.Bounds, Counts: make([]int64, len(h.Counts)), Count: h.Count - earlier.Latency.Count, Sum: h.Sum - earlier.Latency.Sum}
	for i := range h.Counts {
		d.Latency.Counts[i] = h.Counts[i]
		if i < len(earlier.Latency.Counts) {
			d.Latency.Counts[i] -= earlier.Latency.Counts[i]
		}
	}
	return d
}

func subMap(a, b map[string]int64) map[string]int64 {
	out := map[string]int64{}
	for k, v := range a {
		if n := v - b[k]; n != 0 {
			out[k] = n
		}
	}
	return out
}
