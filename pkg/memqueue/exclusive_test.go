package memqueue_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/xtsync/xtsync/pkg/memqueue"
	"github.com/xtsync/xtsync/pkg/task"
)

// TestPerKeyExclusivity has producers enqueue 40 keys over and over into
// 16 workers and checks that no two runs of one key ever overlap, while
// different keys do run at once. It runs in a synctest bubble: each run
// sleeps in the bubble's clock, which moves only once every goroutine is
// blocked, so every run spans a moment in which all running tasks are
// running together: an overlap of two runs of one key cannot slip through
// between two checks.
func TestPerKeyExclusivity(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const (
			keys      = 40
			producers = 8
			perKey    = 25 // enqueues of each key by each producer
		)
		var inflight [keys]atomic.Int32
		var runs [keys]atomic.Int64
		var overlaps, maxGlobal atomic.Int64
		var global atomic.Int64
		process := func(ctx context.Context, tk task.Task) error {
			var i int
			if _, err := fmt.Sscanf(tk.Arg, "k%d", &i); err != nil {
				return err
			}
			if n := inflight[i].Add(1); n != 1 {
				overlaps.Add(1)
			}
			g := global.Add(1)
			for {
				m := maxGlobal.Load()
				if g <= m || maxGlobal.CompareAndSwap(m, g) {
					break
				}
			}
			runs[i].Add(1)
			time.Sleep(50 * time.Microsecond) // the bubble's clock
			global.Add(-1)
			inflight[i].Add(-1)
			return nil
		}
		q := newQueue(t, process, memqueue.Options{Workers: 16})
		q.Start(t.Context())

		var wg sync.WaitGroup
		for p := range producers {
			wg.Go(func() {
				for n := range perKey {
					for i := range keys {
						if err := q.Enqueue(t.Context(), shard(fmt.Sprintf("k%d", (i+p+n)%keys))); err != nil {
							t.Errorf("enqueue: %v", err)
						}
					}
				}
			})
		}
		wg.Wait()
		waitIdle(t, q)

		if n := overlaps.Load(); n != 0 {
			t.Errorf("%d runs overlapped another run of the same key", n)
		}
		if m := maxGlobal.Load(); m < 2 {
			t.Errorf("at most %d keys ran at once, want parallelism across keys", m)
		}
		var total int64
		for i := range keys {
			n := runs[i].Load()
			if n < 1 {
				t.Errorf("key k%d never ran", i)
			}
			total += n
		}
		if total > keys*producers*perKey {
			t.Errorf("%d runs for %d enqueues", total, keys*producers*perKey)
		}
		if s := q.Stats(); s.Processed != uint64(total) || s.Failed != 0 {
			t.Errorf("stats = %+v, want %d processed and none failed", s, total)
		}
		t.Logf("%d enqueues, %d runs, at most %d keys at once", keys*producers*perKey, total, maxGlobal.Load())
	})
}
