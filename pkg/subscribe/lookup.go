package subscribe

import (
	"context"
	"sync/atomic"
	"time"

	"github.com/xtsync/xtsync/internal/lazy"
	"github.com/xtsync/xtsync/pkg/engine"
)

// StoredLookup answers the webhook's subscription check from the state
// store, for a process that does not manage subscriptions (the webhook
// Lambda). It loads them on first use (never for a validation request),
// keeps them for a minute, and reloads early, at most every 5 s, when asked
// for an id it does not know (a subscription created since). A load runs
// under the caller's context, bounded to 3 s; when it fails, the last good
// set answers.
type StoredLookup struct {
	subs  lazy.Value[map[string]engine.Subscription]
	clock engine.Clock
	// refused is when a reload for an unknown id was last refused (the
	// set was loaded less than 5 s before): Unsure's answer.
	refused atomic.Int64
}

var _ interface {
	Unsure(ctx context.Context, id string) bool
} = (*StoredLookup)(nil)

// NewStoredLookup returns a lookup over the subscriptions of store.
func NewStoredLookup(store engine.Store, clock engine.Clock) *StoredLookup {
	l := &StoredLookup{clock: clock}
	l.subs = lazy.Value[map[string]engine.Subscription]{
		Clock: clock, TTL: time.Minute,
		Load: func(ctx context.Context) (map[string]engine.Subscription, error) {
			subs, err := Stored(ctx, store)
			if err != nil {
				return nil, err
			}
			m := make(map[string]engine.Subscription, len(subs))
			for _, s := range subs {
				m[s.ID] = s
			}
			return m, nil
		},
	}
	return l
}

// Lookup returns a subscription xtsync made, and false for any other id.
func (l *StoredLookup) Lookup(ctx context.Context, id string) (engine.Subscription, bool) {
	subs, _ := l.subs.Get(ctx, false)
	if s, ok := subs[id]; ok {
		return s, true
	}
	subs, _, refused := l.subs.Refresh(ctx) // created since the last load?
	s, ok := subs[id]
	if !ok && refused {
		l.refused.Store(l.clock.Now().UnixNano())
	}
	return s, ok
}

// Unsure reports whether an id Lookup did not know may be a subscription
// made since the set was loaded: its reload was refused, the set being
// less than 5 s old. The webhook then has Graph deliver the notification
// again (by then the set reloads); an id still unknown after a reload is
// not (webhook.UnsureLookup).
func (l *StoredLookup) Unsure(_ context.Context, _ string) bool {
	at := l.refused.Load()
	return at != 0 && l.clock.Now().Sub(time.Unix(0, at)) < time.Second
}

// Err is the last load error, if the last load failed.
func (l *StoredLookup) Err() error { return l.subs.Err() }
