package queue

import "errors"

// ErrFull is returned by Enqueue when Options.MaxPending distinct keys are
// already waiting; the key is dropped and the next reconcile repairs it.
var ErrFull = errors.New("queue: full")

// ErrClosed is returned by Enqueue and WaitIdle once the queue is closed,
// by Close or by the cancellation of Start's context.
var ErrClosed = errors.New("queue: closed")
