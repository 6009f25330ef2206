package app

import (
	"context"
	"strings"
	"time"

	"github.com/xtsync/xtsync/internal/lazy"
	"github.com/xtsync/xtsync/pkg/engine"
)

var _ MirrorIndex = (*StoredMirrors)(nil)

// MirrorIndex maps a mirror, a group of the target tenant, to the source
// group it mirrors: the webhook's check of a mirrors subscription's
// notification (webhook.Config.MirrorOf).
type MirrorIndex interface {
	// SourceOf returns the source group of the target group targetGroupID,
	// and false when that is not a mirror. ctx is the request's context,
	// bounding any I/O the answer needs.
	SourceOf(ctx context.Context, targetGroupID string) (string, bool)
}

// mirrorsRetry is the least time between two loads of StoredMirrors.
const mirrorsRetry = 5 * time.Second

// StoredMirrors answers SourceOf from the group mappings of the state
// store, for the webhook (serve's, and the webhook Lambda, which has no
// engine). It loads them on first use (never for a validation request) and
// keeps them; asked for a target group it does not know (a mirror created
// since), it reloads, but at most every 5 s, so that the notifications of
// target groups that are no mirrors (a tenant-wide /groups subscription
// sees every group) cannot make it read the store per request. A mapping
// kept after its mirror went away is harmless: its notifications only
// queue a mirror pass, which finds nothing to repair. A load runs under the
// caller's context, bounded to 3 s, one at a time; when it fails, the last
// good index answers (Err tells).
type StoredMirrors struct {
	sources lazy.Value[map[string]string] // target id → source id, both lowercase
}

// NewStoredMirrors returns an index over the group mappings of store.
func NewStoredMirrors(store engine.Store, clock engine.Clock) *StoredMirrors {
	m := &StoredMirrors{}
	m.sources = lazy.Value[map[string]string]{
		Clock: clock, Retry: mirrorsRetry,
		Load: func(ctx context.Context) (map[string]string, error) {
			maps, err := engine.LoadGroupMappings(ctx, store)
			if err != nil {
				return nil, err
			}
			idx := make(map[string]string, len(maps))
			for _, gm := range maps {
				if gm.TargetID != "" { // not a pending creation
					idx[strings.ToLower(gm.TargetID)] = strings.ToLower(gm.SourceID)
				}
			}
			return idx, nil
		},
	}
	return m
}

// SourceOf returns the source group, lowercase, of the mirror
// targetGroupID (compared without regard to case), and false when no
// stored mapping has it as its target.
func (m *StoredMirrors) SourceOf(ctx context.Context, targetGroupID string) (string, bool) {
	target := strings.ToLower(targetGroupID)
	idx, _ := m.sources.Get(ctx, false)
	if source, ok := idx[target]; ok {
		return source, true
	}
	idx, _ = m.sources.Get(ctx, true) // created since the last load?
	source, ok := idx[target]
	return source, ok
}

// Err is the last load error, if the last load failed.
func (m *StoredMirrors) Err() error { return m.sources.Err() }
