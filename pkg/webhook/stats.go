package webhook

import "sync/atomic"

// Stats counts what a Handler did since it was created.
type Stats struct {
	// Accepted counts change-notification items handed to Sink.Changed,
	// Sink.UsersChanged or Sink.MirrorsChanged (before deduplication), once
	// the sink took them.
	Accepted int64
	// AcceptedMirrors counts the items of Accepted that named a mirror
	// (those of a mirrors subscription, handed to Sink.MirrorsChanged).
	AcceptedMirrors int64
	// Rejected counts items dropped, by reason (the Reason constants); only
	// reasons seen at least once are present.
	Rejected map[string]int64
	// Validations counts validation requests answered 200.
	Validations int64
	// Lifecycle counts lifecycle events handed to Sink.Lifecycle.
	Lifecycle int64
	// LifecycleCoalesced counts lifecycle events acknowledged but not
	// passed to Sink.Lifecycle: the same event for the same subscription
	// was passed on within Config.LifecycleCoalesce.
	LifecycleCoalesced int64
	// BadRequests counts requests refused with a 4xx status: bad path,
	// method, validation token, content type, body size, item count or
	// JSON.
	BadRequests int64
	// TooManyItems counts bodies refused (413, also in BadRequests) for
	// holding more than Config.MaxItems items.
	TooManyItems int64
	// OverConcurrency counts requests answered 503 unread because
	// Config.MaxConcurrent requests were in flight.
	OverConcurrency int64
	// OverBufferedBytes counts requests answered 503 unread because
	// admitting them would pass Config.MaxBufferedBytes.
	OverBufferedBytes int64
	// SinkErrors counts requests answered 503 because the sink failed.
	SinkErrors int64
	// NotYetKnown counts items of a subscription the lookup did not know
	// yet but may have been made moments ago (UnsureLookup): their
	// requests were answered 503, for Graph to deliver them again.
	NotYetKnown int64
}

// counters are the live, lock-free counters behind Stats.
type counters struct {
	accepted    atomic.Int64
	rejected    [numReasons]atomic.Int64
	validations atomic.Int64
	lifecycle   atomic.Int64
	badRequests atomic.Int64
	sinkErrors  atomic.Int64

	acceptedMirrors    atomic.Int64
	notYetKnown        atomic.Int64
	lifecycleCoalesced atomic.Int64
	tooManyItems       atomic.Int64
	overConcurrency    atomic.Int64
	overBufferedBytes  atomic.Int64
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

		AcceptedMirrors:    c.acceptedMirrors.Load(),
		NotYetKnown:        c.notYetKnown.Load(),
		LifecycleCoalesced: c.lifecycleCoalesced.Load(),
		TooManyItems:       c.tooManyItems.Load(),
		OverConcurrency:    c.overConcurrency.Load(),
		OverBufferedBytes:  c.overBufferedBytes.Load(),
	}
	for r := reasonNone + 1; r < numReasons; r++ {
		if n := c.rejected[r].Load(); n > 0 {
			s.Rejected[r.String()] = n
		}
	}
	return s
}
