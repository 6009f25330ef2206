package webhook

import (
	"net/http"
	"slices"
	"strings"
)

// Change types of a group subscription ("created" never comes: creation is
// notified as "updated").
const (
	changeUpdated = "updated"
	changeDeleted = "deleted"
)

// serveNotifications handles POST /notifications: it checks each item,
// hands the distinct groups of the good ones to Sink.Changed in one call and
// answers 202, or 503 when the sink fails so that Graph retries.
func (h *Handler) serveNotifications(w http.ResponseWriter, r *http.Request) {
	items, ok := h.readItems(w, r)
	if !ok {
		return
	}
	rj := rejections{h: h, ctx: r.Context()}
	groups := make([]string, 0, len(items))
	for i := range items {
		g, why := h.checkChange(&items[i])
		if why != reasonNone {
			rj.add(&items[i], why, g)
			continue
		}
		groups = append(groups, g)
	}
	rj.done()
	accepted := len(groups)
	if accepted > 0 {
		slices.Sort(groups)
		groups = slices.Compact(groups)
		if err := h.sink.Changed(r.Context(), groups); err != nil {
			h.stats.sinkErrors.Add(1)
			h.log.ErrorContext(r.Context(), "webhook sink failed", "groups", len(groups), "err", err)
			http.Error(w, http.StatusText(http.StatusServiceUnavailable), http.StatusServiceUnavailable)
			return
		}
		h.stats.accepted.Add(int64(accepted))
		h.log.DebugContext(r.Context(), "webhook changes accepted", "items", accepted, "groups", len(groups))
	}
	w.WriteHeader(http.StatusAccepted)
}

// checkChange checks one change notification and returns its group id,
// lowercase. The id is also returned with reasonOutOfScope, for the log.
func (h *Handler) checkChange(it *item) (string, reason) {
	if why := h.authenticate(it); why != reasonNone {
		return "", why
	}
	if it.ChangeType != changeUpdated && it.ChangeType != changeDeleted {
		return "", reasonChangeType
	}
	g, ok := groupFromResource(it.Resource)
	if !ok {
		return "", reasonResource
	}
	if it.ResourceData.ID != "" && !strings.EqualFold(it.ResourceData.ID, g) {
		return "", reasonResource
	}
	if !h.inScope(g) {
		return g, reasonOutOfScope
	}
	return g, reasonNone
}
