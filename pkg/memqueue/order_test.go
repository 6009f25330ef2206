package memqueue_test

import (
	"context"
	"slices"
	"sync"
	"testing"

	"github.com/xtsync/xtsync/pkg/memqueue"
	"github.com/xtsync/xtsync/pkg/task"
)

func TestFIFOOrder(t *testing.T) {
	tests := []struct {
		name     string
		enqueues []string
		want     []string
	}{
		{name: "distinct keys", enqueues: []string{"c", "a", "d", "b"}, want: []string{"c", "a", "d", "b"}},
		{name: "repeats keep first position", enqueues: []string{"a", "b", "a", "c", "b", "a"}, want: []string{"a", "b", "c"}},
		{name: "more keys than the initial ring", enqueues: numbered(40), want: numbered(40)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var mu sync.Mutex
			var got []string
			process := func(ctx context.Context, tk task.Task) error {
				mu.Lock()
				defer mu.Unlock()
				got = append(got, tk.Arg)
				return nil
			}
			q := newQueue(t, process, memqueue.Options{Workers: 1})
			for _, k := range tt.enqueues {
				mustEnqueue(t, q, k)
			}
			q.Start(t.Context())
			waitIdle(t, q)
			mu.Lock()
			defer mu.Unlock()
			if !slices.Equal(got, tt.want) {
				t.Errorf("order = %v, want %v", got, tt.want)
			}
		})
	}
}

// TestDirtyRerunJoinsTail checks that a key enqueued while running goes
// behind keys that were already waiting.
func TestDirtyRerunJoinsTail(t *testing.T) {
	var mu sync.Mutex
	var got []string
	started := make(chan struct{})
	release := make(chan struct{})
	process := func(ctx context.Context, tk task.Task) error {
		mu.Lock()
		got = append(got, tk.Arg)
		first := len(got) == 1
		mu.Unlock()
		if first {
			close(started)
			<-release
		}
		return nil
	}
	q := newQueue(t, process, memqueue.Options{Workers: 1})
	mustEnqueue(t, q, "a")
	q.Start(t.Context())
	<-started
	mustEnqueue(t, q, "b")
	mustEnqueue(t, q, "a") // dirty
	mustEnqueue(t, q, "c")
	close(release)
	waitIdle(t, q)
	mu.Lock()
	defer mu.Unlock()
	if want := []string{"a", "b", "c", "a"}; !slices.Equal(got, want) {
		t.Errorf("order = %v, want %v", got, want)
	}
}

func numbered(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = string(rune('A'+i/26)) + string(rune('a'+i%26))
	}
	return out
}
