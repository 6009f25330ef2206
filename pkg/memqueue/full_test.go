package memqueue_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/xtsync/xtsync/internal/waitfor"
	"github.com/xtsync/xtsync/pkg/memqueue"
	"github.com/xtsync/xtsync/pkg/task"
)

func TestErrFull(t *testing.T) {
	tests := []struct {
		name    string
		key     string
		wantErr error
	}{
		{name: "new key beyond the bound", key: "d", wantErr: memqueue.ErrFull},
		{name: "pending key coalesces", key: "a", wantErr: nil},
		{name: "another pending key coalesces", key: "c", wantErr: nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q := newQueue(t, func(context.Context, task.Task) error { return nil }, memqueue.Options{MaxPending: 3})
			for _, k := range []string{"a", "b", "c"} {
				mustEnqueue(t, q, k)
			}
			err := q.Enqueue(t.Context(), shard(tt.key))
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil && err != nil) {
				t.Fatalf("enqueue %q = %v, want %v", tt.key, err, tt.wantErr)
			}
			wantRejected := uint64(0)
			if tt.wantErr != nil {
				wantRejected = 1
			}
			if s := q.Stats(); s.Pending != 3 || s.Rejected != wantRejected {
				t.Errorf("stats = %+v, want 3 pending, %d rejected", s, wantRejected)
			}
			q.Start(t.Context())
			waitIdle(t, q)
			mustEnqueue(t, q, "d") // room again once drained
			waitIdle(t, q)
		})
	}
}

// TestErrFullParked checks that re-enqueueing a parked key counts against
// the bound: it stays parked.
func TestErrFullParked(t *testing.T) {
	block := make(chan struct{})
	process := func(ctx context.Context, tk task.Task) error {
		if tk == shard("bad") {
			return errors.New("no")
		}
		<-block
		return nil
	}
	q := newQueue(t, process, memqueue.Options{MaxPending: 1, MaxAttempts: 1, Workers: 1})
	q.Start(t.Context())
	mustEnqueue(t, q, "bad")
	waitfor.WaitFor(t, 5*time.Second, "bad parked", func() bool { return q.Stats().Parked == 1 })
	mustEnqueue(t, q, "slow") // occupies the only worker
	waitfor.WaitFor(t, 5*time.Second, "slow running", func() bool { return q.Stats().Running == 1 })
	mustEnqueue(t, q, "waiting") // fills the bound
	if err := q.Enqueue(t.Context(), shard("bad")); !errors.Is(err, memqueue.ErrFull) {
		t.Fatalf("enqueue of parked key on a full queue = %v, want ErrFull", err)
	}
	if s := q.Stats(); s.Parked != 1 {
		t.Fatalf("stats = %+v, want the key still parked", s)
	}
	close(block)
	waitIdle(t, q)
}
