package subscribe

import (
	"context"
	"sync"
	"time"

	"github.com/xtsync/xtsync/pkg/engine"
	"github.com/xtsync/xtsync/pkg/webhook"
)

var _ webhook.Subscriptions = (*StoredLookup)(nil)

// StoredLookup answers the webhook's subscription check from the state
// store, for a process that does not manage subscriptions (the webhook
// Lambda). It loads them on first use (never for a validation request),
// keeps them for TTL, and reloads early, at most every MinReload, when asked
// for an id it does not know (a subscription created since). A load runs
// under the caller's context, bounded by Timeout.
type StoredLookup struct {
	Store     engine.Store
	Clock     engine.Clock
	TTL       time.Duration // 1 min when zero
	MinReload time.Duration // 5 s when zero
	Timeout   time.Duration // per load, 3 s when zero

	mu     sync.Mutex
	subs   map[string]Subscription
	loaded time.Time
	tried  time.Time
	err    error
}

// Lookup returns the clientState, the tenant and the kind of a known
// subscription. A load it needs runs under ctx (the request's), bounded by
// Timeout; when that fails, the last good set answers.
func (l *StoredLookup) Lookup(ctx context.Context, id string) (webhook.Subscription, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.Clock.Now()
	ttl, minReload := l.TTL, l.MinReload
	if ttl == 0 {
		ttl = time.Minute
	}
	if minReload == 0 {
		minReload = 5 * time.Second
	}
	_, known := l.subs[id]
	stale := l.subs == nil || now.Sub(l.loaded) > ttl
	if (stale || !known) && now.Sub(l.tried) >= minReload || l.subs == nil && l.tried.IsZero() {
		l.reload(ctx, now)
	}
	s, found := l.subs[id]
	if !found {
		return webhook.Subscription{}, false
	}
	return s.hook(), true
}

func (l *StoredLookup) reload(ctx context.Context, now time.Time) {
	timeout := l.Timeout
	if timeout == 0 {
		timeout = 3 * time.Second
	}
	caller := ctx
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	subs, err := Stored(ctx, l.Store)
	if err != nil {
		l.err = err // keep serving the last good set
		if caller.Err() == nil {
			l.tried = now // a request that went away does not hold off the next
		}
		return
	}
	l.tried = now
	m := make(map[string]Subscription, len(subs))
	for _, s := range subs {
		m[s.ID] = s
	}
	l.subs, l.loaded, l.err = m, now, nil
}

// Err is the last load error, if the last load failed.
func (l *StoredLookup) Err() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.err
}
