package memqueue

import (
	"context"
	"fmt"
)

// Idle reports whether nothing is pending, running or waiting for a retry.
// Parked tasks do not keep the queue busy.
func (q *Queue) Idle() bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.idleLocked()
}

// WaitIdle returns nil when the queue is idle, ErrClosed when it is closed
// (even if idle), or ctx's error. Tasks enqueued before Start keep it busy
// until they have run.
func (q *Queue) WaitIdle(ctx context.Context) error {
	for {
		q.mu.Lock()
		closed, idle, settled := q.closedLocked(), q.idleLocked(), q.settled
		q.mu.Unlock()
		switch {
		case closed:
			return fmt.Errorf("memqueue: wait idle: %w", ErrClosed)
		case idle:
			return nil
		}
		select {
		case <-settled:
		case <-ctx.Done():
			return fmt.Errorf("memqueue: wait idle: %w", ctx.Err())
		}
	}
}

// idleLocked reports whether nothing is pending, running or retrying.
func (q *Queue) idleLocked() bool {
	return q.fifo.len() == 0 && q.running == 0 && q.retrying == 0
}

// updateSettledLocked keeps the settled channel closed exactly while the
// queue is idle or closed, so WaitIdle can block on it.
func (q *Queue) updateSettledLocked() {
	settled := q.closed || q.idleLocked()
	switch {
	case settled && !q.settledClosed:
		close(q.settled)
		q.settledClosed = true
	case !settled && q.settledClosed:
		q.settled = make(chan struct{})
		q.settledClosed = false
	}
}
