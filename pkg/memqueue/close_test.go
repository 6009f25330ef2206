package memqueue_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/xtsync/xtsync/internal/waitfor"
	"github.com/xtsync/xtsync/pkg/memqueue"
	"github.com/xtsync/xtsync/pkg/task"
)

// TestCloseWaitsForRunning checks that Close returns only after the running
// task finished, drops pending tasks, and rejects later enqueues. It runs
// in a synctest bubble, so that "Close has not returned" is a fact:
// synctest.Wait returns once every goroutine of the bubble (Close's
// included) is blocked for good.
func TestCloseWaitsForRunning(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		started := make(chan struct{})
		release := make(chan struct{})
		var finished atomic.Bool
		var runs atomic.Int64
		process := func(ctx context.Context, tk task.Task) error {
			runs.Add(1)
			if tk == shard("slow") {
				close(started)
				<-release
				finished.Store(true)
			}
			return nil
		}
		q := newQueue(t, process, memqueue.Options{Workers: 1})
		q.Start(t.Context())
		mustEnqueue(t, q, "slow")
		<-started
		mustEnqueue(t, q, "queued")

		closed := make(chan error, 1)
		go func() { closed <- q.Close(context.Background()) }()
		synctest.Wait() // Close has closed the queue and waits for "slow"
		if err := q.Enqueue(t.Context(), shard("late")); !errors.Is(err, memqueue.ErrClosed) {
			t.Errorf("enqueue during close = %v, want ErrClosed", err)
		}
		select {
		case err := <-closed:
			t.Fatalf("close returned %v while a task was running", err)
		default:
		}
		close(release)
		if err := <-closed; err != nil {
			t.Fatalf("close: %v", err)
		}
		if !finished.Load() {
			t.Error("close returned before the running task finished")
		}
		if got := runs.Load(); got != 1 {
			t.Errorf("runs = %d, want 1 (the pending task is dropped)", got)
		}
		if s := q.Stats(); s.Pending != 0 || s.Running != 0 || s.Processed != 1 {
			t.Errorf("stats = %+v, want nothing pending or running and 1 processed", s)
		}
		if err := q.Enqueue(t.Context(), shard("later")); !errors.Is(err, memqueue.ErrClosed) {
			t.Errorf("enqueue after close = %v, want ErrClosed", err)
		}
		if err := q.Close(context.Background()); err != nil {
			t.Errorf("second close: %v", err)
		}
	})
}

func TestProcessContextCancelled(t *testing.T) {
	tests := []struct {
		name string
		// stop stops the queue and returns Close's error, if it called it.
		stop    func(q *memqueue.Queue, cancelStart context.CancelFunc) error
		wantErr error
	}{
		{name: "close deadline", stop: func(q *memqueue.Queue, _ context.CancelFunc) error {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
			defer cancel()
			return q.Close(ctx)
		}, wantErr: context.DeadlineExceeded},
		{name: "start context cancelled", stop: func(_ *memqueue.Queue, cancelStart context.CancelFunc) error {
			cancelStart()
			return nil
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			started := make(chan struct{})
			cancelled := make(chan struct{})
			process := func(ctx context.Context, _ task.Task) error {
				close(started)
				<-ctx.Done()
				close(cancelled)
				return ctx.Err()
			}
			q := newQueue(t, process, memqueue.Options{})
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			q.Start(ctx)
			mustEnqueue(t, q, "g1")
			<-started
			if err := tt.stop(q, cancel); !errors.Is(err, tt.wantErr) || (tt.wantErr == nil && err != nil) {
				t.Fatalf("close = %v, want %v", err, tt.wantErr)
			}
			select {
			case <-cancelled:
			case <-time.After(5 * time.Second):
				t.Fatal("process context not cancelled")
			}
			waitfor.WaitFor(t, 5*time.Second, "running task finished", func() bool { return q.Stats().Running == 0 })
			if s := q.Stats(); s.Failed != 0 || s.Retrying != 0 || s.Parked != 0 {
				t.Errorf("stats = %+v, want the interrupted run neither failed, retried nor parked", s)
			}
			if err := q.Enqueue(t.Context(), shard("g2")); !errors.Is(err, memqueue.ErrClosed) {
				t.Errorf("enqueue after stop = %v, want ErrClosed", err)
			}
		})
	}
}

// TestCloseDropsRetrying checks that a task waiting for its backoff is
// dropped by Close and its timer does not run it. It runs in a synctest
// bubble, queue and timers (engine.SystemClock) included, so that "not
// run" is a fact rather than a guess: the bubble's clock moves past the
// backoff only once every goroutine in it is blocked, and synctest.Wait
// returns only when whatever a due timer started has run and blocked again.
func TestCloseDropsRetrying(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var runs atomic.Int64
		process := func(context.Context, task.Task) error {
			runs.Add(1)
			return errors.New("no")
		}
		const backoff = 20 * time.Millisecond
		q := newQueue(t, process, memqueue.Options{Backoff: func(int) time.Duration { return backoff }})
		q.Start(t.Context())
		mustEnqueue(t, q, "g1")
		synctest.Wait() // the run failed and the worker waits for work
		if s := q.Stats(); s.Retrying != 1 {
			t.Fatalf("stats after the failed run = %+v, want 1 retrying", s)
		}
		if err := q.Close(context.Background()); err != nil {
			t.Fatalf("close: %v", err)
		}
		if s := q.Stats(); s.Retrying != 0 {
			t.Errorf("stats after close = %+v, want 0 retrying", s)
		}
		// The bubble's clock, not the wall's: this returns at once, after
		// every timer due by then (the dropped retry's included) has fired.
		time.Sleep(2 * backoff)
		synctest.Wait()
		if got := runs.Load(); got != 1 {
			t.Errorf("runs = %d, want 1", got)
		}
	})
}

// TestCloseStopsRetryTimer is TestCloseDropsRetrying with a fake clock:
// Close stops the retry's timer, and firing it anyway (as a timer that
// raced Stop would) runs nothing.
func TestCloseStopsRetryTimer(t *testing.T) {
	var runs atomic.Int64
	process := func(context.Context, task.Task) error {
		runs.Add(1)
		return errors.New("no")
	}
	clock := newFakeClock()
	q := newQueue(t, process, memqueue.Options{Clock: clock, Backoff: func(int) time.Duration { return time.Second }})
	q.Start(t.Context())
	mustEnqueue(t, q, "g1")
	waitfor.WaitFor(t, 5*time.Second, "g1 waiting for its retry", func() bool { return q.Stats().Retrying == 1 })
	if started, armed, _ := clock.timerCounts(); started != 1 || armed != 1 {
		t.Fatalf("timers: %d started, %d armed; want the retry's timer armed", started, armed)
	}
	if err := q.Close(context.Background()); err != nil {
		t.Fatalf("close: %v", err)
	}
	if _, armed, stopped := clock.timerCounts(); armed != 0 || stopped != 1 {
		t.Errorf("timers after close: %d armed, %d stopped; want the retry's stopped", armed, stopped)
	}
	if n := clock.Advance(time.Hour); n != 0 {
		t.Errorf("%d stopped timers fired", n)
	}
	clock.fireStopped() // as if Stop had lost the race with the timer
	if got := runs.Load(); got != 1 {
		t.Errorf("runs = %d, want 1", got)
	}
	if s := q.Stats(); s.Retrying != 0 || s.Pending != 0 {
		t.Errorf("stats after close = %+v, want nothing retrying or pending", s)
	}
}

func TestCloseBeforeStart(t *testing.T) {
	var runs atomic.Int64
	q := newQueue(t, func(context.Context, task.Task) error { runs.Add(1); return nil }, memqueue.Options{})
	mustEnqueue(t, q, "g1")
	if err := q.Close(context.Background()); err != nil {
		t.Fatalf("close: %v", err)
	}
	q.Start(t.Context()) // no-op
	if err := q.Enqueue(t.Context(), shard("g2")); !errors.Is(err, memqueue.ErrClosed) {
		t.Errorf("enqueue = %v, want ErrClosed", err)
	}
	if !q.Idle() || runs.Load() != 0 {
		t.Errorf("idle %v runs %d, want idle and no runs", q.Idle(), runs.Load())
	}
}
