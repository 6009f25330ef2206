package memqueue

import (
	"cmp"
	"slices"
	"time"

	"github.com/xtsync/xtsync/pkg/task"
)

// Parked describes a task that failed MaxAttempts times in a row and waits
// for a new Enqueue.
type Parked struct {
	// Task is the parked task.
	Task task.Task
	// Attempts is how many runs failed in a row.
	Attempts int
	// LastError is the text of the last failure.
	LastError string
	// ParkedAt is when the task was parked (Options.Clock).
	ParkedAt time.Time
}

// Parked lists the parked tasks, oldest first, then by key.
func (q *Queue) Parked() []Parked {
	q.mu.Lock()
	out := make([]Parked, 0, q.parked)
	for _, e := range q.entries {
		if e.state == stateParked {
			out = append(out, Parked{Task: e.task, Attempts: e.attempts, LastError: e.lastErr, ParkedAt: e.parkedAt})
		}
	}
	q.mu.Unlock()
	slices.SortFunc(out, func(a, b Parked) int {
		return cmp.Or(a.ParkedAt.Compare(b.ParkedAt), cmp.Compare(a.Task.Key(), b.Task.Key()))
	})
	return out
}

// unparkLocked moves parked key e back to the FIFO with its attempts reset
// (a new Enqueue of it).
func (q *Queue) unparkLocked(key string, e *entry) {
	q.parked--
	q.log.Info("key unparked by a new enqueue", "key", key, "attempt", e.attempts)
	e.attempts, e.lastErr, e.parkedAt = 0, "", time.Time{}
	q.pushLocked(key, e)
}
