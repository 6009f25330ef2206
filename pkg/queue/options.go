package queue

import (
	"context"
	"log/slog"
	"time"
)

// Process does the work for one key; an error means "try again later".
// Its context is cancelled when Start's context is done or when Close's
// context expires before the run has finished.
type Process func(ctx context.Context, key string) error

// Options configure a Queue; zero values take the defaults.
type Options struct {
	// Workers is how many keys run at once; default 4.
	Workers int
	// MaxPending bounds the distinct keys waiting (pending or waiting for a
	// retry); Enqueue of a new key beyond it returns ErrFull. Default 10000.
	MaxPending int
	// MaxAttempts is how many failures in a row park a key; default 5.
	MaxAttempts int
	// Backoff is the delay before retry attempt (1-based); default
	// DefaultBackoff. It is called with the queue's lock held, so it must be
	// quick and must not call the queue. A delay of zero or less retries at
	// once (at the tail of the queue).
	Backoff func(attempt int) time.Duration
	// Log receives the queue's logs; discarded when nil.
	Log *slog.Logger
	// Clock stamps parked keys; the wall clock when nil.
	Clock Clock
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
		o.Clock = systemClock{}
	}
	return o
}
