package memqueue

// Stats is a snapshot of the queue's counts.
type Stats struct {
	// Pending tasks wait for a worker.
	Pending int
	// Running tasks are being processed.
	Running int
	// Retrying tasks failed and wait for their backoff.
	Retrying int
	// Parked tasks failed MaxAttempts times in a row.
	Parked int
	// Processed counts successful runs since New.
	Processed uint64
	// Failed counts failed runs since New, except runs whose context was
	// cancelled by Close's deadline or Start's context.
	Failed uint64
	// Rejected counts Enqueue calls that returned ErrFull.
	Rejected uint64
}

// Stats returns a snapshot of the queue's counts.
func (q *Queue) Stats() Stats {
	q.mu.Lock()
	defer q.mu.Unlock()
	return Stats{
		Pending:   q.fifo.len(),
		Running:   q.running,
		Retrying:  q.retrying,
		Parked:    q.parked,
		Processed: q.processed,
		Failed:    q.failed,
		Rejected:  q.rejected,
	}
}
