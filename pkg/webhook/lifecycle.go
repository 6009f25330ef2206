package webhook

import (
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
func (h *Handler) serveLifecycle(w http.ResponseWriter, r *http.Request) {
	items, ok := h.readItems(w, r)
	if !ok {
		return
	}
	rj := rejections{h: h, ctx: r.Context()}
	var errs []error
	for i := range items {
		it := &items[i]
		if why := h.checkLifecycle(it); why != reasonNone {
			rj.add(it, why, "")
			continue
		}
		if err := h.sink.Lifecycle(r.Context(), it.SubscriptionID, it.LifecycleEvent); err != nil {
			errs = append(errs, fmt.Errorf("%s %s: %w", it.LifecycleEvent, it.SubscriptionID, err))
			continue
		}
		h.stats.lifecycle.Add(1)
		h.log.InfoContext(r.Context(), "webhook lifecycle event", "subscription", it.SubscriptionID, "event", it.LifecycleEvent)
	}
	rj.done()
	if err := errors.Join(errs...); err != nil {
		h.stats.sinkErrors.Add(1)
		h.log.ErrorContext(r.Context(), "webhook sink failed", "events", len(errs), "err", err)
		http.Error(w, http.StatusText(http.StatusServiceUnavailable), http.StatusServiceUnavailable)
		return
	}
	w.WriteHeader(http.StatusAccepted)
}

// checkLifecycle checks one lifecycle notification.
func (h *Handler) checkLifecycle(it *item) reason {
	if why := h.authenticate(it); why != reasonNone {
		return why
	}
	switch it.LifecycleEvent {
	case EventReauthorizationRequired, EventSubscriptionRemoved, EventMissed:
		return reasonNone
	}
	return reasonLifecycleEvent
}
