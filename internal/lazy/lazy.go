// Package lazy holds a value loaded on first use, under the context of the
// caller that needs it, for the webhook function, which must answer Graph's
// validation request before it makes any AWS call. It is the one loader
// with retry throttling: the webhook's scope and its subscription lookup
// both use it.
package lazy

import (
	"context"
	"sync"
	"time"

	"github.com/xtsync/xtsync/pkg/engine"
)

// Defaults for the zero fields of Value.
const (
	defaultRetry   = 5 * time.Second
	defaultTimeout = 3 * time.Second
)

// Value is a value loaded by Load. It is safe for concurrent use; a load
// holds the lock, so concurrent callers wait for it rather than load twice.
type Value[T any] struct {
	// Load loads the value.
	Load func(ctx context.Context) (T, error)
	// Clock tells the time.
	Clock engine.Clock
	// TTL is how long a loaded value is kept; forever when zero.
	TTL time.Duration
	// Retry is the least time between two loads (after a failed one, or an
	// early reload Get asks for); 5 s when zero. A load whose caller went
	// away does not count.
	Retry time.Duration
	// Timeout bounds each load; 3 s when zero.
	Timeout time.Duration

	mu     sync.Mutex
	v      T
	ok     bool
	loaded time.Time
	tried  time.Time
	err    error
}

// Get returns the value and whether one was ever loaded. It loads under ctx
// (the caller's, bounded by Timeout) when no value is kept, when the kept
// one is older than TTL, or when refresh asks for it (a caller that knows
// the kept value is missing something), but never twice within Retry. When
// a load fails, the last good value answers.
func (l *Value[T]) Get(ctx context.Context, refresh bool) (T, bool) {
	v, ok, _ := l.get(ctx, refresh)
	return v, ok
}

// Refresh is Get asked to reload; it also reports whether the Retry
// interval refused the reload (the value answering is then the one loaded
// less than Retry ago).
func (l *Value[T]) Refresh(ctx context.Context) (v T, ok, refused bool) {
	return l.get(ctx, true)
}

func (l *Value[T]) get(ctx context.Context, refresh bool) (T, bool, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.Clock.Now()
	stale := !l.ok || l.TTL > 0 && now.Sub(l.loaded) > l.TTL
	allowed := l.tried.IsZero() || now.Sub(l.tried) >= orDefault(l.Retry, defaultRetry)
	if (stale || refresh) && allowed {
		l.load(ctx, now)
	}
	return l.v, l.ok, refresh && !allowed
}

func (l *Value[T]) load(ctx context.Context, now time.Time) {
	lctx, cancel := context.WithTimeout(ctx, orDefault(l.Timeout, defaultTimeout))
	defer cancel()
	v, err := l.Load(lctx)
	if err != nil {
		l.err = err
		if ctx.Err() == nil {
			l.tried = now // a caller that went away does not hold off the next
		}
		return
	}
	l.v, l.ok, l.loaded, l.tried, l.err = v, true, now, now, nil
}

// Err is the last load's error, nil after a good one.
func (l *Value[T]) Err() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.err
}

func orDefault(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}
