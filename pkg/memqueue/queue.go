package memqueue

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"

	"github.com/xtsync/xtsync/pkg/task"
)

// Queue is an in-process work queue of tasks, coalesced and ordered per
// key, bounded, and worked by Options.Workers goroutines. Its methods are
// safe for concurrent use.
type Queue struct {
	process Process
	opts    Options
	log     *slog.Logger

	mu       sync.Mutex
	wake     *sync.Cond        // signalled when a key joins the FIFO or the queue closes
	entries  map[string]*entry // by task key
	fifo     fifo
	running  int
	retrying int
	parked   int

	processed uint64
	failed    uint64
	rejected  uint64

	started bool
	closed  bool
	runCtx  context.Context
	cancel  context.CancelFunc
	workers sync.WaitGroup

	settled       chan struct{} // closed while idle or closed; see idle.go
	settledClosed bool
}

// New returns a queue that runs process for each task once Start is
// called. process must not be nil. Tasks may be enqueued before Start;
// they wait.
func New(process Process, opts Options) *Queue {
	opts = opts.withDefaults()
	q := &Queue{
		process: process,
		opts:    opts,
		log:     opts.Log,
		entries: make(map[string]*entry),
		settled: make(chan struct{}),
	}
	q.wake = sync.NewCond(&q.mu)
	close(q.settled)
	q.settledClosed = true
	return q
}

// Start starts the workers. They stop when ctx is done or Close is called;
// the cancellation of ctx closes the queue like Close, without waiting.
// Start is a no-op on a queue already started or closed.
func (q *Queue) Start(ctx context.Context) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.started || q.closed {
		return
	}
	q.started = true
	q.runCtx, q.cancel = context.WithCancel(ctx)
	context.AfterFunc(q.runCtx, q.shutdown)
	q.workers.Add(q.opts.Workers)
	for range q.opts.Workers {
		go q.work()
	}
	q.log.Info("queue started", "workers", q.opts.Workers, "max_pending", q.opts.MaxPending, "max_attempts", q.opts.MaxAttempts)
}

// Enqueue asks for tasks to be processed; each is coalesced by its key
// (task.Task.Key). It never blocks: a task whose key is already pending or
// waiting for a retry is left as it is, a running one is marked to run
// once more, and a parked one is put back with its attempts reset. A task
// whose key is new (or parked) and would exceed Options.MaxPending is
// dropped with ErrFull; once the queue is closed every task is dropped
// with ErrClosed. The error joins one error per dropped task, naming its
// key; the other tasks are queued. An Enqueue of no task does nothing.
//
// The hand-over is in memory, so ctx bounds nothing; but a caller whose
// context is already done gets its error (wrapped, for each task) and
// nothing is queued, as an SQS send under that context would fail. ctx
// does not reach the work: that runs under the context given to Start.
func (q *Queue) Enqueue(ctx context.Context, tasks ...task.Task) error {
	if len(tasks) == 0 {
		return nil
	}
	if err := ctx.Err(); err != nil {
		errs := make([]error, len(tasks))
		for i, t := range tasks {
			errs[i] = fmt.Errorf("memqueue: enqueue %q: %w", t.Key(), err)
		}
		return errors.Join(errs...)
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	var errs []error
	for _, t := range tasks {
		if err := q.enqueueLocked(t); err != nil {
			errs = append(errs, fmt.Errorf("memqueue: enqueue %q: %w", t.Key(), err))
		}
	}
	return errors.Join(errs...)
}

// enqueueLocked queues one task: ErrClosed, ErrFull or nil.
func (q *Queue) enqueueLocked(t task.Task) error {
	if q.closedLocked() {
		return ErrClosed
	}
	key := t.Key()
	e, known := q.entries[key]
	one := task.Received{At: q.opts.Clock.Now(), N: 1}
	if known {
		switch e.state {
		case statePending, stateRetrying:
			e.received = merge(e.received, one)
			return nil
		case stateRunning:
			e.dirty = true
			e.next = merge(e.next, one)
			return nil
		}
	}
	if q.fifo.len()+q.retrying >= q.opts.MaxPending {
		q.rejected++
		return ErrFull
	}
	if known { // parked
		e.received = merge(e.received, one)
		q.unparkLocked(key, e)
		return nil
	}
	e = &entry{task: t, received: one}
	q.entries[key] = e
	q.pushLocked(key, e)
	return nil
}

// Close stops taking work: Enqueue returns ErrClosed from now on, and tasks
// pending or waiting for a retry are dropped (logged with their count). It
// then waits for the running tasks to finish, or for ctx: on ctx's end it
// cancels the context given to Process and returns ctx's error without
// waiting further. Close may be called more than once, and before Start.
func (q *Queue) Close(ctx context.Context) error {
	q.mu.Lock()
	q.stopLocked()
	started, cancel := q.started, q.cancel
	q.mu.Unlock()
	if !started {
		return nil
	}
	done := make(chan struct{})
	go func() {
		q.workers.Wait()
		close(done)
	}()
	select {
	case <-done:
		cancel()
		return nil
	case <-ctx.Done():
		cancel()
		return fmt.Errorf("memqueue: close: %w", ctx.Err())
	}
}

// shutdown closes the queue when Start's context is done.
func (q *Queue) shutdown() {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.stopLocked()
}

// closedLocked reports whether the queue is closed. It closes the queue
// first when Start's context is done, so callers see the cancellation at
// once rather than when context.AfterFunc gets to run shutdown.
func (q *Queue) closedLocked() bool {
	if !q.closed && q.runCtx != nil && q.runCtx.Err() != nil {
		q.stopLocked()
	}
	return q.closed
}

// stopLocked marks the queue closed, drops the tasks that are not running,
// and wakes the workers so they exit once idle.
func (q *Queue) stopLocked() {
	if q.closed {
		return
	}
	q.closed = true
	dropped := q.fifo.len()
	for q.fifo.len() > 0 {
		delete(q.entries, q.fifo.pop())
	}
	for key, e := range q.entries {
		if e.state == stateRetrying {
			e.stop()
			delete(q.entries, key)
			dropped++
		}
	}
	q.retrying = 0
	q.wake.Broadcast()
	q.updateSettledLocked()
	q.log.Info("queue closed", "dropped", dropped, "running", q.running, "parked", q.parked)
}

// pushLocked puts key at the tail of the FIFO and wakes a worker.
func (q *Queue) pushLocked(key string, e *entry) {
	e.state = statePending
	q.fifo.push(key)
	q.wake.Signal()
	q.updateSettledLocked()
}
