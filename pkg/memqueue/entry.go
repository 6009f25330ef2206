package memqueue

import (
	"time"

	"github.com/xtsync/xtsync/pkg/task"
)

// state is where a key is in its life.
type state int

// Key states. A key absent from the queue's map is unknown (done).
const (
	statePending  state = iota // in the FIFO, waiting for a worker
	stateRunning               // a worker runs it
	stateRetrying              // failed; a timer puts it back
	stateParked                // failed MaxAttempts times in a row
)

// entry is the queue's record of one key.
type entry struct {
	task     task.Task // the task first enqueued under the key
	state    state
	dirty    bool // enqueued while running: run once more after success
	attempts int  // failures in a row
	lastErr  string
	parkedAt time.Time
	stop     func() bool // stops the retry timer, while retrying
	// received are the enqueues the next run covers (the oldest's time and
	// their count); next those made while a run was running.
	received, next task.Received
	// running are the enqueues the run under way covers.
	running task.Received
}

// merge is the enqueues of a and b together.
func merge(a, b task.Received) task.Received {
	switch {
	case a.N == 0:
		return b
	case b.N == 0:
		return a
	}
	at := a.At
	if b.At.Before(at) {
		at = b.At
	}
	return task.Received{At: at, N: a.N + b.N}
}
