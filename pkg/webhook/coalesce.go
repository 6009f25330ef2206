package webhook

import (
	"sync"
	"time"
)

// maxCoalesced caps the (subscription, event) pairs a coalescer remembers.
// Only authenticated items reach it (subscriptions xtsync created: at most
// 100 per app per tenant), each with one of three events, so the cap is
// never reached in normal use; past it the oldest pair is forgotten, which
// at worst lets one more event through.
const maxCoalesced = 1024

// coalesceKey is a subscription and one of its lifecycle events.
type coalesceKey struct{ sub, event string }

// coalesceEntry is when a pair was last passed on, and which claim that was.
type coalesceEntry struct {
	at  time.Time
	seq uint64
}

// ticket identifies a recorded claim, so that a failed pass can be undone
// without undoing a later one.
type ticket struct {
	key coalesceKey
	seq uint64
}

// coalescer passes on at most one of each lifecycle event per subscription
// per window. It is safe for concurrent use. A nil coalescer passes every
// event on.
type coalescer struct {
	window time.Duration
	max    int

	mu   sync.Mutex
	seq  uint64
	seen map[coalesceKey]coalesceEntry
}

// newCoalescer returns a coalescer for window remembering at most max pairs.
func newCoalescer(window time.Duration, max int) *coalescer {
	return &coalescer{window: window, max: max, seen: make(map[coalesceKey]coalesceEntry)}
}

// claim reports whether event for sub is to be passed on at now, that is
// whether none was within the window before now, and if so records it at
// once, so that a concurrent replay is coalesced while the first is being
// passed on. When passing it on fails, undo the claim with forget so that
// Graph's retry gets through.
func (c *coalescer) claim(sub, event string, now time.Time) (ticket, bool) {
	if c == nil {
		return ticket{}, true
	}
	k := coalesceKey{sub, event}
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.seen[k]; ok && now.Sub(e.at) < c.window {
		return ticket{}, false
	}
	if _, ok := c.seen[k]; !ok && len(c.seen) >= c.max {
		c.evictLocked(now)
	}
	c.seq++
	c.seen[k] = coalesceEntry{at: now, seq: c.seq}
	return ticket{key: k, seq: c.seq}, true
}

// forget undoes a claim, unless the pair was claimed again since.
func (c *coalescer) forget(t ticket) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.seen[t.key]; ok && e.seq == t.seq {
		delete(c.seen, t.key)
	}
}

// evictLocked makes room for one pair: it drops the pairs whose window is
// over and, when none is, the oldest. It scans the table, which is small and
// full only in abnormal use; c.mu is held.
func (c *coalescer) evictLocked(now time.Time) {
	var oldest coalesceKey
	var oldestEntry coalesceEntry
	found := false
	for k, e := range c.seen {
		if now.Sub(e.at) >= c.window {
			delete(c.seen, k)
			continue
		}
		if !found || e.seq < oldestEntry.seq {
			oldest, oldestEntry, found = k, e, true
		}
	}
	if len(c.seen) >= c.max && found {
		delete(c.seen, oldest)
	}
}

// size returns how many pairs are remembered.
func (c *coalescer) size() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.seen)
}
