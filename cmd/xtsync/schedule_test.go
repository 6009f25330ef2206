package main

import (
	"context"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/xtsync/xtsync/pkg/task"
)

// recordingQueue records what is enqueued.
type recordingQueue struct {
	mu    sync.Mutex
	tasks map[task.Task]int
}

func (q *recordingQueue) Enqueue(_ context.Context, tasks ...task.Task) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	for _, t := range tasks {
		q.tasks[t]++
	}
	return nil
}

// TestSchedule checks serve's schedule on a fake clock (a synctest bubble):
// the reconcile every reconcile_interval, the subscription check hourly (or
// at the interval when it is shorter), and that it returns when its context ends.
func TestSchedule(t *testing.T) {
	tests := []struct {
		every         time.Duration
		run           time.Duration
		reconciles    int
		subscriptions int
	}{
		{6 * time.Hour, 13 * time.Hour, 2, 13},
		{15 * time.Minute, 61 * time.Minute, 4, 4},
	}
	for _, tt := range tests {
		t.Run(tt.every.String(), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				q := &recordingQueue{tasks: map[task.Task]int{}}
				ctx, cancel := context.WithCancel(t.Context())
				done := make(chan struct{})
				go func() { schedule(ctx, q, tt.every); close(done) }()
				time.Sleep(tt.run)
				cancel()
				<-done
				synctest.Wait()
				if got := q.tasks[task.Of(task.Reconcile, "")]; got != tt.reconciles {
					t.Errorf("%d reconciles in %s, want %d", got, tt.run, tt.reconciles)
				}
				if got := q.tasks[task.Of(task.Subscriptions, "")]; got != tt.subscriptions {
					t.Errorf("%d subscription checks in %s, want %d", got, tt.run, tt.subscriptions)
				}
			})
		})
	}
}
