package sqsqueue

import (
	"log/slog"
	"time"
)

// Clock tells the time; engine.Clock satisfies it.
type Clock interface{ Now() time.Time }

// systemClock is the wall clock.
type systemClock struct{}

// Now returns time.Now().
func (systemClock) Now() time.Time { return time.Now() }

// Options configure a Queue; zero values take the defaults.
type Options struct {
	// Clock stamps each enqueue for its deduplication id; the wall clock
	// when nil.
	Clock Clock
	// DedupWindow is the width of the time buckets of the deduplication id:
	// enqueues of one key within one bucket share an id, so SQS keeps one
	// message. Default one second.
	DedupWindow time.Duration
	// Timeout bounds one Enqueue, which has no context of its own (the SDK's
	// retries included). Default 5 s; a webhook that must answer Graph
	// within 3 s wants less.
	Timeout time.Duration
	// BatchRetries is how many times EnqueueBatch resends the entries that
	// SQS failed inside a batch on its side (not sender faults, which
	// resending cannot fix). Default 3; negative means none.
	BatchRetries int
	// RetryDelay is the pause before EnqueueBatch's first resend, doubled
	// for each further one. Default 100 ms.
	RetryDelay time.Duration
	// Log receives retries; discarded when nil.
	Log *slog.Logger
}

// Defaults for the zero Options.
const (
	defaultDedupWindow  = time.Second
	defaultTimeout      = 5 * time.Second
	defaultBatchRetries = 3
	defaultRetryDelay   = 100 * time.Millisecond
)

// withDefaults fills the zero fields of o.
func (o Options) withDefaults() Options {
	if o.Clock == nil {
		o.Clock = systemClock{}
	}
	if o.DedupWindow <= 0 {
		o.DedupWindow = defaultDedupWindow
	}
	if o.Timeout <= 0 {
		o.Timeout = defaultTimeout
	}
	switch {
	case o.BatchRetries == 0:
		o.BatchRetries = defaultBatchRetries
	case o.BatchRetries < 0:
		o.BatchRetries = 0
	}
	if o.RetryDelay <= 0 {
		o.RetryDelay = defaultRetryDelay
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	return o
}
