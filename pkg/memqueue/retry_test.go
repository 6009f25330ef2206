package memqueue_test

import (
	"context"
	"errors"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/xtsync/xtsync/internal/waitfor"
	"github.com/xtsync/xtsync/pkg/memqueue"
	"github.com/xtsync/xtsync/pkg/task"
)

// scripted returns a process that answers each run from outcomes
// (true = success) and succeeds once they run out, counting runs.
func scripted(outcomes ...bool) (memqueue.Process, *atomic.Int64) {
	var runs atomic.Int64
	return func(ctx context.Context, tk task.Task) error {
		n := int(runs.Add(1))
		if n <= len(outcomes) && !outcomes[n-1] {
			return errors.New("graph said 503")
		}
		return nil
	}, &runs
}

func TestRetry(t *testing.T) {
	tests := []struct {
		name         string
		outcomes     []bool
		maxAttempts  int
		wantRuns     int64
		wantFailed   uint64
		wantBackoffs []int
		wantParked   int
	}{
		{name: "success first time", outcomes: []bool{true}, maxAttempts: 3, wantRuns: 1},
		{name: "two failures then success", outcomes: []bool{false, false, true}, maxAttempts: 3,
			wantRuns: 3, wantFailed: 2, wantBackoffs: []int{1, 2}},
		{name: "parked after max attempts", outcomes: []bool{false, false, false, true}, maxAttempts: 3,
			wantRuns: 3, wantFailed: 3, wantBackoffs: []int{1, 2}, wantParked: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			process, runs := scripted(tt.outcomes...)
			var mu sync.Mutex
			var backoffs []int
			backoff := func(attempt int) time.Duration {
				mu.Lock()
				defer mu.Unlock()
				backoffs = append(backoffs, attempt)
				return time.Millisecond
			}
			q := newQueue(t, process, memqueue.Options{MaxAttempts: tt.maxAttempts, Backoff: backoff})
			mustEnqueue(t, q, "g1")
			q.Start(t.Context())
			waitIdle(t, q)
			if got := runs.Load(); got != tt.wantRuns {
				t.Errorf("runs = %d, want %d", got, tt.wantRuns)
			}
			mu.Lock()
			if !slices.Equal(backoffs, tt.wantBackoffs) {
				t.Errorf("backoff attempts = %v, want %v", backoffs, tt.wantBackoffs)
			}
			mu.Unlock()
			s := q.Stats()
			if s.Failed != tt.wantFailed || s.Parked != tt.wantParked || s.Retrying != 0 {
				t.Errorf("stats = %+v, want %d failed, %d parked, 0 retrying", s, tt.wantFailed, tt.wantParked)
			}
		})
	}
}

// TestSuccessResetsAttempts alternates two failures and a success with
// MaxAttempts 3: the task must never park.
func TestSuccessResetsAttempts(t *testing.T) {
	process, runs := scripted(false, false, true, false, false, true)
	q := newQueue(t, process, memqueue.Options{MaxAttempts: 3})
	q.Start(t.Context())
	mustEnqueue(t, q, "g1")
	waitIdle(t, q)
	mustEnqueue(t, q, "g1")
	waitIdle(t, q)
	if got := runs.Load(); got != 6 {
		t.Errorf("runs = %d, want 6", got)
	}
	if s := q.Stats(); s.Parked != 0 || s.Processed != 2 || s.Failed != 4 {
		t.Errorf("stats = %+v, want 0 parked, 2 processed, 4 failed", s)
	}
}

// TestEnqueueWhileRetrying checks that enqueues during the backoff keep the
// task scheduled once, without an extra run, and do not push the retry
// back: with a fake clock, no enqueue starts or stops a timer, and the one
// timer of the first failure brings the retry.
func TestEnqueueWhileRetrying(t *testing.T) {
	process, runs := scripted(false, true)
	const backoff = 30 * time.Second
	clock := newFakeClock()
	q := newQueue(t, process, memqueue.Options{Clock: clock, Backoff: func(int) time.Duration { return backoff }})
	q.Start(t.Context())
	mustEnqueue(t, q, "g1")
	waitfor.WaitFor(t, 5*time.Second, "task waiting for retry", func() bool { return q.Stats().Retrying == 1 })
	for range 10 {
		mustEnqueue(t, q, "g1")
	}
	if s := q.Stats(); s.Retrying != 1 || s.Pending != 0 || s.Running != 0 {
		t.Errorf("stats after burst = %+v, want only 1 retrying", s)
	}
	if q.Idle() {
		t.Error("idle while a retry is scheduled")
	}
	// Enqueues all through the backoff: none restarts the wait.
	for range 29 {
		if n := clock.Advance(time.Second); n != 0 {
			t.Fatalf("%d timers fired before the backoff was over", n)
		}
		mustEnqueue(t, q, "g1")
	}
	if started, armed, stopped := clock.timerCounts(); started != 1 || armed != 1 || stopped != 0 {
		t.Fatalf("timers: %d started, %d armed, %d stopped; want the first failure's only, armed", started, armed, stopped)
	}
	if got := runs.Load(); got != 1 {
		t.Fatalf("runs before the backoff was over = %d, want 1", got)
	}
	if n := clock.Advance(time.Second); n != 1 {
		t.Fatalf("%d timers fired at the end of the backoff, want 1", n)
	}
	waitIdle(t, q)
	if got := runs.Load(); got != 2 {
		t.Errorf("runs = %d, want 2 (failure, then one retry)", got)
	}
	if d := clock.delays(); !slices.Equal(d, []time.Duration{backoff}) {
		t.Errorf("AfterFunc delays = %v, want [%v]", d, backoff)
	}
}

// TestRetryOnClockTimers checks that the backoff delay goes to the clock's
// AfterFunc, and that a failed task runs again only when its timer fires.
func TestRetryOnClockTimers(t *testing.T) {
	process, runs := scripted(false, false, true)
	clock := newFakeClock()
	backoff := func(attempt int) time.Duration { return time.Duration(attempt) * time.Second }
	q := newQueue(t, process, memqueue.Options{Clock: clock, Backoff: backoff})
	q.Start(t.Context())
	mustEnqueue(t, q, "g1")
	for attempt := 1; attempt <= 2; attempt++ {
		waitfor.WaitFor(t, 5*time.Second, "the failed task waiting for its retry", func() bool { return q.Stats().Retrying == 1 })
		if n := clock.Advance(backoff(attempt) - time.Millisecond); n != 0 {
			t.Fatalf("attempt %d: %d timers fired before the backoff was over", attempt, n)
		}
		if got := runs.Load(); got != int64(attempt) {
			t.Fatalf("runs before retry %d = %d, want %d", attempt, got, attempt)
		}
		if n := clock.Advance(time.Millisecond); n != 1 {
			t.Fatalf("attempt %d: %d timers fired at the end of the backoff, want 1", attempt, n)
		}
	}
	waitIdle(t, q)
	if got := runs.Load(); got != 3 {
		t.Errorf("runs = %d, want 3", got)
	}
	if d, want := clock.delays(), []time.Duration{time.Second, 2 * time.Second}; !slices.Equal(d, want) {
		t.Errorf("AfterFunc delays = %v, want %v", d, want)
	}
	if s := q.Stats(); s.Processed != 1 || s.Failed != 2 || s.Retrying != 0 {
		t.Errorf("stats = %+v, want 1 processed, 2 failed, 0 retrying", s)
	}
}

// TestFailedDirtyRunRetriesOnce checks that an enqueue during a failing run
// is absorbed by the retry.
func TestFailedDirtyRunRetriesOnce(t *testing.T) {
	var runs atomic.Int64
	started := make(chan struct{})
	release := make(chan struct{})
	process := func(ctx context.Context, tk task.Task) error {
		if runs.Add(1) == 1 {
			close(started)
			<-release
			return errors.New("boom")
		}
		return nil
	}
	q := newQueue(t, process, memqueue.Options{})
	q.Start(t.Context())
	mustEnqueue(t, q, "g1")
	<-started
	mustEnqueue(t, q, "g1")
	close(release)
	waitIdle(t, q)
	if got := runs.Load(); got != 2 {
		t.Errorf("runs = %d, want 2", got)
	}
}
