package queue_test

import (
	"context"
	"github.com/xtsync/xtsync/internal/testlog"
	"log/slog"
	"testing"
	"time"

	"github.com/xtsync/xtsync/pkg/queue"
)

// testLogger routes logs to t.Log.
func testLogger(t testing.TB) *slog.Logger { return testlog.New(t, slog.LevelDebug) }

// fixedClock always tells the same time.
type fixedClock struct{ t time.Time }

func (c fixedClock) Now() time.Time { return c.t }

// tinyBackoff retries after 1 ms.
func tinyBackoff(int) time.Duration { return time.Millisecond }

// newQueue builds a queue logging to t with tiny backoffs unless opts says
// otherwise, and closes it at the end of the test.
func newQueue(t testing.TB, process queue.Process, opts queue.Options) *queue.Queue {
	t.Helper()
	if opts.Log == nil {
		opts.Log = testLogger(t)
	}
	if opts.Backoff == nil {
		opts.Backoff = tinyBackoff
	}
	q := queue.New(process, opts)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := q.Close(ctx); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	return q
}

// waitIdle waits (at most 5 s) for q to be idle.
func waitIdle(t testing.TB, q *queue.Queue) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := q.WaitIdle(ctx); err != nil {
		t.Fatalf("wait idle: %v (stats %+v)", err, q.Stats())
	}
}

// mustEnqueue enqueues key and fails the test on an error.
func mustEnqueue(t testing.TB, q *queue.Queue, key string) {
	t.Helper()
	if err := q.Enqueue(t.Context(), key); err != nil {
		t.Fatalf("enqueue %q: %v", key, err)
	}
}
