package subscribe_test

import (
	"slices"
	"testing"
	"time"

	"github.com/xtsync/xtsync/pkg/engine"
	"github.com/xtsync/xtsync/pkg/subscribe"
)

// createdAt is the expiry a subscription made at t asks for.
func createdAt(t time.Time) time.Time { return t.Add(subscribe.MaxLifetime - 5*time.Minute) }

// TestSweepDeletesUnrecordedSubscriptions: a subscription Graph holds for
// this deployment that no record names (its creator died between Graph's
// answer and the record) is deleted at the next Ensure once 2 minutes old;
// a younger one may be a creation in flight, and one on another
// notification URL belongs to someone else: both are kept.
func TestSweepDeletesUnrecordedSubscriptions(t *testing.T) {
	ctx := t.Context()
	g, store, c := fixture()
	m := newManager(t, g, store, c, 1)
	must(t, m.Ensure(ctx))
	recorded := ids(m.List())

	ours := "https://hooks.example.com/x/notifications"
	orphan, err := g.Create(ctx, engine.Subscription{Resource: "/groups/" + scope(1)[0], NotificationURL: ours, Expires: createdAt(c.now.Add(-3 * time.Minute))})
	must(t, err)
	young, err := g.Create(ctx, engine.Subscription{Resource: "/groups/" + scope(1)[0], NotificationURL: ours, Expires: createdAt(c.now.Add(-time.Minute))})
	must(t, err)
	other, err := g.Create(ctx, engine.Subscription{Resource: "/groups/" + scope(1)[0], NotificationURL: "https://elsewhere.example.com/notifications", Expires: createdAt(c.now.Add(-time.Hour))})
	must(t, err)

	must(t, m.Ensure(ctx))
	want := append(slices.Clone(recorded), young.ID, other.ID)
	slices.Sort(want)
	if got := graphIDs(g); !slices.Equal(got, want) {
		t.Fatalf("Graph holds %v, want %v (the recorded ones, the young one and the other deployment's; %s deleted)", got, want, orphan.ID)
	}
	c.now = c.now.Add(time.Minute)
	must(t, m.Ensure(ctx))
	if got := graphIDs(g); slices.Contains(got, young.ID) || !slices.Contains(got, other.ID) {
		t.Fatalf("a minute later Graph holds %v: want %s deleted, %s kept", got, young.ID, other.ID)
	}
	if got := ids(m.List()); !slices.Equal(got, recorded) {
		t.Errorf("recorded %v, want %v unchanged", got, recorded)
	}
}

// TestSweepRemakesLostSubscriptions: a recorded subscription Graph no
// longer holds (deleted without a lifecycle event) is made again at the
// next Ensure, unless it was written in the last 2 minutes (Graph's list
// may not show it yet).
func TestSweepRemakesLostSubscriptions(t *testing.T) {
	ctx := t.Context()
	g, store, c := fixture()
	m := newManager(t, g, store, c, 2)
	must(t, m.Ensure(ctx))
	lost := m.List()[0]
	must(t, g.Delete(ctx, lost.ID))

	c.now = c.now.Add(time.Minute)
	must(t, m.Ensure(ctx))
	if got := ids(m.List()); !slices.Contains(got, lost.ID) || g.creates != 3 {
		t.Fatalf("a minute after its creation: recorded %v, %d creates; want %s kept as recorded and 3 creates", got, g.creates, lost.ID)
	}
	c.now = c.now.Add(time.Minute)
	must(t, m.Ensure(ctx))
	subs := m.List()
	if got := ids(subs); slices.Contains(got, lost.ID) || len(got) != 3 {
		t.Fatalf("two minutes after: recorded %v, want %s replaced", got, lost.ID)
	}
	if got := graphIDs(g); !slices.Equal(got, ids(subs)) {
		t.Errorf("Graph holds %v, recorded %v", got, ids(subs))
	}
	if !slices.Contains(resources(subs), lost.Resource) {
		t.Errorf("%s not subscribed again: %v", lost.Resource, resources(subs))
	}
}

// graphIDs are the ids of the subscriptions Graph holds, sorted.
func graphIDs(g *fakeGraph) []string {
	g.mu.Lock()
	defer g.mu.Unlock()
	var out []string
	for id := range g.subs {
		out = append(out, id)
	}
	slices.Sort(out)
	return out
}
