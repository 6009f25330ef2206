package metrics

import (
	"sync"
	"time"
)

// Sample is a snapshot and when it was taken.
type Sample struct {
	At time.Time `json:"at"`
	Snapshot
}

// History keeps the last snapshots of a set, one per Record call (serve
// records one every 10 s), for the console's charts. It is safe for
// concurrent use.
type History struct {
	set     *Set
	mu      sync.Mutex
	samples []Sample
	keep    int
}

// NewHistory keeps the last keep snapshots of set.
func NewHistory(set *Set, keep int) *History {
	return &History{set: set, keep: max(2, keep)}
}

// Record takes a snapshot at now.
func (h *History) Record(now time.Time) {
	s := Sample{At: now, Snapshot: h.set.Snapshot()}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.samples = append(h.samples, s)
	if len(h.samples) > h.keep {
		h.samples = append(h.samples[:0], h.samples[len(h.samples)-h.keep:]...)
	}
}

// Samples are the kept snapshots, oldest first.
func (h *History) Samples() []Sample {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]Sample(nil), h.samples...)
}
