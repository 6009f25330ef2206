package lazy_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/xtsync/xtsync/internal/lazy"
)

type clock struct{ now time.Time }

func (c *clock) Now() time.Time { return c.now }

// TestValue checks that a value is loaded under the caller's context
// (bounded), kept, reloaded after its TTL or on refresh, never twice within
// Retry, and that the last good value answers when a load fails.
func TestValue(t *testing.T) {
	type key struct{}
	c := &clock{time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)}
	loads, tries, fail := 0, 0, false
	v := &lazy.Value[int]{Clock: c, TTL: time.Minute, Load: func(ctx context.Context) (int, error) {
		if ctx.Value(key{}) != "request" {
			t.Error("load did not get the caller's context")
		}
		if _, ok := ctx.Deadline(); !ok {
			t.Error("load has no deadline")
		}
		tries++
		if fail {
			return 0, errors.New("ssm: access denied")
		}
		loads++
		return loads, nil
	}}
	ctx := context.WithValue(t.Context(), key{}, "request")
	steps := []struct {
		name    string
		advance time.Duration
		refresh bool
		fail    bool
		want    int
		tries   int
	}{
		{"first use loads", 0, false, false, 1, 1},
		{"refresh within Retry does not load", 2 * time.Second, true, false, 1, 1},
		{"kept", 30 * time.Second, false, false, 1, 1},
		{"refresh after Retry loads", 0, true, false, 2, 2},
		{"stale after the TTL", 61 * time.Second, false, false, 3, 3},
		{"a failed load keeps the last good value", 61 * time.Second, false, true, 3, 4},
		{"and is not tried again within Retry (its error stays)", time.Second, false, true, 3, 4},
		{"after Retry it is", 5 * time.Second, false, false, 4, 5},
	}
	for _, s := range steps {
		c.now = c.now.Add(s.advance)
		fail = s.fail
		got, ok := v.Get(ctx, s.refresh)
		if got != s.want || !ok || tries != s.tries {
			t.Fatalf("%s: Get = %d, %t after %d loads; want %d, true after %d", s.name, got, ok, tries, s.want, s.tries)
		}
		if (v.Err() != nil) != s.fail {
			t.Fatalf("%s: Err() = %v", s.name, v.Err())
		}
	}
}

// TestValueCancelled checks that a load under a done context fails closed
// (no value) and does not hold off the next caller.
func TestValueCancelled(t *testing.T) {
	c := &clock{time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)}
	v := &lazy.Value[string]{Clock: c, Load: func(ctx context.Context) (string, error) {
		if err := ctx.Err(); err != nil {
			return "", err
		}
		return "loaded", nil
	}}
	done, cancel := context.WithCancel(t.Context())
	cancel()
	if got, ok := v.Get(done, false); ok || got != "" {
		t.Fatalf("Get under a cancelled context = %q, %t", got, ok)
	}
	if got, ok := v.Get(t.Context(), false); !ok || got != "loaded" {
		t.Fatalf("the next caller was held off: %q, %t", got, ok)
	}
}
