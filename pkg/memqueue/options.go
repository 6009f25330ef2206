package memqueue

import (
	"context"
	"log/slog"
	"time"

	"github.com/xtsync/xtsync/pkg/engine"
	"github.com/xtsync/xtsync/pkg/task"
)

// Process does the work of one task; an error means "try again later".
// Its context is cancelled when Start's context is done or when Close's
// context expires before the run has finished.
type Process func(ctx context.Context, t task.Task) error

// Options configure a Queue; zero values take the defaults.
type Options struct {
	// Workers is how many tasks run at once; default 4.
	Workers int
	// MaxPending bounds the distinct keys waiting (pending or waiting for a
	// retry); Enqueue of a new key beyond it returns ErrFull. Default 10000.
	MaxPending int
	// MaxAttempts is how many failures in a row park a task; default 5.
	MaxAttempts int
	// Backoff is the delay before retry attempt (1-based); default
	// DefaultBackoff. It is called with the queue's lock held, so it must be
	// quick and must not call the queue. A delay of zero or less retries at
	// once (at the tail of the queue).
	Backoff func(attempt int) time.Duration
	// Log receives the queue's logs; discarded when nil.
	Log *slog.Logger
	// Clock stamps parked tasks and runs the retry timers (AfterFunc with
	// the Backoff delay); engine.SystemClock when nil. Tests inject a fake
	// one, or run the queue in a testing/synctest bubble. The queue calls
	// AfterFunc, and the stop function it returns, with its lock held, so
	// the timer's function must run later, not within AfterFunc.
	Clock engine.TimerClock
}

// Defaults for the zero Options.
const (
	defaultWorkers     = 4
	defaultMaxPending  = 10000
	defaultMaxAttempts = 5
)

// withDefaults fills the zero fields of o.
func (o Options) withDefaults() Options {
	if o.Workers <= 0 {
		o.Workers = defaultWorkers
	}
	if o.MaxPending <= 0 {
		o.MaxPending = defaultMaxPending
	}
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = defaultMaxAttempts
	}
	if o.Backoff == nil {
		o.Backoff = DefaultBackoff
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.Clock == nil {
		o.Clock = engine.SystemClock{}
	}
	return o
}
