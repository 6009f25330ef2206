package webhook

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
)

// Change types of a group or user subscription ("created" never comes for
// groups: creation is notified as "updated").
const (
	changeUpdated = "updated"
	changeDeleted = "deleted"
)

// changeKind is what an accepted change notification names, and so which
// Sink method receives it.
type changeKind uint8

const (
	// kindGroup is a source group, from a group subscription (Sink.Changed).
	kindGroup changeKind = iota
	// kindUser is a source user, from the users subscription
	// (Sink.UsersChanged).
	kindUser
	// kindMirror is a mirror, a target group, from a mirrors subscription,
	// named by its source group (Sink.MirrorsChanged).
	kindMirror
	// kindTargetUser is a target user, from the mirrors subscription on
	// the target's users (Sink.TargetUsersChanged).
	kindTargetUser
)

// serveNotifications handles POST /notifications: it checks each item,
// hands the distinct source groups of the good ones to Sink.Changed in one
// call, the distinct users to Sink.UsersChanged in one call and the
// distinct source groups of the mirrors to Sink.MirrorsChanged in one call,
// and answers 202, or 503 when the sink fails so that Graph retries.
func (h *Handler) serveNotifications(w http.ResponseWriter, r *http.Request) {
	items, ok := h.readItems(w, r)
	if !ok {
		return
	}
	rj := rejections{h: h, ctx: r.Context()}
	var groups, users, mirrors, targetUsers []string
	again := 0 // items of a subscription not known yet: Graph delivers them again
	for i := range items {
		id, kind, why := h.checkChange(r.Context(), &items[i])
		switch {
		case why == reasonUnknownSubscription && h.unsure(r.Context(), items[i].SubscriptionID):
			again++
		case why != reasonNone:
			rj.add(&items[i], why, id)
		case kind == kindUser:
			users = append(users, id)
		case kind == kindMirror:
			mirrors = append(mirrors, id)
		case kind == kindTargetUser:
			targetUsers = append(targetUsers, id)
		default:
			groups = append(groups, id)
		}
	}
	rj.done()
	// Every kind is tried: one the sink took is queued even when another
	// fails (Graph's retry queues it again, which is harmless).
	err := errors.Join(
		h.pass(r.Context(), "groups", groups, h.sink.Changed, nil),
		h.pass(r.Context(), "users", users, h.sink.UsersChanged, nil),
		h.pass(r.Context(), "mirrors", mirrors, h.sink.MirrorsChanged, &h.stats.acceptedMirrors),
		h.pass(r.Context(), "target_users", targetUsers, h.sink.TargetUsersChanged, &h.stats.acceptedMirrors),
	)
	if err != nil {
		h.stats.sinkErrors.Add(1)
		http.Error(w, http.StatusText(http.StatusServiceUnavailable), http.StatusServiceUnavailable)
		return
	}
	if again > 0 {
		// The others are queued; their second delivery is coalesced.
		h.stats.notYetKnown.Add(int64(again))
		h.log.InfoContext(r.Context(), "webhook items of a subscription not known yet: graph delivers them again", "items", again)
		http.Error(w, http.StatusText(http.StatusServiceUnavailable), http.StatusServiceUnavailable)
		return
	}
	w.WriteHeader(http.StatusAccepted)
}

// unsure reports whether an unknown subscription id may be one made
// moments ago (UnsureLookup).
func (h *Handler) unsure(ctx context.Context, id string) bool {
	u, ok := h.subs.(UnsureLookup)
	return ok && id != "" && u.Unsure(ctx, id)
}

// pass hands the distinct ids of the accepted items of one kind ("groups",
// "users" or "mirrors") to the sink in one call, and counts the items, in
// Stats.Accepted and in also when not nil, once the sink took them.
// Nothing is called for no ids.
func (h *Handler) pass(ctx context.Context, kind string, ids []string, call func(context.Context, []string) error, also *atomic.Int64) error {
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
	if also != nil {
		also.Add(int64(accepted))
	}
	h.log.DebugContext(ctx, "webhook changes accepted", "items", accepted, kind, len(ids))
	return nil
}

// checkChange checks one change notification and returns what it names,
// lowercase: a source group (from a group subscription, with resource
// Groups/{id}), a user (from the users subscription, with resource
// Users/{id}), or the source group of a mirror (from a mirrors
// subscription, with resource Groups/{target id}, which MirrorOf maps). The
// group id, or the target group id of a mirror, is also returned with
// reasonOutOfScope, for the log. Users have no scope check here: the
// webhook does not know which users are synced; the worker filters.
func (h *Handler) checkChange(ctx context.Context, it *item) (id string, kind changeKind, why reason) {
	sub, why := h.authenticate(ctx, it)
	if why != reasonNone {
		return "", kindGroup, why
	}
	if it.ChangeType != changeUpdated && it.ChangeType != changeDeleted {
		return "", kindGroup, reasonChangeType
	}
	prefix := groupResourcePrefix
	switch {
	case sub.Mirrors && sub.OnUsers():
		kind, prefix = kindTargetUser, userResourcePrefix
	case sub.Mirrors:
		kind = kindMirror
	case sub.OnUsers():
		kind, prefix = kindUser, userResourcePrefix
	}
	id, ok := idFromResource(it.Resource, prefix)
	if !ok {
		return "", kind, reasonResource
	}
	if it.ResourceData.ID != "" && !strings.EqualFold(it.ResourceData.ID, id) {
		return "", kind, reasonResource
	}
	switch kind {
	case kindUser, kindTargetUser:
		return id, kind, reasonNone
	case kindMirror:
		// A subscription on one mirror names its source group; it
		// speaks of that mirror only.
		if sub.Source != "" {
			if !strings.EqualFold(sub.Resource, "/groups/"+id) {
				return id, kind, reasonResource
			}
			return strings.ToLower(sub.Source), kind, reasonNone
		}
		source, ok := h.sourceOf(ctx, id)
		if !ok {
			return id, kind, reasonOutOfScope
		}
		return source, kind, reasonNone
	}
	if !h.inScope(ctx, id) {
		return id, kind, reasonOutOfScope
	}
	return id, kind, reasonNone
}

// sourceOf returns the source group, lowercase, of the mirror targetID, and
// false when it is not a mirror (or there is no MirrorOf).
func (h *Handler) sourceOf(ctx context.Context, targetID string) (string, bool) {
	if h.mirrorOf == nil {
		return "", false
	}
	source, ok := h.mirrorOf(ctx, targetID)
	if !ok || source == "" {
		return "", false
	}
	return strings.ToLower(source), true
}
