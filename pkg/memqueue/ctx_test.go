package memqueue_test

import (
	"context"
	"errors"
	"testing"

	"github.com/xtsync/xtsync/pkg/memqueue"
	"github.com/xtsync/xtsync/pkg/task"
)

// TestEnqueueCancelledContext checks that a caller whose context is already
// done gets its error and queues nothing, neither counted as rejected.
func TestEnqueueCancelledContext(t *testing.T) {
	q := newQueue(t, func(context.Context, task.Task) error { return nil }, memqueue.Options{})
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := q.Enqueue(ctx, shard("g1")); !errors.Is(err, context.Canceled) {
		t.Fatalf("enqueue under a cancelled context = %v, want context.Canceled", err)
	}
	if s := q.Stats(); s.Pending != 0 || s.Rejected != 0 {
		t.Fatalf("stats = %+v, want nothing pending or rejected", s)
	}
	mustEnqueue(t, q, "g1")
	if s := q.Stats(); s.Pending != 1 {
		t.Fatalf("stats = %+v, want g1 pending", s)
	}
}

// TestEnqueueContextNotInherited checks that the caller's context bounds
// the hand-over only: cancelling it afterwards (a webhook request that
// ended) does not cancel the work.
func TestEnqueueContextNotInherited(t *testing.T) {
	ran := make(chan error, 1)
	q := newQueue(t, func(ctx context.Context, _ task.Task) error {
		ran <- ctx.Err()
		return nil
	}, memqueue.Options{})
	ctx, cancel := context.WithCancel(t.Context())
	if err := q.Enqueue(ctx, shard("g1")); err != nil {
		t.Fatal(err)
	}
	cancel()
	q.Start(t.Context())
	waitIdle(t, q)
	if err := <-ran; err != nil {
		t.Fatalf("work ran under a done context: %v", err)
	}
}
