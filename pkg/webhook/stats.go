package webhook

import "sync/atomic"

// Stats counts what a Handler did since it was created.
type Stats struct {
	// Accepted counts change-notification items handed to Sink.Changed
	// (before deduplication), once the sink took them.
	Accepted int64
	// Rejected counts items dropped, by reason (the Reason constants); only
	// reasons seen at least once are present.
	Rejected map[string]int64
	// Validations counts validation requests answered 200.
	Validations int64
	// Lifecycle counts lifecycle events handed to Sink.Lifecycle.
	Lifecycle int64
	// BadRequests counts requests refused with a 4xx status: bad path,
	// method, validation token, content type, body size or JSON.
	BadRequests int64
	// SinkErrors counts requests answered 503 because the sink failed.
	SinkErrors int64
}

// counters are the live, lock-free counters behind Stats.
type counters struct {
	accepted    atomic.Int64
	rejected    [numReasons]atomic.Int64
	validations atomic.Int64
	lifecycle   atomic.Int64
	badRequests atomic.Int64
	sinkErrors  atomic.Int64
}

// Stats returns a snapshot of the counters. It is safe for concurrent use.
func (h *Handler) Stats() Stats {
	c := &h.stats
	s := Stats{
		Accepted:    c.accepted.Load(),
		Rejected:    map[string]int64{},
		Validations: c.validations.Load(),
		Lifecycle:   c.lifecycle.Load(),
		BadRequests: c.badRequests.Load(),
		SinkErrors:  c.sinkErrors.Load(),
	}
	for r := reasonNone + 1; r < numReasons; r++ {
		if n := c.rejected[r].Load(); n > 0 {
			s.Rejected[r.String()] = n
		}
	}
	return s
}
