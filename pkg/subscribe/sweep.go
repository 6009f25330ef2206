package subscribe

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/xtsync/xtsync/pkg/engine"
)

// settleTime is how long after Graph answers a create or a renewal the
// state may not show it yet: a process records its subscription within
// seconds of Graph's answer; claimTTL leaves ample room.
const settleTime = claimTTL

// sweep squares the state with what Graph holds on the tenant, at every
// Ensure, so that a crash between Graph's answer and the record costs
// nothing lasting:
//   - a subscription Graph holds for this deployment (its notification URL)
//     that no record names, written more than settleTime ago, is one whose
//     creator stopped before recording it: it is deleted, or it would use
//     Graph's quota and deliver notifications the webhook refuses for up to
//     29 days;
//   - a subscription of the manager's kind recorded, written more than
//     settleTime ago, that Graph no longer holds is made again (Recreate),
//     or its resource would be notified of nothing until its renewal.
//
// When a subscription was last written is told by its expiry: every create
// and renewal asks for expiry(), MaxLifetime less 5 minutes from then.
//
// recorded are the ids of the subscriptions recorded, of both kinds, as
// Ensure just loaded them.
func (m *Manager) sweep(ctx context.Context, recorded map[string]bool) error {
	held, err := m.cfg.Graph.List(ctx)
	if err != nil {
		return fmt.Errorf("list the subscriptions Graph holds: %w", err)
	}
	now := m.cfg.Clock.Now()
	settled := func(expires time.Time) bool {
		return now.Sub(expires.Add(-(MaxLifetime - 5*time.Minute))) >= settleTime
	}
	ours := m.cfg.PublicURL + "/notifications"
	var errs []error
	inGraph := make(map[string]bool, len(held))
	for _, s := range held {
		inGraph[s.ID] = true
		if s.NotificationURL != ours || recorded[s.ID] || !settled(s.Expires) {
			continue
		}
		if err := m.cfg.Graph.Delete(ctx, s.ID); err != nil && !errors.Is(err, engine.ErrNotFound) {
			errs = append(errs, fmt.Errorf("delete unrecorded subscription %s: %w", s.ID, err))
			continue
		}
		m.info("subscription deleted", "subscription", s.ID, "resource", s.Resource, "reason", "no record names it: its creator stopped before recording it")
	}
	for _, s := range m.List() {
		if inGraph[s.ID] || !settled(s.Expires) {
			continue
		}
		m.info("subscription lost", "subscription", s.ID, "resource", s.Resource, "reason", "Graph no longer holds it")
		if err := m.Recreate(ctx, s.ID); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
