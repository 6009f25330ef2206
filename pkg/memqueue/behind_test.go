package memqueue_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/xtsync/xtsync/pkg/memqueue"
	"github.com/xtsync/xtsync/pkg/task"
)

// TestBehindTellsTheOldestChangeNotDone: a task's oldest enqueue not yet
// covered by a successful run shows in Behind while it waits, while it
// runs (with newer enqueues made meanwhile), while it is parked, and not
// once a run covering it succeeded.
func TestBehindTellsTheOldestChangeNotDone(t *testing.T) {
	clock := newFakeClock()
	t0 := clock.Now()
	started, release := make(chan struct{}), make(chan struct{})
	fail := make(chan bool, 4)
	runs := 0
	process := func(ctx context.Context, tk task.Task) error {
		runs++
		if runs == 1 {
			close(started)
			<-release
		}
		if <-fail {
			return fmt.Errorf("run %s: %w", tk, task.ErrPermanent)
		}
		return nil
	}
	q := newQueue(t, process, memqueue.Options{Workers: 1, Clock: clock})
	mustEnqueue(t, q, "g1")
	if got := q.Behind()[shard("g1")]; !got.Equal(t0) {
		t.Fatalf("pending: behind since %v, want %v", got, t0)
	}
	q.Start(t.Context())
	<-started
	clock.Advance(time.Minute)
	mustEnqueue(t, q, "g1") // while running: the next run covers it
	if got := q.Behind()[shard("g1")]; !got.Equal(t0) {
		t.Errorf("running: behind since %v, want the oldest %v", got, t0)
	}
	fail <- true // the first run fails permanently: parked with both
	close(release)
	waitIdle(t, q)
	if got := q.Stats().Parked; got != 1 {
		t.Fatalf("parked %d, want 1", got)
	}
	if got := q.Behind()[shard("g1")]; !got.Equal(t0) {
		t.Errorf("parked: behind since %v, want %v", got, t0)
	}
	fail <- false
	mustEnqueue(t, q, "g1") // unparks; this run covers every enqueue
	waitIdle(t, q)
	if got := q.Behind(); len(got) != 0 {
		t.Errorf("done: behind %v, want none", got)
	}
}
