package memqueue

import "errors"

// ErrFull is returned by Enqueue when Options.MaxPending distinct keys are
// already waiting; the task is dropped and the next reconcile repairs it.
var ErrFull = errors.New("memqueue: full")

// ErrClosed is returned by Enqueue and WaitIdle once the queue is closed,
// by Close or by the cancellation of Start's context.
var ErrClosed = errors.New("memqueue: closed")
