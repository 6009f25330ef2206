package queue_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/xtsync/xtsync/internal/waitfor"
	"github.com/xtsync/xtsync/pkg/queue"
)

func TestWaitIdle(t *testing.T) {
	release := make(chan struct{})
	process := func(ctx context.Context, key string) error {
		<-release
		return nil
	}
	q := newQueue(t, process, queue.Options{})
	if !q.Idle() {
		t.Fatal("new queue not idle")
	}
	if err := q.WaitIdle(t.Context()); err != nil {
		t.Fatalf("wait idle on an empty queue: %v", err)
	}
	mustEnqueue(t, q, "g1")
	if q.Idle() {
		t.Fatal("idle with a pending key")
	}

	// Not started: the pending key keeps it busy until ctx ends.
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Millisecond)
	defer cancel()
	if err := q.WaitIdle(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("wait idle before start = %v, want DeadlineExceeded", err)
	}

	q.Start(t.Context())
	done := make(chan error, 1)
	go func() { done <- q.WaitIdle(context.Background()) }()
	waitfor.WaitFor(t, 5*time.Second, "key running", func() bool { return q.Stats().Running == 1 })
	select {
	case err := <-done:
		t.Fatalf("wait idle returned %v while a key was running", err)
	default:
	}
	close(release)
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("wait idle: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("wait idle did not return")
	}
	if !q.Idle() {
		t.Error("not idle after WaitIdle returned")
	}

	if err := q.Close(context.Background()); err != nil {
		t.Fatalf("close: %v", err)
	}
	if err := q.WaitIdle(context.Background()); !errors.Is(err, queue.ErrClosed) {
		t.Errorf("wait idle after close = %v, want ErrClosed", err)
	}
}

// TestWaitIdleUnblockedByClose checks that a waiter on a busy queue gets
// ErrClosed when the queue closes.
func TestWaitIdleUnblockedByClose(t *testing.T) {
	q := newQueue(t, func(context.Context, string) error { return nil }, queue.Options{})
	mustEnqueue(t, q, "g1") // never started: stays pending
	done := make(chan error, 1)
	go func() { done <- q.WaitIdle(context.Background()) }()
	if err := q.Close(context.Background()); err != nil {
		t.Fatalf("close: %v", err)
	}
	select {
	case err := <-done:
		if !errors.Is(err, queue.ErrClosed) {
			t.Errorf("wait idle = %v, want ErrClosed", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("wait idle not released by close")
	}
}
