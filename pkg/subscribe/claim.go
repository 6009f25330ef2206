package subscribe

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/xtsync/xtsync/pkg/engine"
)

// A claim keeps two processes on one state (serve's lanes, the AWS
// functions' containers, an operator's command) from subscribing twice to
// one resource: a manager creates a subscription only after it has made
// the resource's claim record (a conditional put of a record that must not
// exist), and notes in it the subscription it made. Another process that
// finds the claim keeps the subscription it names, or, while the creation
// is in flight, leaves the resource to it. Duplicates would spend Graph's
// quota of 100 subscriptions per app per tenant and deliver each change
// twice.
const claimPrefix = "subscription-claim:"

// claimTTL is how long a claim without a subscription holds off other
// processes: one whose creator died while creating is taken over after it.
// Graph's create, validation handshake included, answers within 10 s.
const claimTTL = 2 * time.Minute

// errClaimed is a resource whose subscription another process is making.
var errClaimed = errors.New("another process is subscribing to it")

// claim is a resource's claim record.
type claim struct {
	// ID is the subscription made for the resource; empty while the
	// creation is in flight.
	ID      string    `json:"id,omitempty"`
	Claimed time.Time `json:"claimed"`
}

// claimKey is the key of resource's claim, per kind of manager: the source
// and the target each have a /groups.
func (m *Manager) claimKey(resource string) string {
	kind := "source:"
	if m.mirrors() {
		kind = "mirrors:"
	}
	return claimPrefix + kind + resource
}

// claim takes resource for a creation and returns the claim's version. When
// the claim names a subscription still recorded, it returns that
// subscription instead (made meanwhile by another process); when another
// process is creating it, errClaimed. A claim whose subscription is no
// longer recorded, or without one and older than claimTTL, is taken over.
func (m *Manager) claim(ctx context.Context, resource string) (int64, *stored, error) {
	key := m.claimKey(resource)
	now := m.cfg.Clock.Now()
	data, _ := json.Marshal(claim{Claimed: now})
	for range 3 {
		v, err := m.cfg.Store.Put(ctx, engine.RecordMeta, key, 0, data)
		if err == nil {
			return v, nil, nil
		}
		if !errors.Is(err, engine.ErrConflict) {
			return 0, nil, fmt.Errorf("claim %s: %w", resource, err)
		}
		rec, err := m.cfg.Store.Get(ctx, engine.RecordMeta, key)
		switch {
		case errors.Is(err, engine.ErrNotFound):
			continue // released meanwhile
		case err != nil:
			return 0, nil, fmt.Errorf("read the claim of %s: %w", resource, err)
		}
		var c claim
		if err := json.Unmarshal(rec.Data, &c); err != nil {
			return 0, nil, fmt.Errorf("decode the claim of %s: %w", resource, err)
		}
		if c.ID != "" {
			s, found, err := m.record(ctx, c.ID)
			if err != nil {
				return 0, nil, err
			}
			if found && s.Resource == resource {
				return 0, &s, nil
			}
		} else if now.Sub(c.Claimed) < claimTTL {
			return 0, nil, errClaimed
		}
		v, err = m.cfg.Store.Put(ctx, engine.RecordMeta, key, rec.Version, data)
		if err == nil {
			m.info("subscription claim taken over", "resource", resource, "claimed", c.Claimed, "subscription", c.ID)
			return v, nil, nil
		}
		if !errors.Is(err, engine.ErrConflict) {
			return 0, nil, fmt.Errorf("claim %s: %w", resource, err)
		}
	}
	return 0, nil, errClaimed
}

// settle notes in resource's claim (at version) the subscription made for
// it. A failure is logged: the claim then holds off others for claimTTL,
// and by then the subscription's record is there to be loaded.
func (m *Manager) settle(ctx context.Context, resource string, version int64, id string) {
	data, _ := json.Marshal(claim{ID: id, Claimed: m.cfg.Clock.Now()})
	if _, err := m.cfg.Store.Put(ctx, engine.RecordMeta, m.claimKey(resource), version, data); err != nil {
		m.warn("note the subscription in its claim", "resource", resource, "subscription", id, "err", err)
	}
}

// unclaim removes resource's claim when it is the one at version (a
// creation that failed), or, with version 0, when it names subscription id
// (one deleted or lost). A failure is logged: a claim whose subscription
// is gone is taken over by the next creation.
func (m *Manager) unclaim(ctx context.Context, resource string, version int64, id string) {
	key := m.claimKey(resource)
	if version == 0 {
		rec, err := m.cfg.Store.Get(ctx, engine.RecordMeta, key)
		if errors.Is(err, engine.ErrNotFound) {
			return
		}
		var c claim
		if err == nil {
			err = json.Unmarshal(rec.Data, &c)
		}
		if err == nil && c.ID != id {
			return // another subscription's, or a creation in flight
		}
		if err != nil {
			m.warn("release the subscription's claim", "resource", resource, "err", err)
			return
		}
		version = rec.Version
	}
	err := m.cfg.Store.Delete(ctx, engine.RecordMeta, key, version)
	if err != nil && !errors.Is(err, engine.ErrNotFound) && !errors.Is(err, engine.ErrConflict) {
		m.warn("release the subscription's claim", "resource", resource, "err", err)
	}
}

// record reads subscription id's record (found false when there is none).
func (m *Manager) record(ctx context.Context, id string) (stored, bool, error) {
	rec, err := m.cfg.Store.Get(ctx, engine.RecordMeta, recordPrefix+id)
	switch {
	case errors.Is(err, engine.ErrNotFound):
		return stored{}, false, nil
	case err != nil:
		return stored{}, false, fmt.Errorf("load subscription %s: %w", id, err)
	}
	s, err := decodeStored(rec)
	return s, err == nil, err
}
