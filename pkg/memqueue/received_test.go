package memqueue_test

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/xtsync/xtsync/pkg/memqueue"
	"github.com/xtsync/xtsync/pkg/task"
)

// TestReceivedCountsCoalescedEnqueues: each run carries how many enqueues
// it covers (task.ReceivedFrom): a pending burst in one run, a burst while
// running in the next, and a failed run's enqueues again in its retry.
func TestReceivedCountsCoalescedEnqueues(t *testing.T) {
	var mu sync.Mutex
	var got []int
	started, release := make(chan struct{}), make(chan struct{})
	runs := 0
	process := func(ctx context.Context, tk task.Task) error {
		r, _ := task.ReceivedFrom(ctx)
		mu.Lock()
		runs++
		n := runs
		got = append(got, r.N)
		mu.Unlock()
		switch n {
		case 1:
			close(started)
			<-release
		case 2:
			return errors.New("transient")
		}
		return nil
	}
	q := newQueue(t, process, memqueue.Options{Workers: 1, Backoff: func(int) (d time.Duration) { return 0 }})
	for range 3 {
		mustEnqueue(t, q, "g1")
	}
	q.Start(t.Context())
	<-started
	for range 2 {
		mustEnqueue(t, q, "g1")
	}
	close(release)
	waitIdle(t, q)
	mu.Lock()
	defer mu.Unlock()
	// 3 pending; 2 while running (that run fails); the retry covers them.
	if want := []int{3, 2, 2}; !slices.Equal(got, want) {
		t.Errorf("received per run %v, want %v", got, want)
	}
}
