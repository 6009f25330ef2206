package webhook

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
)

// Change types of a group or user subscription ("created" never comes for
// groups: creation is notified as "updated").
const (
	changeUpdated = "updated"
	changeDeleted = "deleted"
)

// serveNotifications handles POST /notifications: it checks each item,
// hands the distinct groups of the good ones to Sink.Changed in one call and
// the distinct users to Sink.UsersChanged in one call, and answers 202, or
// 503 when the sink fails so that Graph retries.
func (h *Handler) serveNotifications(w http.ResponseWriter, r *http.Request) {
	items, ok := h.readItems(w, r)
	if !ok {
		return
	}
	rj := rejections{h: h, ctx: r.Context()}
	var groups, users []string
	for i := range items {
		id, isUser, why := h.checkChange(r.Context(), &items[i])
		switch {
		case why != reasonNone:
			rj.add(&items[i], why, id)
		case isUser:
			users = append(users, id)
		default:
			groups = append(groups, id)
		}
	}
	rj.done()
	// Both kinds are tried: the one the sink took is queued even when the
	// other fails (Graph's retry queues it again, which is harmless).
	err := errors.Join(
		h.pass(r.Context(), "groups", groups, h.sink.Changed),
		h.pass(r.Context(), "users", users, h.sink.UsersChanged),
	)
	if err != nil {
		h.stats.sinkErrors.Add(1)
		http.Error(w, http.StatusText(http.StatusServiceUnavailable), http.StatusServiceUnavailable)
		return
	}
	w.WriteHeader(http.StatusAccepted)
}

// pass hands the distinct ids of the accepted items of one kind ("groups"
// or "users") to the sink in one call, and counts the items once the sink
// took them. Nothing is called for no ids.
func (h *Handler) pass(ctx context.Context, kind string, ids []string, call func(context.Context, []string) error) error {
	if len(ids) == 0 {
		return nil
	}
	accepted := len(ids)
	slices.Sort(ids)
	ids = slices.Compact(ids)
	if err := call(ctx, ids); err != nil {
		h.log.ErrorContext(ctx, "webhook sink failed", kind, len(ids), "err", err)
		return err
	}
	h.stats.accepted.Add(int64(accepted))
	h.log.DebugContext(ctx, "webhook changes accepted", "items", accepted, kind, len(ids))
	return nil
}

// checkChange checks one change notification and returns its object id,
// lowercase, and whether that is a user (from the users subscription, with
// resource Users/{id}) rather than a group (from a group subscription, with
// resource Groups/{id}). The group id is also returned with
// reasonOutOfScope, for the log. Users have no scope check here: the
// webhook does not know which users are synced; the worker filters.
func (h *Handler) checkChange(ctx context.Context, it *item) (id string, user bool, why reason) {
	sub, why := h.authenticate(ctx, it)
	if why != reasonNone {
		return "", false, why
	}
	if it.ChangeType != changeUpdated && it.ChangeType != changeDeleted {
		return "", false, reasonChangeType
	}
	prefix := groupResourcePrefix
	if sub.OnUsers() {
		prefix = userResourcePrefix
	}
	id, ok := idFromResource(it.Resource, prefix)
	if !ok {
		return "", false, reasonResource
	}
	if it.ResourceData.ID != "" && !strings.EqualFold(it.ResourceData.ID, id) {
		return "", false, reasonResource
	}
	if sub.OnUsers() {
		return id, true, reasonNone
	}
	if !h.inScope(ctx, id) {
		return id, false, reasonOutOfScope
	}
	return id, false, reasonNone
}
