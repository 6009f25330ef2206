package webhook

import (
	"context"
	"errors"
	"fmt"
	"net/http"
)

// Lifecycle events Graph sends and xtsync acts on.
const (
	// EventReauthorizationRequired asks for the subscription to be renewed.
	EventReauthorizationRequired = "reauthorizationRequired"
	// EventSubscriptionRemoved says Graph removed the subscription.
	EventSubscriptionRemoved = "subscriptionRemoved"
	// EventMissed says Graph dropped change notifications.
	EventMissed = "missed"
)

// serveLifecycle handles POST /lifecycle: each good item goes to
// Sink.Lifecycle, then it answers 202, or 503 when the sink failed for any
// of them so that Graph retries (the sink's handling is idempotent: a renew
// or a reconcile).
//
// An event already passed on for the same subscription within the
// coalescing window (Config.LifecycleCoalesce) is acknowledged and counted
// but not passed on again: a replayed or repeated "missed" would otherwise
// start a full reconcile each time, and a "subscriptionRemoved" a recreate.
// An event the sink failed to take is not remembered, so Graph's retry gets
// through.
func (h *Handler) serveLifecycle(w http.ResponseWriter, r *http.Request) {
	items, ok := h.readItems(w, r)
	if !ok {
		return
	}
	now := h.now()
	rj := rejections{h: h, ctx: r.Context()}
	var errs []error
	coalesced := 0
	for i := range items {
		it := &items[i]
		if why := h.checkLifecycle(r.Context(), it); why != reasonNone {
			rj.add(it, why, "")
			continue
		}
		t, pass := h.seen.claim(it.SubscriptionID, it.LifecycleEvent, now)
		if !pass {
			coalesced++
			continue
		}
		if err := h.sink.Lifecycle(r.Context(), it.SubscriptionID, it.LifecycleEvent); err != nil {
			h.seen.forget(t)
			errs = append(errs, fmt.Errorf("%s %s: %w", it.LifecycleEvent, it.SubscriptionID, err))
			continue
		}
		h.stats.lifecycle.Add(1)
		h.log.InfoContext(r.Context(), "webhook lifecycle event", "subscription", it.SubscriptionID, "event", it.LifecycleEvent)
	}
	rj.done()
	if coalesced > 0 {
		h.stats.lifecycleCoalesced.Add(int64(coalesced))
		h.log.DebugContext(r.Context(), "webhook lifecycle events coalesced", "count", coalesced)
	}
	if err := errors.Join(errs...); err != nil {
		h.stats.sinkErrors.Add(1)
		h.log.ErrorContext(r.Context(), "webhook sink failed", "events", len(errs), "err", err)
		http.Error(w, http.StatusText(http.StatusServiceUnavailable), http.StatusServiceUnavailable)
		return
	}
	w.WriteHeader(http.StatusAccepted)
}

// checkLifecycle checks one lifecycle notification.
func (h *Handler) checkLifecycle(ctx context.Context, it *item) reason {
	if _, why := h.authenticate(ctx, it); why != reasonNone {
		return why
	}
	switch it.LifecycleEvent {
	case EventReauthorizationRequired, EventSubscriptionRemoved, EventMissed:
		return reasonNone
	}
	return reasonLifecycleEvent
}
