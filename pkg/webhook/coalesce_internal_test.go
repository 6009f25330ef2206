package webhook

import (
	"fmt"
	"testing"
	"time"
)

// TestCoalescerBounded: the table never holds more than its cap; when full
// it drops expired pairs first, then the oldest; forgetting a claim does
// not undo a later one.
func TestCoalescerBounded(t *testing.T) {
	const window, capacity = time.Minute, 16
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	sub := func(i int) string { return fmt.Sprintf("sub-%04d", i) }

	t.Run("full of live pairs: the oldest goes", func(t *testing.T) {
		c := newCoalescer(window, capacity)
		for i := range 3 * capacity {
			if _, ok := c.claim(sub(i), EventMissed, t0); !ok {
				t.Fatalf("claim %d coalesced", i)
			}
			if n := c.size(); n > capacity {
				t.Fatalf("after %d claims: %d pairs, cap %d", i+1, n, capacity)
			}
		}
		// The newest capacity pairs are remembered (coalesced), the older
		// ones were evicted (pass again).
		for i := 2 * capacity; i < 3*capacity; i++ {
			if _, ok := c.claim(sub(i), EventMissed, t0); ok {
				t.Errorf("%s forgotten, want remembered", sub(i))
			}
		}
		for i := range 2 * capacity {
			if _, ok := c.claim(sub(i), EventMissed, t0); !ok {
				t.Errorf("%s remembered, want evicted", sub(i))
			}
		}
		if n := c.size(); n != capacity {
			t.Errorf("%d pairs, want %d", n, capacity)
		}
	})

	t.Run("expired pairs go first", func(t *testing.T) {
		c := newCoalescer(window, capacity)
		for i := range capacity - 1 {
			c.claim(sub(i), EventMissed, t0)
		}
		c.claim("recent", EventMissed, t0.Add(window-time.Second))
		c.claim("new", EventMissed, t0.Add(window)) // the first capacity-1 have expired
		if n := c.size(); n != 2 {
			t.Errorf("%d pairs, want 2 (recent, new)", n)
		}
		if _, ok := c.claim("recent", EventMissed, t0.Add(window)); ok {
			t.Error("recent pair evicted")
		}
	})

	t.Run("forget undoes only its own claim", func(t *testing.T) {
		c := newCoalescer(window, 1)
		first, _ := c.claim("a", EventMissed, t0)
		c.claim("b", EventMissed, t0) // evicts a
		second, ok := c.claim("a", EventMissed, t0)
		if !ok {
			t.Fatal("a coalesced after eviction")
		}
		c.forget(first) // stale: must not remove the second claim
		if _, ok := c.claim("a", EventMissed, t0); ok {
			t.Error("stale forget removed a later claim")
		}
		c.forget(second)
		if _, ok := c.claim("a", EventMissed, t0); !ok {
			t.Error("forget did not undo the claim")
		}
	})
}
