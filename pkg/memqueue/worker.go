package memqueue

import "github.com/xtsync/xtsync/pkg/task"

// work is one worker: it takes tasks from the FIFO until the queue closes.
func (q *Queue) work() {
	defer q.workers.Done()
	for {
		q.mu.Lock()
		for q.fifo.len() == 0 && !q.closedLocked() {
			q.wake.Wait()
		}
		if q.closedLocked() {
			q.mu.Unlock()
			return
		}
		key := q.fifo.pop()
		e := q.entries[key]
		e.state = stateRunning
		q.running++
		ctx := q.runCtx
		run := e.received
		e.received, e.running = task.Received{}, run
		q.mu.Unlock()

		if run.N > 0 {
			ctx = task.WithReceived(ctx, run)
		}
		err := q.process(ctx, e.task)
		q.finish(key, e, run, err)
	}
}

// finish records the outcome of one run of key, which covered the
// enqueues run: done, run again (dirty), retry later (the run's enqueues
// still to cover), or park.
func (q *Queue) finish(key string, e *entry, run task.Received, err error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	defer q.updateSettledLocked()
	q.running--
	e.running = task.Received{}
	dirty := e.dirty
	e.dirty = false
	if err == nil {
		e.received = merge(e.received, e.next)
	} else {
		e.received = merge(merge(e.received, run), e.next)
	}
	e.next = task.Received{}

	if err == nil {
		q.processed++
		e.attempts, e.lastErr = 0, ""
		if dirty && !q.closedLocked() {
			q.pushLocked(key, e)
			return
		}
		delete(q.entries, key)
		return
	}
	if q.runCtx.Err() != nil { // cancelled under it: not the key's fault
		delete(q.entries, key)
		q.closedLocked()
		q.log.Debug("run interrupted", "key", key, "err", err)
		return
	}

	q.failed++
	e.attempts++
	e.lastErr = err.Error()
	if q.closed {
		delete(q.entries, key)
		q.log.Info("run failed at close", "key", key, "attempt", e.attempts, "err", err)
		return
	}
	// task.Retryable is the one decision, for both queues: a permanent
	// failure is parked at once (shown by status; a new Enqueue tries it
	// again), not retried.
	if e.attempts >= q.opts.MaxAttempts || !task.Retryable(err) {
		e.state = stateParked
		e.parkedAt = q.opts.Clock.Now()
		q.parked++
		q.log.Warn("key parked", "key", key, "attempt", e.attempts, "err", err)
		return
	}
	delay := q.opts.Backoff(e.attempts)
	q.log.Info("run failed", "key", key, "attempt", e.attempts, "retry_in", delay, "err", err)
	if delay <= 0 {
		q.pushLocked(key, e)
		return
	}
	e.state = stateRetrying
	q.retrying++
	e.stop = q.opts.Clock.AfterFunc(delay, func() { q.retryDue(key, e) })
}

// retryDue puts a key whose backoff has elapsed back at the tail of the
// FIFO, unless the queue closed or the key left meanwhile.
func (q *Queue) retryDue(key string, e *entry) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed || q.entries[key] != e || e.state != stateRetrying {
		return
	}
	e.stop = nil
	q.retrying--
	q.pushLocked(key, e)
}
