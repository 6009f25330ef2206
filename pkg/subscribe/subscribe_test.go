package subscribe_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/xtsync/xtsync/pkg/engine"
	"github.com/xtsync/xtsync/pkg/memstore"
	"github.com/xtsync/xtsync/pkg/subscribe"
)

// fakeGraph keeps subscriptions in memory, as Graph would.
type fakeGraph struct {
	mu      sync.Mutex
	subs    map[string]engine.Subscription
	n       int
	creates int
	renews  int
}

func (g *fakeGraph) Create(_ context.Context, s engine.Subscription) (engine.Subscription, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if len(g.subs) >= subscribe.Quota {
		return engine.Subscription{}, fmt.Errorf("quota")
	}
	g.n++
	g.creates++
	s.ID = fmt.Sprintf("00000000-0000-4000-8000-%012d", g.n)
	g.subs[s.ID] = s
	return s, nil
}

func (g *fakeGraph) Renew(_ context.Context, id string, exp time.Time) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	s, ok := g.subs[id]
	if !ok {
		return fmt.Errorf("renew: %w", engine.ErrNotFound)
	}
	g.renews++
	s.Expires = exp
	g.subs[id] = s
	return nil
}

func (g *fakeGraph) Delete(_ context.Context, id string) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if _, ok := g.subs[id]; !ok {
		return fmt.Errorf("delete: %w", engine.ErrNotFound)
	}
	delete(g.subs, id)
	return nil
}

func (g *fakeGraph) List(context.Context) ([]engine.Subscription, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	out := make([]engine.Subscription, 0, len(g.subs))
	for _, s := range g.subs {
		out = append(out, s)
	}
	return out, nil
}

type clock struct{ now time.Time }

func (c *clock) Now() time.Time { return c.now }

// fixture is what a test starts from: a Graph holding no subscription, an
// empty state and a clock.
func fixture() (*fakeGraph, engine.Store, *clock) {
	return &fakeGraph{subs: map[string]engine.Subscription{}}, memstore.New(), &clock{time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)}
}

func scope(n int) []string {
	var out []string
	for i := range n {
		out = append(out, fmt.Sprintf("aaaaaaaa-0000-4000-8000-%012d", i))
	}
	return out
}

func newManager(t *testing.T, g *fakeGraph, store engine.Store, c *clock, n int) *subscribe.Manager {
	m, err := subscribe.New(subscribe.Config{Graph: g, Store: store, TenantID: "tenant", Scope: scope(n), PublicURL: "https://hooks.example.com/x/", Clock: c, Log: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Load(context.Background()); err != nil {
		t.Fatal(err)
	}
	return m
}

// usersSub returns the users subscription among subs.
func usersSub(t *testing.T, subs []engine.Subscription) engine.Subscription {
	t.Helper()
	var found []engine.Subscription
	for _, s := range subs {
		if s.Resource == engine.UsersResource {
			found = append(found, s)
		}
	}
	if len(found) != 1 {
		t.Fatalf("%d users subscriptions among %d, want 1", len(found), len(subs))
	}
	return found[0]
}

// TestSubscriptionBudget: the per-group limit leaves room for the users
// subscription and the recreate headroom within Graph's quota.
func TestSubscriptionBudget(t *testing.T) {
	if subscribe.Quota != 100 || subscribe.PerGroupLimit != 89 {
		t.Fatalf("Quota %d, PerGroupLimit %d; want 100 and 89", subscribe.Quota, subscribe.PerGroupLimit)
	}
	// The largest per-group set plus /users, with 10 left for recreating.
	if n := subscribe.PerGroupLimit + 1; n > subscribe.Quota-10 {
		t.Fatalf("%d subscriptions at the per-group limit leave less than 10 of %d", n, subscribe.Quota)
	}
}

// TestPerGroupThenTenantWide: one subscription per group up to
// PerGroupLimit, else /groups; /users beside them either way (none of
// them for an empty scope).
func TestPerGroupThenTenantWide(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		scope      int
		wantGroups int    // group subscriptions
		resource   string // prefix of every group subscription's resource
	}{
		{0, 0, ""},
		{1, 1, "/groups/aaaaaaaa"},
		{3, 3, "/groups/aaaaaaaa"},
		{subscribe.PerGroupLimit, subscribe.PerGroupLimit, "/groups/aaaaaaaa"},
		{subscribe.PerGroupLimit + 1, 1, "/groups"},
		{500, 1, "/groups"},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.scope), func(t *testing.T) {
			g := &fakeGraph{subs: map[string]engine.Subscription{}}
			m := newManager(t, g, memstore.New(), &clock{time.Date(2026, 11, 28, 0, 0, 0, 0, time.UTC)}, tt.scope)
			if err := m.Ensure(ctx); err != nil {
				t.Fatal(err)
			}
			subs := m.List()
			want := tt.wantGroups + 1
			if tt.scope == 0 {
				want = 0
			}
			if len(subs) != want || len(g.subs) != want {
				t.Fatalf("%d subscriptions (graph %d), want %d", len(subs), len(g.subs), want)
			}
			if want == 0 {
				return
			}
			states := map[string]bool{}
			for _, s := range subs {
				users := s.Resource == engine.UsersResource
				if !users && (!strings.HasPrefix(s.Resource, tt.resource) || tt.resource == "/groups" && s.Resource != "/groups") {
					t.Errorf("resource %s, want %s...", s.Resource, tt.resource)
				}
				if s.NotificationURL != "https://hooks.example.com/x/notifications" || s.LifecycleURL != "https://hooks.example.com/x/lifecycle" || len(s.ClientState) < 32 || s.ChangeType != "updated,deleted" || s.TenantID != "tenant" {
					t.Errorf("subscription %+v", s)
				}
				if d := s.Expires.Sub(time.Date(2026, 11, 28, 0, 0, 0, 0, time.UTC)); d > subscribe.MaxLifetime || d < subscribe.MaxLifetime-time.Hour {
					t.Errorf("%s expires in %s, not near the maximum", s.Resource, d)
				}
				if got, ok := m.Lookup(ctx, s.ID); !ok || got != s || got.TenantID != "tenant" || got.OnUsers() != users {
					t.Errorf("lookup %s: %+v %t", s.Resource, got, ok)
				}
				if states[s.ClientState] {
					t.Errorf("clientState of %s shared with another subscription", s.Resource)
				}
				states[s.ClientState] = true
			}
			usersSub(t, subs)
			// Ensure again: nothing to do.
			before := g.creates
			if err := m.Ensure(ctx); err != nil || g.creates != before || g.renews != 0 {
				t.Fatalf("second ensure: err %v creates %d renews %d", err, g.creates-before, g.renews)
			}
		})
	}
}

// TestScopeCrossesPerGroupLimit: growing past PerGroupLimit swaps the
// per-group subscriptions for /groups and back, never passing Graph's quota
// (the fake refuses beyond it); the users subscription stays as it is.
func TestScopeCrossesPerGroupLimit(t *testing.T) {
	ctx := context.Background()
	g, store, c := fixture()
	m := newManager(t, g, store, c, subscribe.PerGroupLimit)
	if err := m.Ensure(ctx); err != nil {
		t.Fatal(err)
	}
	users := usersSub(t, m.List())
	for _, tt := range []struct {
		scope, want int
	}{{subscribe.PerGroupLimit + 1, 2}, {subscribe.PerGroupLimit, subscribe.PerGroupLimit + 1}, {1, 2}} {
		m := newManager(t, g, store, c, tt.scope)
		if err := m.Ensure(ctx); err != nil {
			t.Fatalf("scope %d: %v", tt.scope, err)
		}
		subs := m.List()
		if len(subs) != tt.want || len(g.subs) != tt.want {
			t.Fatalf("scope %d: %d subscriptions (graph %d), want %d", tt.scope, len(subs), len(g.subs), tt.want)
		}
		if got := usersSub(t, subs); got.ID != users.ID || got.ClientState != users.ClientState {
			t.Fatalf("scope %d: users subscription replaced", tt.scope)
		}
	}
}

// TestUsersSubscriptionLifecycle: the users subscription is renewed with the
// others, recreated (by Renew when Graph lost it, or by Recreate on
// subscriptionRemoved) with a new clientState and still known as the users
// one, and removed by Unsubscribe.
func TestUsersSubscriptionLifecycle(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name    string
		recover func(m *subscribe.Manager, g *fakeGraph, id string) error
	}{
		{"renew finds it gone", func(m *subscribe.Manager, g *fakeGraph, id string) error {
			delete(g.subs, id)
			return m.Renew(ctx, id)
		}},
		{"subscriptionRemoved", func(m *subscribe.Manager, g *fakeGraph, id string) error {
			delete(g.subs, id)
			return m.Recreate(ctx, id)
		}},
		{"ensure after Graph removed it", func(m *subscribe.Manager, g *fakeGraph, id string) error {
			delete(g.subs, id)
			// 27 days on: Ensure renews, finds it gone, recreates it.
			return m.Ensure(ctx)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := &fakeGraph{subs: map[string]engine.Subscription{}}
			store := memstore.New()
			c := &clock{time.Date(2026, 11, 28, 0, 0, 0, 0, time.UTC)}
			m := newManager(t, g, store, c, 2)
			if err := m.Ensure(ctx); err != nil {
				t.Fatal(err)
			}
			old := usersSub(t, m.List())
			c.now = c.now.Add(27 * 24 * time.Hour)
			if err := tt.recover(m, g, old.ID); err != nil {
				t.Fatal(err)
			}
			subs := m.List()
			if len(subs) != 3 || len(g.subs) != 3 {
				t.Fatalf("%d known, %d in graph; want 3", len(subs), len(g.subs))
			}
			now := usersSub(t, subs)
			if now.ID == old.ID || now.ClientState == old.ClientState || now.ChangeType != "updated,deleted" || now.LifecycleURL != old.LifecycleURL {
				t.Fatalf("recreated %+v from %+v", now, old)
			}
			if d := now.Expires.Sub(c.now); d < subscribe.MaxLifetime-time.Hour {
				t.Fatalf("recreated expiry in %s", d)
			}
			if _, ok := m.Lookup(ctx, old.ID); ok {
				t.Fatal("old users subscription still known")
			}
			if got, ok := m.Lookup(ctx, now.ID); !ok || !got.OnUsers() || got.ClientState != now.ClientState {
				t.Fatalf("lookup of the new users subscription: %+v %t", got, ok)
			}
			// Stored: a new manager on the same store knows it as the users one.
			if got, ok := newManager(t, g, store, c, 2).Lookup(ctx, now.ID); !ok || !got.OnUsers() {
				t.Fatal("reloaded manager does not know the users subscription")
			}
			if _, err := m.Unsubscribe(ctx); err != nil || len(g.subs) != 0 || len(m.List()) != 0 {
				t.Fatalf("unsubscribe: %v, %d left", err, len(g.subs))
			}
		})
	}
}

func TestRenewRecreateAndReload(t *testing.T) {
	ctx := context.Background()
	g, store, c := fixture()
	m := newManager(t, g, store, c, 2)
	if err := m.Ensure(ctx); err != nil {
		t.Fatal(err)
	}
	first := m.List()[0]
	if first.Expires.Sub(c.now) > subscribe.MaxLifetime || first.Expires.Sub(c.now) < subscribe.MaxLifetime-time.Hour {
		t.Fatalf("expiry %s not near the maximum", first.Expires.Sub(c.now))
	}
	// 27 days on: inside the renewal window; two groups and /users.
	c.now = c.now.Add(27 * 24 * time.Hour)
	if err := m.Ensure(ctx); err != nil || g.renews != 3 {
		t.Fatalf("renew: err %v renews %d", err, g.renews)
	}
	for _, s := range m.List() {
		if d := s.Expires.Sub(c.now); d < subscribe.MaxLifetime-time.Hour {
			t.Fatalf("%s not renewed: expires in %s", s.Resource, d)
		}
	}
	// Graph lost one: renewing it recreates it.
	delete(g.subs, first.ID)
	if err := m.Renew(ctx, first.ID); err != nil {
		t.Fatal(err)
	}
	if _, ok := m.Lookup(ctx, first.ID); ok || len(m.List()) != 3 || len(g.subs) != 3 {
		t.Fatalf("recreate: %d known, %d in graph", len(m.List()), len(g.subs))
	}
	// A new manager on the same store knows them (and their secrets).
	m2 := newManager(t, g, store, c, 2)
	for _, s := range m.List() {
		if got, ok := m2.Lookup(ctx, s.ID); !ok || got.ClientState != s.ClientState {
			t.Fatalf("reloaded manager does not know %s", s.ID)
		}
	}
	// Scope shrinks: the extra subscription goes, /users stays.
	m3 := newManager(t, g, store, c, 1)
	if err := m3.Ensure(ctx); err != nil || len(m3.List()) != 2 || len(g.subs) != 2 {
		t.Fatalf("shrink: %v, %d known, %d in graph", err, len(m3.List()), len(g.subs))
	}
	usersSub(t, m3.List())
	if _, err := m3.Unsubscribe(ctx); err != nil || len(g.subs) != 0 || len(m3.List()) != 0 {
		t.Fatalf("unsubscribe: %v, %d left", err, len(g.subs))
	}
	if subs, _ := subscribe.Stored(ctx, store); len(subs) != 0 {
		t.Fatalf("%d subscription records left", len(subs))
	}
}

// TestUnsubscribeStaysOff: an operator's unsubscribe is kept in the state:
// another manager on it (serve after a restart, the next reconcile
// function) creates nothing, a lifecycle event's recreate makes nothing,
// and Subscribe turns them on again for every manager.
func TestUnsubscribeStaysOff(t *testing.T) {
	ctx := context.Background()
	g, store, c := fixture()
	a := newManager(t, g, store, c, 3)
	must(t, a.Ensure(ctx))
	stale := newManager(t, g, store, c, 3) // loaded before the unsubscribe
	kept := stale.List()[0]
	n, err := a.Unsubscribe(ctx)
	if err != nil || n != 4 || len(g.subs) != 0 || !a.Off() {
		t.Fatalf("unsubscribe: deleted %d, %v; %d left in graph, off %t", n, err, len(g.subs), a.Off())
	}
	if off, err := subscribe.Off(ctx, store); err != nil || !off {
		t.Fatalf("the state says off %t (%v), want true", off, err)
	}
	b := newManager(t, g, store, c, 3)
	must(t, b.Ensure(ctx))
	if g.creates != 4 || len(g.subs) != 0 {
		t.Errorf("a manager loaded after the unsubscribe created %d (total creates %d, want 4)", len(g.subs), g.creates)
	}
	// A worker's lifecycle event after the unsubscribe: it loads the state,
	// the recreate finds nothing, and its fallback Ensure makes nothing.
	must(t, stale.Load(ctx))
	if err := stale.Recreate(ctx, kept.ID); !errors.Is(err, engine.ErrNotFound) {
		t.Fatalf("recreate of an unsubscribed subscription: %v, want ErrNotFound", err)
	}
	must(t, stale.Ensure(ctx))
	if len(g.subs) != 0 {
		t.Errorf("a recreate while off made %d subscription(s)", len(g.subs))
	}
	if _, err := a.Unsubscribe(ctx); err != nil { // again: nothing to do, still off
		t.Fatal(err)
	}
	must(t, b.Subscribe(ctx))
	if len(g.subs) != 4 || b.Off() {
		t.Fatalf("subscribe: %d in graph, off %t; want 4, false", len(g.subs), b.Off())
	}
	if off, _ := subscribe.Off(ctx, store); off {
		t.Error("the state still says off after Subscribe")
	}
	must(t, a.Load(ctx))
	if a.Off() {
		t.Error("a reloaded manager is still off")
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func TestStoredLookup(t *testing.T) {
	ctx := context.Background()
	g, store, c := fixture()
	m := newManager(t, g, store, c, 2)
	l := subscribe.NewStoredLookup(store, c)
	if _, ok := l.Lookup(ctx, "00000000-0000-4000-8000-000000000001"); ok {
		t.Fatal("known before any subscription exists")
	}
	if err := m.Ensure(ctx); err != nil {
		t.Fatal(err)
	}
	s := m.List()[0]
	// Asked again within MinReload: not reloaded yet, and unsure (the
	// webhook has Graph deliver again).
	if _, ok := l.Lookup(ctx, s.ID); ok {
		t.Fatal("reloaded before MinReload passed")
	}
	if !l.Unsure(ctx, s.ID) {
		t.Error("an id unknown because the reload was refused: not unsure")
	}
	c.now = c.now.Add(6 * time.Second)
	// Reloaded: an id still unknown is not a new subscription.
	if _, ok := l.Lookup(ctx, "ffffffff-0000-4000-8000-000000000002"); ok || l.Unsure(ctx, "ffffffff-0000-4000-8000-000000000002") {
		t.Error("an id unknown after a reload: found or unsure")
	}
	for _, s := range m.List() {
		want := s
		if got, ok := l.Lookup(ctx, s.ID); !ok || got != want {
			t.Fatalf("after reload, %s: %+v %t; want %+v", s.Resource, got, ok, want)
		}
	}
	// A deleted subscription stays known until the TTL passes.
	if _, err := m.Unsubscribe(ctx); err != nil {
		t.Fatal(err)
	}
	if _, ok := l.Lookup(ctx, s.ID); !ok {
		t.Fatal("forgot a known subscription before the TTL")
	}
	c.now = c.now.Add(2 * time.Minute)
	if _, ok := l.Lookup(ctx, s.ID); ok {
		t.Fatal("kept a deleted subscription past the TTL")
	}
}

// blockingGraph is a fakeGraph whose every Create tells entered, then
// waits for a release.
type blockingGraph struct {
	*fakeGraph
	entered, release chan struct{}
}

func (g *blockingGraph) Create(ctx context.Context, s engine.Subscription) (engine.Subscription, error) {
	g.entered <- struct{}{}
	<-g.release
	return g.fakeGraph.Create(ctx, s)
}

// TestManagerUnsureWhileCreating: while a creation is in flight (Graph
// validates and may notify before it answers), an unknown id may be it;
// once stored it is known, and an unknown id is not unsure any more.
func TestManagerUnsureWhileCreating(t *testing.T) {
	ctx := context.Background()
	g := &blockingGraph{fakeGraph: &fakeGraph{subs: map[string]engine.Subscription{}}, entered: make(chan struct{}, 2), release: make(chan struct{}, 2)}
	c := &clock{time.Date(2026, 11, 28, 0, 0, 0, 0, time.UTC)}
	m, err := subscribe.New(subscribe.Config{Graph: g, Store: memstore.New(), TenantID: "tenant", Scope: scope(1), PublicURL: "https://hooks.example.com/x", Clock: c, Log: slog.New(slog.DiscardHandler)})
	must(t, err)
	const unknown = "ffffffff-0000-4000-8000-000000000009"
	if m.Unsure(ctx, unknown) {
		t.Fatal("unsure with no creation in flight")
	}
	done := make(chan error, 1)
	go func() { done <- m.Ensure(ctx) }()
	<-g.entered
	if !m.Unsure(ctx, unknown) {
		t.Error("not unsure while a creation is in flight")
	}
	g.release <- struct{}{}
	<-g.entered // the users subscription's creation
	g.release <- struct{}{}
	must(t, <-done)
	if m.Unsure(ctx, unknown) {
		t.Error("unsure after the creations were stored")
	}
	for _, s := range m.List() {
		if _, ok := m.Lookup(ctx, s.ID); !ok {
			t.Errorf("created %s not known", s.ID)
		}
	}
}

// ctxStore is a store whose List honours its context, as DynamoDB's does.
type ctxStore struct{ engine.Store }

func (s ctxStore) List(ctx context.Context, kind engine.RecordKind) ([]engine.Record, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return s.Store.List(ctx, kind)
}

// TestStoredLookupContext checks that a load runs under the caller's
// context: a cancelled request loads nothing, and the next request does.
func TestStoredLookupContext(t *testing.T) {
	g, store, c := fixture()
	m := newManager(t, g, store, c, 2)
	if err := m.Ensure(t.Context()); err != nil {
		t.Fatal(err)
	}
	s := m.List()[0]
	l := subscribe.NewStoredLookup(ctxStore{store}, c)
	cancelled, cancel := context.WithCancel(t.Context())
	cancel()
	if _, ok := l.Lookup(cancelled, s.ID); ok {
		t.Fatal("loaded under a cancelled context")
	}
	if err := l.Err(); !errors.Is(err, context.Canceled) {
		t.Fatalf("Err() = %v, want context.Canceled", err)
	}
	c.now = c.now.Add(6 * time.Second)
	if _, ok := l.Lookup(t.Context(), s.ID); !ok {
		t.Fatal("not loaded under a live context")
	}
	if err := l.Err(); err != nil {
		t.Fatalf("Err() = %v after a good load", err)
	}
}
