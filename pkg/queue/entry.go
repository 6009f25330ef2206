package queue

import "time"

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
	state    state
	dirty    bool // enqueued while running: run once more after success
	attempts int  // failures in a row
	lastErr  string
	parkedAt time.Time
	timer    *time.Timer // while retrying
}
