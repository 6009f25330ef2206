package memqueue_test

import (
	"context"
	"sync/atomic"
	"testing"

	"github.com/xtsync/xtsync/pkg/memqueue"
	"github.com/xtsync/xtsync/pkg/task"
)

func TestCoalescing(t *testing.T) {
	tests := []struct {
		name string
		// burstWhileRunning sends the burst during the first run instead of
		// before Start.
		burstWhileRunning bool
		burst             int
		wantRuns          int64
	}{
		{name: "pending burst runs once", burst: 10, wantRuns: 1},
		{name: "running burst runs exactly once more", burstWhileRunning: true, burst: 10, wantRuns: 2},
		{name: "single enqueue while running runs once more", burstWhileRunning: true, burst: 1, wantRuns: 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var runs atomic.Int64
			started := make(chan struct{})
			release := make(chan struct{})
			process := func(ctx context.Context, tk task.Task) error {
				if runs.Add(1) == 1 && tt.burstWhileRunning {
					close(started)
					<-release
				}
				return nil
			}
			q := newQueue(t, process, memqueue.Options{Workers: 4})
			mustEnqueue(t, q, "g1")
			if !tt.burstWhileRunning {
				for range tt.burst {
					mustEnqueue(t, q, "g1")
				}
				if s := q.Stats(); s.Pending != 1 {
					t.Fatalf("pending = %d, want 1", s.Pending)
				}
			}
			q.Start(t.Context())
			if tt.burstWhileRunning {
				<-started
				for range tt.burst {
					mustEnqueue(t, q, "g1")
				}
				if s := q.Stats(); s.Running != 1 || s.Pending != 0 {
					t.Fatalf("stats during run = %+v, want 1 running and 0 pending", s)
				}
				close(release)
			}
			waitIdle(t, q)
			if got := runs.Load(); got != tt.wantRuns {
				t.Errorf("runs = %d, want %d", got, tt.wantRuns)
			}
			if s := q.Stats(); s.Processed != uint64(tt.wantRuns) {
				t.Errorf("processed = %d, want %d", s.Processed, tt.wantRuns)
			}
		})
	}
}
