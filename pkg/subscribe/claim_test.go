package subscribe_test

import (
	"encoding/json"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/xtsync/xtsync/internal/testlog"
	"github.com/xtsync/xtsync/pkg/engine"
	"github.com/xtsync/xtsync/pkg/memstore"
	"github.com/xtsync/xtsync/pkg/subscribe"
)

// claimKeys are the claim records in store.
func claimKeys(t *testing.T, store engine.Store) []string {
	t.Helper()
	recs, err := store.List(t.Context(), engine.RecordMeta)
	must(t, err)
	var out []string
	for _, r := range recs {
		if strings.HasPrefix(r.Key, "subscription-claim:") {
			out = append(out, r.Key)
		}
	}
	return out
}

// graphResources are the resources of the subscriptions Graph holds, sorted,
// each as often as it is subscribed.
func graphResources(g *fakeGraph) []string {
	g.mu.Lock()
	defer g.mu.Unlock()
	var out []string
	for _, s := range g.subs {
		out = append(out, s.Resource)
	}
	slices.Sort(out)
	return out
}

// TestOneSubscriptionPerResourceAcrossProcesses: two managers on one
// state (two processes, as two worker containers on AWS) ensure at once,
// the second while the first is inside Graph's create. Each resource gets
// one subscription: the second leaves the resource being made to the
// first and makes the other.
func TestOneSubscriptionPerResourceAcrossProcesses(t *testing.T) {
	g := &blockingGraph{fakeGraph: &fakeGraph{subs: map[string]engine.Subscription{}}, entered: make(chan struct{}, 4), release: make(chan struct{})}
	store := memstore.New()
	c := &clock{time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)}
	newProcess := func() *subscribe.Manager {
		m, err := subscribe.New(subscribe.Config{Graph: g, Store: store, TenantID: "tenant", Scope: scope(1), PublicURL: "https://hooks.example.com/x", Clock: c, Log: testlog.New(t, slog.LevelInfo)})
		must(t, err)
		return m
	}
	a, b := newProcess(), newProcess()
	aDone, bDone := make(chan error, 1), make(chan error, 1)
	go func() { aDone <- a.Ensure(t.Context()) }()
	<-g.entered // a creates its first resource
	go func() { bDone <- b.Ensure(t.Context()) }()
	select {
	case <-g.entered: // b creates a resource too: it must be the other one
	case err := <-bDone:
		t.Fatalf("b ensured without creating anything (err %v), want it to make the resource a is not making", err)
	}
	close(g.release)
	must(t, <-aDone)
	must(t, <-bDone)

	want := []string{engine.GroupsResource + "/" + scope(1)[0], engine.UsersResource}
	if got := graphResources(g.fakeGraph); !slices.Equal(got, want) {
		t.Fatalf("Graph holds subscriptions on %v, want one on each of %v", got, want)
	}
	if g.creates != 2 {
		t.Errorf("%d creates, want 2", g.creates)
	}
	// Each process, loading the state, knows both; ensuring again makes
	// nothing.
	for name, m := range map[string]*subscribe.Manager{"a": a, "b": b} {
		must(t, m.Ensure(t.Context()))
		if got := resources(m.List()); !slices.Equal(got, want) {
			t.Errorf("%s lists %v, want %v", name, got, want)
		}
	}
	if g.creates != 2 {
		t.Errorf("%d creates after ensuring again, want 2", g.creates)
	}
}

// TestClaimOfAProcessThatDied: a claim without a subscription (its
// creator died inside Graph's create) holds the resource off for two
// minutes, then is taken over; a claim naming a subscription no longer
// recorded is taken over at once.
func TestClaimOfAProcessThatDied(t *testing.T) {
	ctx := t.Context()
	g, store, c := fixture()
	group := engine.GroupsResource + "/" + scope(1)[0]
	put := func(resource string, cl map[string]any) {
		data, _ := json.Marshal(cl)
		_, err := store.Put(ctx, engine.RecordMeta, "subscription-claim:source:"+resource, 0, data)
		must(t, err)
	}
	put(group, map[string]any{"claimed": c.now.Add(-time.Minute)})
	put(engine.UsersResource, map[string]any{"id": "00000000-0000-4000-8000-999999999999", "claimed": c.now.Add(-time.Hour)})
	m := newManager(t, g, store, c, 1)

	must(t, m.Ensure(ctx))
	if got, want := graphResources(g), []string{engine.UsersResource}; !slices.Equal(got, want) {
		t.Fatalf("with a fresh claim on the group: Graph holds %v, want %v (the users claim names no recorded subscription)", got, want)
	}
	c.now = c.now.Add(59 * time.Second)
	must(t, m.Ensure(ctx))
	if got := len(graphResources(g)); got != 1 {
		t.Fatalf("59 s later: %d subscriptions, want 1 (the group's claim is 1m59s old)", got)
	}
	c.now = c.now.Add(2 * time.Second)
	must(t, m.Ensure(ctx))
	if got, want := graphResources(g), []string{group, engine.UsersResource}; !slices.Equal(got, want) {
		t.Fatalf("after the claim's 2 minutes: Graph holds %v, want %v", got, want)
	}
	if got := claimKeys(t, store); len(got) != 2 {
		t.Errorf("claims %v, want one per subscription", got)
	}
}

// TestRemovedSubscriptionsReleaseTheirClaims: deleting subscriptions
// (unsubscribe, a resource no longer wanted, one Graph lost and recreated)
// leaves no claim behind but those of the subscriptions there are.
func TestRemovedSubscriptionsReleaseTheirClaims(t *testing.T) {
	ctx := t.Context()
	g, store, c := fixture()
	m := newManager(t, g, store, c, 3)
	must(t, m.Ensure(ctx))
	if got := claimKeys(t, store); len(got) != 4 {
		t.Fatalf("claims %v after ensuring 4 subscriptions, want 4", got)
	}

	lost := m.List()[0]
	must(t, g.Delete(ctx, lost.ID))
	must(t, m.Recreate(ctx, lost.ID))
	if got := graphResources(g); len(got) != 4 || !slices.Contains(got, lost.Resource) {
		t.Fatalf("after recreating %s: Graph holds %v", lost.Resource, got)
	}

	n, err := m.Unsubscribe(ctx)
	must(t, err)
	if n != 4 {
		t.Errorf("unsubscribe deleted %d, want 4", n)
	}
	if got := claimKeys(t, store); len(got) != 0 {
		t.Errorf("claims %v left after unsubscribe", got)
	}
	must(t, m.Subscribe(ctx))
	if got := len(graphResources(g)); got != 4 {
		t.Errorf("%d subscriptions after subscribe, want 4", got)
	}

	smaller := newManager(t, g, store, c, 2)
	must(t, smaller.Ensure(ctx))
	if got := claimKeys(t, store); len(got) != 3 {
		t.Errorf("claims %v after the scope shrank to 2 groups, want 3", got)
	}
}

// TestManyProcessesEnsureAtOnce: eight managers on one state ensure at the
// same moment (the AWS worker containers after an initial sync that made
// mirrors); Graph ends with one subscription per resource.
func TestManyProcessesEnsureAtOnce(t *testing.T) {
	g, store, c := fixture()
	var ms []*subscribe.Manager
	for range 8 {
		ms = append(ms, newManager(t, g, store, c, 5))
	}
	start := make(chan struct{})
	done := make(chan error, len(ms))
	for _, m := range ms {
		go func() {
			<-start
			done <- m.Ensure(t.Context())
		}()
	}
	close(start)
	for range ms {
		must(t, <-done)
	}
	want := []string{engine.UsersResource}
	for _, id := range scope(5) {
		want = append(want, engine.GroupsResource+"/"+id)
	}
	slices.Sort(want)
	if got := graphResources(g); !slices.Equal(got, want) {
		t.Fatalf("Graph holds subscriptions on %v, want one on each of %v", got, want)
	}
}
