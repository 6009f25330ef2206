package sqsqueue

import (
	"time"

	"github.com/xtsync/xtsync/pkg/engine"
)

// Options configure a Queue; zero values take the defaults.
type Options struct {
	// Clock stamps each enqueue for its deduplication id;
	// engine.SystemClock when nil.
	Clock engine.Clock
	// DedupWindow is the width of the time buckets of the deduplication id:
	// enqueues of one key within one bucket share an id, so SQS keeps one
	// message. Default one second.
	DedupWindow time.Duration
	// Timeout bounds each request of an Enqueue (the SDK's retries
	// included), within the caller's context: an Enqueue of more than ten
	// tasks makes several. Default 5 s; a webhook that must answer Graph
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
		o.Clock = engine.SystemClock{}
	}
	if o.DedupWindow <= 0 {
		o.DedupWindow = defaultDedupWindow
	}
	if o.Timeout <= 0 {
		o.Timeout = defaultTimeout
	}
	return o
}
