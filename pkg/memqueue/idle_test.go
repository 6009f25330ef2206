package memqueue_test

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"
	"time"

	"github.com/xtsync/xtsync/pkg/memqueue"
	"github.com/xtsync/xtsync/pkg/task"
)

// TestWaitIdle runs in a synctest bubble, so that "WaitIdle has not
// returned" is a fact: synctest.Wait returns once every goroutine of the
// bubble, the waiter's included, is blocked for good.
func TestWaitIdle(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		release := make(chan struct{})
		process := func(context.Context, task.Task) error {
			<-release
			return nil
		}
		q := newQueue(t, process, memqueue.Options{})
		if !q.Idle() {
			t.Fatal("new queue not idle")
		}
		if err := q.WaitIdle(t.Context()); err != nil {
			t.Fatalf("wait idle on an empty queue: %v", err)
		}
		mustEnqueue(t, q, "g1")
		if q.Idle() {
			t.Fatal("idle with a pending task")
		}

		// Not started: the pending task keeps it busy until ctx ends.
		ctx, cancel := context.WithCancel(t.Context())
		early := make(chan error, 1)
		go func() { early <- q.WaitIdle(ctx) }()
		synctest.Wait()
		select {
		case err := <-early:
			t.Fatalf("wait idle before start returned %v", err)
		default:
		}
		cancel()
		if err := <-early; !errors.Is(err, context.Canceled) {
			t.Fatalf("wait idle before start = %v, want context.Canceled", err)
		}

		q.Start(t.Context())
		done := make(chan error, 1)
		go func() { done <- q.WaitIdle(context.Background()) }()
		synctest.Wait() // the task runs, blocked on release; the waiter waits
		if s := q.Stats(); s.Running != 1 {
			t.Fatalf("stats = %+v, want 1 running", s)
		}
		select {
		case err := <-done:
			t.Fatalf("wait idle returned %v while a task was running", err)
		default:
		}
		close(release)
		if err := <-done; err != nil {
			t.Fatalf("wait idle: %v", err)
		}
		if !q.Idle() {
			t.Error("not idle after WaitIdle returned")
		}

		if err := q.Close(context.Background()); err != nil {
			t.Fatalf("close: %v", err)
		}
		if err := q.WaitIdle(context.Background()); !errors.Is(err, memqueue.ErrClosed) {
			t.Errorf("wait idle after close = %v, want ErrClosed", err)
		}
	})
}

// TestWaitIdleUnblockedByClose checks that a waiter on a busy queue gets
// ErrClosed when the queue closes.
func TestWaitIdleUnblockedByClose(t *testing.T) {
	q := newQueue(t, func(context.Context, task.Task) error { return nil }, memqueue.Options{})
	mustEnqueue(t, q, "g1") // never started: stays pending
	done := make(chan error, 1)
	go func() { done <- q.WaitIdle(context.Background()) }()
	if err := q.Close(context.Background()); err != nil {
		t.Fatalf("close: %v", err)
	}
	select {
	case err := <-done:
		if !errors.Is(err, memqueue.ErrClosed) {
			t.Errorf("wait idle = %v, want ErrClosed", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("wait idle not released by close")
	}
}
