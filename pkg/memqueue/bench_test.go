package memqueue_test

import (
	"context"
	"fmt"
	"log/slog"
	"sync/atomic"
	"testing"

	"github.com/xtsync/xtsync/pkg/memqueue"
	"github.com/xtsync/xtsync/pkg/task"
)

// BenchmarkEnqueueProcess enqueues b.N tasks into a started queue with a
// trivial Process and waits for it to drain. "hot" cycles through 1,024
// keys, so bursts coalesce; "distinct" never repeats a key, so every
// enqueue is one run. It reports enqueues and runs per second.
func BenchmarkEnqueueProcess(b *testing.B) {
	for _, bc := range []struct {
		name    string
		keys    int // 0: every key distinct
		workers int
	}{
		{name: "hot-1024keys-4workers", keys: 1024, workers: 4},
		{name: "distinct-4workers", workers: 4},
		{name: "distinct-16workers", workers: 16},
	} {
		b.Run(bc.name, func(b *testing.B) {
			keys := make([]task.Task, max(bc.keys, b.N))
			for i := range keys {
				keys[i] = task.Of(task.Delta, fmt.Sprintf("shard-%d", i))
			}
			var runs atomic.Int64
			process := func(context.Context, task.Task) error {
				runs.Add(1)
				return nil
			}
			q := memqueue.New(process, memqueue.Options{
				Workers:    bc.workers,
				MaxPending: len(keys) + 1,
				Log:        slog.New(slog.DiscardHandler),
			})
			q.Start(b.Context())
			b.ResetTimer()
			for i := range b.N {
				k := i
				if bc.keys > 0 {
					k = i % bc.keys
				}
				if err := q.Enqueue(b.Context(), keys[k]); err != nil {
					b.Fatal(err)
				}
			}
			if err := q.WaitIdle(b.Context()); err != nil {
				b.Fatal(err)
			}
			b.StopTimer()
			secs := b.Elapsed().Seconds()
			b.ReportMetric(float64(b.N)/secs, "enqueues/s")
			b.ReportMetric(float64(runs.Load())/secs, "runs/s")
			if err := q.Close(context.Background()); err != nil {
				b.Fatal(err)
			}
		})
	}
}
