package memqueue_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/xtsync/xtsync/pkg/memqueue"
	"github.com/xtsync/xtsync/pkg/task"
)

// joined returns the errors err joins (err itself when it joins none).
func joined(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	if err == nil {
		return nil
	}
	return []error{err}
}

// checkErrs checks that err joins one error per key of want, in order,
// each naming its key and wrapping target.
func checkErrs(t *testing.T, err error, target error, want ...string) {
	t.Helper()
	errs := joined(err)
	if len(errs) != len(want) {
		t.Fatalf("error %v joins %d errors, want %d (for %q)", err, len(errs), len(want), want)
	}
	for i, e := range errs {
		if !errors.Is(e, target) || !strings.Contains(e.Error(), `"`+want[i]+`"`) {
			t.Errorf("error #%d = %v, want one naming %q and wrapping %v", i, e, want[i], target)
		}
	}
}

// TestEnqueueSeveral enqueues several tasks in one call: each is coalesced
// by its key as if enqueued alone, in the order given.
func TestEnqueueSeveral(t *testing.T) {
	var mu sync.Mutex
	var got []task.Task
	process := func(_ context.Context, tk task.Task) error {
		mu.Lock()
		defer mu.Unlock()
		got = append(got, tk)
		return nil
	}
	q := newQueue(t, process, memqueue.Options{Workers: 1})
	sub := task.Of(task.Renew, "sub-1")
	if err := q.Enqueue(t.Context(), shard("a"), task.Of(task.Reconcile, ""), shard("a"), sub, shard("b"), sub); err != nil {
		t.Fatalf("enqueue: %v", err)
	}
	if s := q.Stats(); s.Pending != 4 {
		t.Fatalf("stats = %+v, want 4 pending (one per key)", s)
	}
	q.Start(t.Context())
	waitIdle(t, q)
	mu.Lock()
	defer mu.Unlock()
	if want := []task.Task{shard("a"), task.Of(task.Reconcile, ""), sub, shard("b")}; !slices.Equal(got, want) {
		t.Errorf("ran %v, want %v", got, want)
	}
}

// TestEnqueueNone checks that an Enqueue of no task does nothing, even on
// a closed queue or under a done context.
func TestEnqueueNone(t *testing.T) {
	q := newQueue(t, func(context.Context, task.Task) error { return nil }, memqueue.Options{})
	if err := q.Enqueue(t.Context()); err != nil {
		t.Errorf("enqueue of nothing = %v", err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := q.Enqueue(ctx); err != nil {
		t.Errorf("enqueue of nothing under a done context = %v", err)
	}
	if err := q.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := q.Enqueue(t.Context()); err != nil {
		t.Errorf("enqueue of nothing on a closed queue = %v", err)
	}
	if s := q.Stats(); s != (memqueue.Stats{}) {
		t.Errorf("stats = %+v, want all zero", s)
	}
}

// TestEnqueueSeveralErrors checks the joined error of an Enqueue of
// several tasks: one per dropped task, naming its key; the rest queued.
func TestEnqueueSeveralErrors(t *testing.T) {
	t.Run("full", func(t *testing.T) {
		q := newQueue(t, func(context.Context, task.Task) error { return nil }, memqueue.Options{MaxPending: 2})
		err := q.Enqueue(t.Context(), shard("a"), shard("b"), shard("c"), shard("a"), shard("d"), shard("b"))
		checkErrs(t, err, memqueue.ErrFull, "shard:c", "shard:d")
		if s := q.Stats(); s.Pending != 2 || s.Rejected != 2 {
			t.Errorf("stats = %+v, want 2 pending, 2 rejected", s)
		}
	})
	t.Run("closed", func(t *testing.T) {
		q := newQueue(t, func(context.Context, task.Task) error { return nil }, memqueue.Options{})
		if err := q.Close(context.Background()); err != nil {
			t.Fatal(err)
		}
		checkErrs(t, q.Enqueue(t.Context(), shard("a"), task.Of(task.Users, "")), memqueue.ErrClosed, "shard:a", "users")
	})
	t.Run("done context", func(t *testing.T) {
		q := newQueue(t, func(context.Context, task.Task) error { return nil }, memqueue.Options{})
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		checkErrs(t, q.Enqueue(ctx, shard("a"), shard("b")), context.Canceled, "shard:a", "shard:b")
		if s := q.Stats(); s.Pending != 0 || s.Rejected != 0 {
			t.Errorf("stats = %+v, want nothing pending or rejected", s)
		}
	})
}
