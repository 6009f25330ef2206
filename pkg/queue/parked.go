package queue

import (
	"cmp"
	"slices"
	"time"
)

// Parked describes a key that failed MaxAttempts times in a row and waits
// for Unpark or a new Enqueue.
type Parked struct {
	// Key is the parked key.
	Key string
	// Attempts is how many runs failed in a row.
	Attempts int
	// LastError is the text of the last failure.
	LastError string
	// ParkedAt is when the key was parked (Options.Clock).
	ParkedAt time.Time
}

// Parked lists the parked keys, oldest first.
func (q *Queue) Parked() []Parked {
	q.mu.Lock()
	out := make([]Parked, 0, q.parked)
	for key, e := range q.entries {
		if e.state == stateParked {
			out = append(out, Parked{Key: key, Attempts: e.attempts, LastError: e.lastErr, ParkedAt: e.parkedAt})
		}
	}
	q.mu.Unlock()
	slices.SortFunc(out, func(a, b Parked) int {
		return cmp.Or(a.ParkedAt.Compare(b.ParkedAt), cmp.Compare(a.Key, b.Key))
	})
	return out
}

// Unpark puts a parked key back at the tail of the queue with its attempts
// reset (an operator retry). It ignores Options.MaxPending and reports
// whether the key was parked; it returns false once the queue is closed.
func (q *Queue) Unpark(key string) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	e, ok := q.entries[key]
	if q.closedLocked() || !ok || e.state != stateParked {
		return false
	}
	q.unparkLocked(key, e, "operator")
	return true
}

// unparkLocked moves parked key e back to the FIFO.
func (q *Queue) unparkLocked(key string, e *entry, by string) {
	q.parked--
	q.log.Info("key unparked", "key", key, "attempt", e.attempts, "by", by)
	e.attempts, e.lastErr, e.parkedAt = 0, "", time.Time{}
	q.pushLocked(key, e)
}
