package memqueue_test

import (
	"context"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/xtsync/xtsync/internal/testlog"
	"github.com/xtsync/xtsync/pkg/engine"
	"github.com/xtsync/xtsync/pkg/memqueue"
	"github.com/xtsync/xtsync/pkg/task"
)

// testLogger routes logs to t.Log.
func testLogger(t testing.TB) *slog.Logger { return testlog.New(t, slog.LevelDebug) }

// shard is the tests' task: the delta pass of shard name (key
// "shard:<name>").
func shard(name string) task.Task { return task.Of(task.Delta, name) }

// fixedClock always tells the same time; its timers are the wall clock's.
type fixedClock struct {
	engine.SystemClock
	t time.Time
}

// Now returns the fixed time.
func (c fixedClock) Now() time.Time { return c.t }

// fakeClock is a TimerClock whose time moves only when the test advances
// it: AfterFunc records its function, and Advance runs the functions that
// have come due.
type fakeClock struct {
	mu     sync.Mutex
	now    time.Time
	timers []*fakeTimer
}

// fakeTimer is one AfterFunc of a fakeClock.
type fakeTimer struct {
	d       time.Duration
	at      time.Time
	f       func()
	fired   bool
	stopped bool
}

var _ engine.TimerClock = (*fakeClock)(nil)

// newFakeClock returns a fakeClock at a fixed start time.
func newFakeClock() *fakeClock { return &fakeClock{now: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)} }

// Now returns the fake time.
func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// AfterFunc records f to run once Advance has moved the time d on.
func (c *fakeClock) AfterFunc(d time.Duration, f func()) func() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	tm := &fakeTimer{d: d, at: c.now.Add(d), f: f}
	c.timers = append(c.timers, tm)
	return func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		if tm.fired || tm.stopped {
			return false
		}
		tm.stopped = true
		return true
	}
}

// Advance moves the time d on and runs, in the caller's goroutine and in
// the order they are due, the functions of the timers due by then. It
// returns how many ran.
func (c *fakeClock) Advance(d time.Duration) int {
	c.mu.Lock()
	c.now = c.now.Add(d)
	var due []*fakeTimer
	for _, tm := range c.timers {
		if !tm.fired && !tm.stopped && !tm.at.After(c.now) {
			tm.fired = true
			due = append(due, tm)
		}
	}
	c.mu.Unlock()
	slices.SortStableFunc(due, func(a, b *fakeTimer) int { return a.at.Compare(b.at) })
	for _, tm := range due {
		tm.f()
	}
	return len(due)
}

// fireStopped runs the functions of the stopped timers, as a timer whose
// Stop came too late would.
func (c *fakeClock) fireStopped() {
	c.mu.Lock()
	var fs []func()
	for _, tm := range c.timers {
		if tm.stopped && !tm.fired {
			tm.fired = true
			fs = append(fs, tm.f)
		}
	}
	c.mu.Unlock()
	for _, f := range fs {
		f()
	}
}

// timerCounts reports how many timers were started, how many of them are
// still armed (neither fired nor stopped) and how many were stopped.
func (c *fakeClock) timerCounts() (started, armed, stopped int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, tm := range c.timers {
		switch {
		case tm.stopped:
			stopped++
		case !tm.fired:
			armed++
		}
	}
	return len(c.timers), armed, stopped
}

// delays lists the delays AfterFunc was called with, in order.
func (c *fakeClock) delays() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []time.Duration
	for _, tm := range c.timers {
		out = append(out, tm.d)
	}
	return out
}

// tinyBackoff retries after 1 ms.
func tinyBackoff(int) time.Duration { return time.Millisecond }

// newQueue builds a queue logging to t with tiny backoffs unless opts says
// otherwise, and closes it at the end of the test.
func newQueue(t testing.TB, process memqueue.Process, opts memqueue.Options) *memqueue.Queue {
	t.Helper()
	if opts.Log == nil {
		opts.Log = testLogger(t)
	}
	if opts.Backoff == nil {
		opts.Backoff = tinyBackoff
	}
	q := memqueue.New(process, opts)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := q.Close(ctx); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	return q
}

// waitIdle waits (at most 5 s) for q to be idle.
func waitIdle(t testing.TB, q *memqueue.Queue) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := q.WaitIdle(ctx); err != nil {
		t.Fatalf("wait idle: %v (stats %+v)", err, q.Stats())
	}
}

// mustEnqueue enqueues the shard tasks of names in one Enqueue and fails
// the test on an error.
func mustEnqueue(t testing.TB, q *memqueue.Queue, names ...string) {
	t.Helper()
	tasks := make([]task.Task, len(names))
	for i, n := range names {
		tasks[i] = shard(n)
	}
	if err := q.Enqueue(t.Context(), tasks...); err != nil {
		t.Fatalf("enqueue %q: %v", names, err)
	}
}
