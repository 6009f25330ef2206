package sqsqueue

import "time"

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
	// Timeout bounds one Enqueue (the SDK's retries included), within the
	// caller's context. Default 5 s; a webhook that must answer Graph
	// within 3 s wants less.
	Timeout time.Duration
}

// Defaults for the zero Options.
const (
	defaultDedupWindow = time.Second
	defaultTimeout     = 5 * time.Second
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
	return o
}
