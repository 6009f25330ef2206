package memqueue_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/xtsync/xtsync/pkg/engine"
	"github.com/xtsync/xtsync/pkg/memqueue"
	"github.com/xtsync/xtsync/pkg/task"
)

// TestParking parks a task after MaxAttempts failures and revives it with a
// new Enqueue, attempts reset.
func TestParking(t *testing.T) {
	parkedAt := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	var runs atomic.Int64
	var healthy atomic.Bool
	process := func(ctx context.Context, tk task.Task) error {
		runs.Add(1)
		if healthy.Load() {
			return nil
		}
		return errors.New("target tenant said 403")
	}
	q := newQueue(t, process, memqueue.Options{MaxAttempts: 3, Clock: fixedClock{t: parkedAt}})
	q.Start(t.Context())
	mustEnqueue(t, q, "g1")
	waitIdle(t, q)

	if got := runs.Load(); got != 3 {
		t.Fatalf("runs before parking = %d, want 3", got)
	}
	want := memqueue.Parked{Task: shard("g1"), Attempts: 3, LastError: "target tenant said 403", ParkedAt: parkedAt}
	if p := q.Parked(); len(p) != 1 || p[0] != want {
		t.Fatalf("parked = %+v, want [%+v]", p, want)
	}
	if s := q.Stats(); s.Parked != 1 || !q.Idle() {
		t.Fatalf("stats = %+v idle %v, want 1 parked and idle", s, q.Idle())
	}

	// Revived while still failing: attempts start again from zero.
	mustEnqueue(t, q, "g1")
	waitIdle(t, q)
	if got := runs.Load(); got != 6 {
		t.Fatalf("runs after first revival = %d, want 6", got)
	}
	if p := q.Parked(); len(p) != 1 || p[0].Attempts != 3 {
		t.Fatalf("parked = %+v, want g1 parked again after 3 attempts", p)
	}

	// Revived once healthy: one run, nothing parked.
	healthy.Store(true)
	mustEnqueue(t, q, "g1")
	waitIdle(t, q)
	if got := runs.Load(); got != 7 {
		t.Errorf("runs after second revival = %d, want 7", got)
	}
	if p := q.Parked(); len(p) != 0 {
		t.Errorf("parked = %+v, want none", p)
	}
	if s := q.Stats(); s.Parked != 0 || s.Processed != 1 || s.Failed != 6 {
		t.Errorf("stats = %+v, want 0 parked, 1 processed, 6 failed", s)
	}
}

// steppingClock advances one second on each reading; its timers are the
// wall clock's.
type steppingClock struct {
	engine.SystemClock
	n atomic.Int64
}

func (c *steppingClock) Now() time.Time {
	return time.Unix(1_700_000_000+c.n.Add(1), 0)
}

// TestParkedOrder lists parked tasks oldest first, then by key.
func TestParkedOrder(t *testing.T) {
	tests := []struct {
		name  string
		clock engine.TimerClock
		want  []string
	}{
		{name: "by time parked", clock: &steppingClock{}, want: []string{"b", "a", "c"}},
		{name: "same time by key", clock: fixedClock{t: time.Unix(1_700_000_000, 0)}, want: []string{"a", "b", "c"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			process := func(ctx context.Context, tk task.Task) error { return errors.New("no") }
			q := newQueue(t, process, memqueue.Options{MaxAttempts: 1, Workers: 1, Clock: tt.clock})
			for _, k := range []string{"b", "a", "c"} {
				mustEnqueue(t, q, k)
			}
			q.Start(t.Context())
			waitIdle(t, q)
			var got []string
			for _, p := range q.Parked() {
				got = append(got, p.Task.Arg)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("parked keys = %v, want %v", got, tt.want)
			}
		})
	}
}

// TestPermanentParksAtOnce checks that a failure wrapping task.ErrPermanent
// is parked on its first run, not retried (task.Retryable decides for both
// queues).
func TestPermanentParksAtOnce(t *testing.T) {
	var runs atomic.Int64
	process := func(ctx context.Context, tk task.Task) error {
		runs.Add(1)
		return fmt.Errorf("shard of an older scope: %w", task.ErrPermanent)
	}
	q := newQueue(t, process, memqueue.Options{MaxAttempts: 5})
	q.Start(t.Context())
	mustEnqueue(t, q, "g1")
	waitIdle(t, q)
	if got := runs.Load(); got != 1 {
		t.Fatalf("runs = %d, want 1", got)
	}
	if p := q.Parked(); len(p) != 1 || p[0].Task != shard("g1") || p[0].Attempts != 1 {
		t.Fatalf("parked = %+v, want g1 after 1 attempt", p)
	}
}
