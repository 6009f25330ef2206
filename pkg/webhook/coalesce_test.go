package webhook_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/xtsync/xtsync/pkg/webhook"
)

// TestLifecycleReplay: N identical authenticated lifecycle POSTs reach the
// sink once per coalescing window per subscription and event; the others
// are answered 202 and counted. The clock is a fake one: no sleeps.
func TestLifecycleReplay(t *testing.T) {
	const window = webhook.DefaultLifecycleCoalesce
	events := []string{webhook.EventMissed, webhook.EventSubscriptionRemoved, webhook.EventReauthorizationRequired}
	cases := []struct {
		name     string
		replays  int
		step     time.Duration // clock advance between two replays
		wantSink int
	}{
		{"once", 1, 0, 1},
		{"10 replays at once", 10, 0, 1},
		{"100 replays at once", 100, 0, 1},
		{"10 replays 1 s apart", 10, time.Second, 1},
		{"100 replays 1 s apart", 100, time.Second, 1},
		{"10 replays, the last just inside the window", 10, (window - time.Nanosecond) / 9, 1},
		{"10 replays half a window apart", 10, window / 2, 5},
		{"100 replays half a window apart", 100, window / 2, 50},
		{"10 replays a window apart", 10, window, 10},
		{"100 replays a window apart", 100, window, 100},
		{"10 replays after the window", 10, window + time.Second, 10},
	}
	for _, ev := range events {
		for _, c := range cases {
			t.Run(ev+"/"+c.name, func(t *testing.T) {
				clock := newFakeClock()
				fx := newFixtureWith(t, nil, func(cfg *webhook.Config) { cfg.Now = clock.Now })
				b := body(t, lifecycleItem(subA, secretA, tenantA, ev))
				for i := range c.replays {
					if i > 0 {
						clock.Advance(c.step)
					}
					if w := fx.serve(post("/lifecycle", b)); w.Code != http.StatusAccepted {
						t.Fatalf("replay %d: status %d, want 202", i, w.Code)
					}
				}
				_, calls := fx.sink.calls()
				if len(calls) != c.wantSink {
					t.Errorf("%d Sink.Lifecycle calls, want %d", len(calls), c.wantSink)
				}
				for _, call := range calls {
					if call != (lifecycleCall{subA, ev}) {
						t.Errorf("Sink.Lifecycle(%v)", call)
					}
				}
				st := fx.h.Stats()
				if st.Lifecycle != int64(c.wantSink) || st.LifecycleCoalesced != int64(c.replays-c.wantSink) {
					t.Errorf("Stats.Lifecycle = %d, LifecycleCoalesced = %d; want %d, %d",
						st.Lifecycle, st.LifecycleCoalesced, c.wantSink, c.replays-c.wantSink)
				}
				fx.logs.noSecrets(t)
			})
		}
	}
}

// TestLifecycleCoalesceKeys: coalescing is per subscription and per event;
// a failed hand-off is not remembered; a negative window turns it off.
func TestLifecycleCoalesceKeys(t *testing.T) {
	missedA := lifecycleItem(subA, secretA, tenantA, webhook.EventMissed)
	missedB := lifecycleItem(subB, secretB, tenantB, webhook.EventMissed)
	removedA := lifecycleItem(subA, secretA, tenantA, webhook.EventSubscriptionRemoved)
	cases := []struct {
		name      string
		window    time.Duration // 0: the default
		bodies    [][]byte      // posted in order, the clock still
		failFirst bool          // the sink fails the first call
		want      []lifecycleCall
		wantCodes []int
	}{
		{
			name:   "two subscriptions, replayed 10 times",
			bodies: repeat(body(t, missedA, missedB), 10),
			want:   []lifecycleCall{{subA, "missed"}, {subB, "missed"}},
		},
		{
			name:   "two subscriptions in separate bodies",
			bodies: append(repeat(body(t, missedA), 5), repeat(body(t, missedB), 5)...),
			want:   []lifecycleCall{{subA, "missed"}, {subB, "missed"}},
		},
		{
			name:   "two events of one subscription",
			bodies: repeat(body(t, missedA, removedA), 10),
			want:   []lifecycleCall{{subA, "missed"}, {subA, "subscriptionRemoved"}},
		},
		{
			name:   "duplicates within one body",
			bodies: [][]byte{body(t, missedA, missedA, missedA)},
			want:   []lifecycleCall{{subA, "missed"}},
		},
		{
			name:   "forged replays are rejected, not coalesced",
			bodies: [][]byte{body(t, missedA), body(t, with(missedA, "clientState", forged))},
			want:   []lifecycleCall{{subA, "missed"}},
		},
		{
			name:      "a failed hand-off is not remembered: Graph's retry gets through",
			bodies:    repeat(body(t, missedA), 3),
			failFirst: true,
			want:      []lifecycleCall{{subA, "missed"}, {subA, "missed"}},
			wantCodes: []int{503, 202, 202},
		},
		{
			name:   "negative window: every event passes",
			window: -1,
			bodies: repeat(body(t, missedA), 3),
			want:   []lifecycleCall{{subA, "missed"}, {subA, "missed"}, {subA, "missed"}},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			clock := newFakeClock()
			sink := &failOnce{fail: c.failFirst}
			fx := newFixtureWith(t, t, func(cfg *webhook.Config) {
				cfg.Now = clock.Now
				cfg.LifecycleCoalesce = c.window
				cfg.Sink = sink
			})
			for i, b := range c.bodies {
				want := http.StatusAccepted
				if c.wantCodes != nil {
					want = c.wantCodes[i]
				}
				if w := fx.serve(post("/lifecycle", b)); w.Code != want {
					t.Errorf("post %d: status %d, want %d", i, w.Code, want)
				}
			}
			_, got := sink.calls()
			if fmt.Sprint(got) != fmt.Sprint(c.want) {
				t.Errorf("Sink.Lifecycle calls %v, want %v", got, c.want)
			}
			fx.logs.noSecrets(t)
		})
	}
}

// repeat returns n copies of b.
func repeat(b []byte, n int) [][]byte {
	out := make([][]byte, n)
	for i := range out {
		out[i] = b
	}
	return out
}

// failOnce is a recSink whose first Lifecycle call fails when fail is set.
type failOnce struct {
	recSink
	fail bool
}

func (s *failOnce) Lifecycle(ctx context.Context, sub, event string) error {
	err := s.recSink.Lifecycle(ctx, sub, event)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fail {
		s.fail = false
		return errors.New("queue full")
	}
	return err
}
