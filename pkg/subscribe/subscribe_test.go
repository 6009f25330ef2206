package subscribe_test

import (
	"context"
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
	subs    map[string]subscribe.Subscription
	n       int
	creates int
	renews  int
}

func (g *fakeGraph) Create(_ context.Context, s subscribe.Subscription) (subscribe.Subscription, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if len(g.subs) >= subscribe.Quota {
		return subscribe.Subscription{}, fmt.Errorf("quota")
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

type clock struct{ now time.Time }

func (c *clock) Now() time.Time { return c.now }

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

func TestPerGroupThenTenantWide(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		scope    int
		want     int
		resource string
	}{{3, 3, "/groups/aaaaaaaa"}, {90, 90, "/groups/aaaaaaaa"}, {91, 1, "/groups"}, {500, 1, "/groups"}}
	for _, tt := range tests {
		g := &fakeGraph{subs: map[string]subscribe.Subscription{}}
		m := newManager(t, g, memstore.New(), &clock{time.Date(2026, 11, 28, 0, 0, 0, 0, time.UTC)}, tt.scope)
		if err := m.Ensure(ctx); err != nil {
			t.Fatal(err)
		}
		subs := m.List()
		if len(subs) != tt.want || len(g.subs) != tt.want || !strings.HasPrefix(subs[0].Resource, tt.resource) {
			t.Fatalf("scope %d: %d subscriptions (graph %d), first %s; want %d on %s", tt.scope, len(subs), len(g.subs), subs[0].Resource, tt.want, tt.resource)
		}
		s := subs[0]
		if s.NotificationURL != "https://hooks.example.com/x/notifications" || s.LifecycleURL != "https://hooks.example.com/x/lifecycle" || len(s.ClientState) < 32 || s.ChangeType != "updated,deleted" {
			t.Fatalf("subscription %+v", s)
		}
		if cs, tid, ok := m.Lookup(s.ID); !ok || cs != s.ClientState || tid != "tenant" {
			t.Fatal("lookup")
		}
		// Ensure again: nothing to do.
		before := g.creates
		if err := m.Ensure(ctx); err != nil || g.creates != before || g.renews != 0 {
			t.Fatalf("second ensure: err %v creates %d renews %d", err, g.creates-before, g.renews)
		}
	}
}

func TestRenewRecreateAndReload(t *testing.T) {
	ctx := context.Background()
	g := &fakeGraph{subs: map[string]subscribe.Subscription{}}
	store := memstore.New()
	c := &clock{time.Date(2026, 11, 28, 0, 0, 0, 0, time.UTC)}
	m := newManager(t, g, store, c, 2)
	if err := m.Ensure(ctx); err != nil {
		t.Fatal(err)
	}
	first := m.List()[0]
	if first.Expires.Sub(c.now) > subscribe.MaxLifetime || first.Expires.Sub(c.now) < subscribe.MaxLifetime-time.Hour {
		t.Fatalf("expiry %s not near the maximum", first.Expires.Sub(c.now))
	}
	// 27 days on: inside the renewal window.
	c.now = c.now.Add(27 * 24 * time.Hour)
	if err := m.Ensure(ctx); err != nil || g.renews != 2 {
		t.Fatalf("renew: err %v renews %d", err, g.renews)
	}
	// Graph lost one: renewing it recreates it.
	delete(g.subs, first.ID)
	if err := m.Renew(ctx, first.ID); err != nil {
		t.Fatal(err)
	}
	if _, _, ok := m.Lookup(first.ID); ok || len(m.List()) != 2 || len(g.subs) != 2 {
		t.Fatalf("recreate: %d known, %d in graph", len(m.List()), len(g.subs))
	}
	// A new manager on the same store knows them (and their secrets).
	m2 := newManager(t, g, store, c, 2)
	for _, s := range m.List() {
		if cs, _, ok := m2.Lookup(s.ID); !ok || cs != s.ClientState {
			t.Fatalf("reloaded manager does not know %s", s.ID)
		}
	}
	// Scope shrinks: the extra subscription goes.
	m3 := newManager(t, g, store, c, 1)
	if err := m3.Ensure(ctx); err != nil || len(m3.List()) != 1 || len(g.subs) != 1 {
		t.Fatalf("shrink: %v, %d known, %d in graph", err, len(m3.List()), len(g.subs))
	}
	if err := m3.Unsubscribe(ctx); err != nil || len(g.subs) != 0 || len(m3.List()) != 0 {
		t.Fatalf("unsubscribe: %v, %d left", err, len(g.subs))
	}
	if recs, _ := store.List(ctx, engine.RecordMeta); len(recs) != 0 {
		t.Fatalf("%d subscription records left", len(recs))
	}
}

func TestStoredLookup(t *testing.T) {
	ctx := context.Background()
	g := &fakeGraph{subs: map[string]subscribe.Subscription{}}
	store := memstore.New()
	c := &clock{time.Date(2026, 11, 28, 0, 0, 0, 0, time.UTC)}
	m := newManager(t, g, store, c, 2)
	l := &subscribe.StoredLookup{Store: store, Clock: c}
	if _, _, ok := l.Lookup("00000000-0000-4000-8000-000000000001"); ok {
		t.Fatal("known before any subscription exists")
	}
	if err := m.Ensure(ctx); err != nil {
		t.Fatal(err)
	}
	s := m.List()[0]
	// Asked again within MinReload: not reloaded yet.
	if _, _, ok := l.Lookup(s.ID); ok {
		t.Fatal("reloaded before MinReload passed")
	}
	c.now = c.now.Add(6 * time.Second)
	if cs, tid, ok := l.Lookup(s.ID); !ok || cs != s.ClientState || tid != "tenant" {
		t.Fatalf("after reload: %q %q %t", cs, tid, ok)
	}
	// A deleted subscription stays known until the TTL passes.
	if err := m.Unsubscribe(ctx); err != nil {
		t.Fatal(err)
	}
	if _, _, ok := l.Lookup(s.ID); !ok {
		t.Fatal("forgot a known subscription before the TTL")
	}
	c.now = c.now.Add(2 * time.Minute)
	if _, _, ok := l.Lookup(s.ID); ok {
		t.Fatal("kept a deleted subscription past the TTL")
	}
}
