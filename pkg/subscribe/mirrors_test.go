package subscribe_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/xtsync/xtsync/pkg/engine"
	"github.com/xtsync/xtsync/pkg/memstore"
	"github.com/xtsync/xtsync/pkg/subscribe"
)

// countingGraph is the fake Graph counting deletes too.
type countingGraph struct {
	*fakeGraph
	deletes int
}

func (g *countingGraph) Delete(ctx context.Context, id string) error {
	g.mu.Lock()
	g.deletes++
	g.mu.Unlock()
	return g.fakeGraph.Delete(ctx, id)
}

// newTargetGraph returns a fake Graph for the target tenant whose ids do
// not collide with a source fake's (Graph's ids are GUIDs).
func newTargetGraph() *countingGraph {
	return &countingGraph{fakeGraph: &fakeGraph{subs: map[string]engine.Subscription{}, n: 1_000_000}}
}

// mirrorIDs returns n target group ids.
func mirrorIDs(n int) []string {
	var out []string
	for i := range n {
		out = append(out, fmt.Sprintf("bbbbbbbb-0000-4000-8000-%012d", i))
	}
	return out
}

// mirrorList is what a mirrors manager's Config.Mirrors returns: ids, or
// err.
type mirrorList struct {
	ids   []string
	err   error
	calls int
}

func (l *mirrorList) list(context.Context) (map[string]string, error) {
	l.calls++
	if l.err != nil {
		return nil, l.err
	}
	out := map[string]string{}
	for _, id := range l.ids {
		out[id] = "source-of-" + id
	}
	return out, nil
}

// newMirrorsManager returns a loaded mirrors manager on the target tenant.
func newMirrorsManager(t *testing.T, g engine.SubscriptionAPI, store engine.Store, c *clock, l *mirrorList) *subscribe.Manager {
	t.Helper()
	return newMirrorsManagerOn(t, "target", g, store, c, l)
}

// newMirrorsManagerOn returns a loaded mirrors manager on tenant.
func newMirrorsManagerOn(t *testing.T, tenant string, g engine.SubscriptionAPI, store engine.Store, c *clock, l *mirrorList) *subscribe.Manager {
	t.Helper()
	m, err := subscribe.New(subscribe.Config{Graph: g, Store: store, TenantID: tenant, Scope: scope(5), Mirrors: l.list, PublicURL: "https://hooks.example.com/x/", Clock: c, Log: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Load(context.Background()); err != nil {
		t.Fatal(err)
	}
	return m
}

// ids returns the ids of subs, sorted.
func ids(subs []engine.Subscription) []string {
	out := make([]string, 0, len(subs))
	for _, s := range subs {
		out = append(out, s.ID)
	}
	slices.Sort(out)
	return out
}

// resources returns the resources of subs, sorted.
func resources(subs []engine.Subscription) []string {
	out := make([]string, 0, len(subs))
	for _, s := range subs {
		out = append(out, s.Resource)
	}
	slices.Sort(out)
	return out
}

// groupResources returns "/groups/{id}" of each id, sorted.
func groupResources(ids []string) []string {
	out := make([]string, 0, len(ids))
	for _, id := range ids {
		out = append(out, engine.GroupsResource+"/"+id)
	}
	slices.Sort(out)
	return out
}

// mirrorResources are what a mirrors manager subscribes to for ids one by
// one: each mirror, and the target's users.
func mirrorResources(ids []string) []string {
	return append(groupResources(ids), engine.UsersResource)
}

// tenantWideMirrors are what it subscribes to past MirrorLimit.
var tenantWideMirrors = []string{engine.GroupsResource, engine.UsersResource}

// TestMirrorBudget: beside the target's users subscription, the mirrors
// get the whole quota but the headroom.
func TestMirrorBudget(t *testing.T) {
	if got, want := subscribe.MirrorLimit, 89; got != want {
		t.Fatalf("MirrorLimit %d, want %d", got, want)
	}
	if got, want := subscribe.Quota-subscribe.MirrorLimit-1, 10; got != want {
		t.Fatalf("the mirrors leave %d of the quota free, want %d", got, want)
	}
}

// TestMirrorsPerGroup: a mirrors manager subscribes on the target tenant to
// each mirror and to /users, marked Mirrors and otherwise made as the
// source's are; a mirror added gets exactly one subscription more, one
// removed loses exactly its own, a repeated id counts once.
func TestMirrorsPerGroup(t *testing.T) {
	ctx := context.Background()
	start := time.Date(2026, 11, 28, 0, 0, 0, 0, time.UTC)
	g := newTargetGraph()
	c := &clock{start}
	all := mirrorIDs(4)
	l := &mirrorList{ids: all[:3]}
	m := newMirrorsManager(t, g, memstore.New(), c, l)
	must(t, m.Ensure(ctx))

	subs := m.List()
	if got, want := resources(subs), mirrorResources(all[:3]); !slices.Equal(got, want) {
		t.Fatalf("resources %v, want %v", got, want)
	}
	if got, want := len(g.subs), 4; got != want {
		t.Fatalf("%d subscriptions in graph, want %d", got, want)
	}
	states := map[string]bool{}
	for _, s := range subs {
		if !s.Mirrors || s.TenantID != "target" {
			t.Errorf("%s: mirrors %t, tenant %q; want a mirrors subscription on the target", s.Resource, s.Mirrors, s.TenantID)
		}
		if s.NotificationURL != "https://hooks.example.com/x/notifications" || s.LifecycleURL != "https://hooks.example.com/x/lifecycle" || len(s.ClientState) < 32 || s.ChangeType != "updated,deleted" {
			t.Errorf("subscription %+v", s)
		}
		if d := s.Expires.Sub(start); d > subscribe.MaxLifetime || d < subscribe.MaxLifetime-time.Hour {
			t.Errorf("%s expires in %s, not near the maximum", s.Resource, d)
		}
		if got, ok := m.Lookup(ctx, s.ID); !ok || got != s {
			t.Errorf("lookup %s: %+v %t", s.Resource, got, ok)
		}
		if got := g.subs[s.ID]; !got.Mirrors {
			t.Errorf("%s created without Mirrors", s.Resource)
		}
		if states[s.ClientState] {
			t.Errorf("clientState of %s shared with another subscription", s.Resource)
		}
		states[s.ClientState] = true
	}

	steps := []struct {
		name               string
		ids                []string
		creates, deletes   int // this step's
		kept, wantResource []string
	}{
		{"a fourth mirror", all, 1, 0, all[:3], mirrorResources(all)},
		{"nothing changed", all, 0, 0, all, mirrorResources(all)},
		{"a mirror gone", []string{all[0], all[2], all[3]}, 0, 1, []string{all[0], all[2], all[3]}, mirrorResources([]string{all[0], all[2], all[3]})},
		{"repeated ids", []string{all[3], all[0], all[2], all[0], all[3]}, 0, 0, []string{all[0], all[2], all[3]}, mirrorResources([]string{all[0], all[2], all[3]})},
	}
	for _, st := range steps {
		before := map[string]string{} // resource -> id
		for _, s := range m.List() {
			before[s.Resource] = s.ID
		}
		creates, deletes := g.creates, g.deletes
		l.ids = st.ids
		must(t, m.Ensure(ctx))
		if got, want := g.creates-creates, st.creates; got != want {
			t.Errorf("%s: %d created, want %d", st.name, got, want)
		}
		if got, want := g.deletes-deletes, st.deletes; got != want {
			t.Errorf("%s: %d deleted, want %d", st.name, got, want)
		}
		subs := m.List()
		if got, want := resources(subs), st.wantResource; !slices.Equal(got, want) {
			t.Errorf("%s: resources %v, want %v", st.name, got, want)
		}
		if got, want := len(g.subs), len(st.wantResource); got != want {
			t.Errorf("%s: %d subscriptions in graph, want %d", st.name, got, want)
		}
		now := map[string]string{}
		for _, s := range subs {
			now[s.Resource] = s.ID
		}
		for _, id := range st.kept {
			r := engine.GroupsResource + "/" + id
			if got, want := now[r], before[r]; got != want {
				t.Errorf("%s: %s is subscription %q, was %q", st.name, r, got, want)
			}
		}
	}
}

// TestMirrorsPerGroupThenTenantWide: the mirrors one by one up to
// MirrorLimit, else one /groups subscription; /users beside them; nothing
// for no mirrors.
func TestMirrorsPerGroupThenTenantWide(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name string
		ids  []string
		want []string // resources
	}{
		{"none", nil, nil},
		{"one", mirrorIDs(1), mirrorResources(mirrorIDs(1))},
		{"the limit", mirrorIDs(subscribe.MirrorLimit), mirrorResources(mirrorIDs(subscribe.MirrorLimit))},
		{"the limit, one repeated", append(mirrorIDs(subscribe.MirrorLimit), mirrorIDs(1)...), mirrorResources(mirrorIDs(subscribe.MirrorLimit))},
		{"one past the limit", mirrorIDs(subscribe.MirrorLimit + 1), tenantWideMirrors},
		{"500", mirrorIDs(500), tenantWideMirrors},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := newTargetGraph()
			m := newMirrorsManager(t, g, memstore.New(), &clock{time.Date(2026, 11, 28, 0, 0, 0, 0, time.UTC)}, &mirrorList{ids: tt.ids})
			must(t, m.Ensure(ctx))
			subs := m.List()
			if got, want := resources(subs), tt.want; !slices.Equal(got, want) {
				t.Fatalf("resources %v, want %v", got, want)
			}
			if got, want := len(g.subs), len(tt.want); got != want {
				t.Fatalf("%d subscriptions in graph, want %d", got, want)
			}
			for _, s := range subs {
				if !s.Mirrors || s.TenantID != "target" {
					t.Errorf("%s: mirrors %t, tenant %q", s.Resource, s.Mirrors, s.TenantID)
				}
				// One mirror's subscription names its source group; the
				// tenant-wide one none.
				want := ""
				if id, one := strings.CutPrefix(s.Resource, engine.GroupsResource+"/"); one {
					want = "source-of-" + id
				}
				if s.Source != want {
					t.Errorf("%s: source %q, want %q", s.Resource, s.Source, want)
				}
			}
			creates := g.creates
			must(t, m.Ensure(ctx))
			if got := g.creates - creates; got != 0 {
				t.Errorf("a second Ensure created %d", got)
			}
		})
	}
}

// TestMirrorsCrossLimit: growing past MirrorLimit swaps the per-group
// subscriptions for /groups and back, within the target's quota (the fake
// refuses beyond it).
func TestMirrorsCrossLimit(t *testing.T) {
	ctx := context.Background()
	g := newTargetGraph()
	l := &mirrorList{ids: mirrorIDs(subscribe.MirrorLimit)}
	m := newMirrorsManager(t, g, memstore.New(), &clock{time.Date(2026, 11, 28, 0, 0, 0, 0, time.UTC)}, l)
	must(t, m.Ensure(ctx))
	for _, tt := range []struct {
		mirrors int
		want    []string
	}{
		{subscribe.MirrorLimit + 1, tenantWideMirrors},
		{subscribe.MirrorLimit, mirrorResources(mirrorIDs(subscribe.MirrorLimit))},
		{2, mirrorResources(mirrorIDs(2))},
	} {
		l.ids = mirrorIDs(tt.mirrors)
		if err := m.Ensure(ctx); err != nil {
			t.Fatalf("%d mirrors: %v", tt.mirrors, err)
		}
		if got, want := resources(m.List()), tt.want; !slices.Equal(got, want) {
			t.Fatalf("%d mirrors: resources %v, want %v", tt.mirrors, got, want)
		}
		if got, want := len(g.subs), len(tt.want); got != want {
			t.Fatalf("%d mirrors: %d in graph, want %d", tt.mirrors, got, want)
		}
	}
}

// TestSourceAndMirrorsShareStore: a source and a mirrors manager on one
// store each keep to their own subscriptions, on two tenants or (Mirrors
// alone telling them apart) on one: an Ensure, a renewal, a lookup, a
// reload and a shrink of one leave the other's as they are; Stored sees
// both.
func TestSourceAndMirrorsShareStore(t *testing.T) {
	for _, tenant := range []string{"target", "tenant"} {
		t.Run(tenant, func(t *testing.T) { testSourceAndMirrorsShareStore(t, tenant) })
	}
}

// testSourceAndMirrorsShareStore is TestSourceAndMirrorsShareStore with
// the mirrors on tenant (the source is "tenant").
func testSourceAndMirrorsShareStore(t *testing.T, tenant string) {
	ctx := context.Background()
	store := memstore.New()
	c := &clock{time.Date(2026, 11, 28, 0, 0, 0, 0, time.UTC)}
	sg := &fakeGraph{subs: map[string]engine.Subscription{}}
	tg := newTargetGraph()
	l := &mirrorList{ids: mirrorIDs(3)}
	src := newManager(t, sg, store, c, 2) // 2 groups and /users
	mir := newMirrorsManagerOn(t, tenant, tg, store, c, l)
	must(t, src.Ensure(ctx))
	must(t, mir.Ensure(ctx))
	srcIDs, mirIDs := ids(src.List()), ids(mir.List())
	if got, want := len(srcIDs), 3; got != want {
		t.Fatalf("source: %d subscriptions, want %d", got, want)
	}
	if got, want := len(mirIDs), 4; got != want { // 3 mirrors and /users
		t.Fatalf("mirrors: %d subscriptions, want %d", got, want)
	}

	// check asserts both managers, fresh ones on the store and Graph hold
	// the subscriptions made first.
	check := func(step string) {
		t.Helper()
		for _, tt := range []struct {
			name       string
			got, want  []string
			graph      int
			wantMirror bool
		}{
			{"source", ids(src.List()), srcIDs, len(sg.subs), false},
			{"mirrors", ids(mir.List()), mirIDs, len(tg.subs), true},
			{"reloaded source", ids(newManager(t, sg, store, c, 2).List()), srcIDs, len(sg.subs), false},
			{"reloaded mirrors", ids(newMirrorsManagerOn(t, tenant, tg, store, c, l).List()), mirIDs, len(tg.subs), true},
		} {
			if !slices.Equal(tt.got, tt.want) {
				t.Errorf("%s: %s knows %v, want %v", step, tt.name, tt.got, tt.want)
			}
			if got, want := tt.graph, len(tt.want); got != want {
				t.Errorf("%s: %s: %d in graph, want %d", step, tt.name, got, want)
			}
		}
		for _, s := range src.List() {
			if s.Mirrors {
				t.Errorf("%s: the source manager lists the mirrors subscription %s", step, s.Resource)
			}
		}
		for _, s := range mir.List() {
			if !s.Mirrors {
				t.Errorf("%s: the mirrors manager lists the source subscription %s", step, s.Resource)
			}
		}
		all, err := subscribe.Stored(ctx, store)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := ids(all), slices.Sorted(slices.Values(append(slices.Clone(srcIDs), mirIDs...))); !slices.Equal(got, want) {
			t.Errorf("%s: stored %v, want %v", step, got, want)
		}
		if !slices.IsSortedFunc(all, func(a, b engine.Subscription) int { return a.Expires.Compare(b.Expires) }) {
			t.Errorf("%s: stored not soonest expiry first", step)
		}
	}
	check("first ensures")

	must(t, src.Ensure(ctx))
	must(t, mir.Ensure(ctx))
	check("ensured again")

	// Each answers for its own subscriptions only.
	for _, tt := range []struct {
		name string
		m    *subscribe.Manager
		own  []string
		not  []string
	}{
		{"source", src, srcIDs, mirIDs},
		{"mirrors", mir, mirIDs, srcIDs},
	} {
		for _, id := range tt.own {
			if _, ok := tt.m.Lookup(ctx, id); !ok {
				t.Errorf("%s: lookup of its own %s failed", tt.name, id)
			}
		}
		for _, id := range tt.not {
			if s, ok := tt.m.Lookup(ctx, id); ok {
				t.Errorf("%s: lookup of the other's %s found %+v", tt.name, id, s)
			}
			if err := tt.m.Renew(ctx, id); !errors.Is(err, engine.ErrNotFound) {
				t.Errorf("%s: renew of the other's %s: %v, want ErrNotFound", tt.name, id, err)
			}
			if err := tt.m.Recreate(ctx, id); !errors.Is(err, engine.ErrNotFound) {
				t.Errorf("%s: recreate of the other's %s: %v, want ErrNotFound", tt.name, id, err)
			}
		}
	}
	check("cross lookups")

	// 27 days on: each renews its own.
	c.now = c.now.Add(27 * 24 * time.Hour)
	must(t, src.Ensure(ctx))
	if got, want := sg.renews, 3; got != want {
		t.Errorf("source renewed %d, want %d", got, want)
	}
	if got, want := tg.renews, 0; got != want {
		t.Errorf("the source's Ensure renewed %d mirrors subscriptions, want %d", got, want)
	}
	must(t, mir.Ensure(ctx))
	if got, want := tg.renews, 4; got != want {
		t.Errorf("mirrors renewed %d, want %d", got, want)
	}
	check("renewed")

	// No mirrors left: the mirrors manager deletes its own only.
	l.ids = nil
	must(t, mir.Ensure(ctx))
	mirIDs = []string{}
	check("no mirrors")
}

// TestManagerOwnRecords: a manager loads the records of its kind only: a
// mirrors manager those with Mirrors, on its tenant or naming none; a
// source manager those without.
func TestManagerOwnRecords(t *testing.T) {
	ctx := context.Background()
	store := memstore.New()
	c := &clock{time.Date(2026, 11, 28, 0, 0, 0, 0, time.UTC)}
	records := []engine.Subscription{
		{ID: "source", Resource: "/groups/a", TenantID: "tenant"},
		{ID: "source-untenanted", Resource: "/users"},
		{ID: "source-elsewhere", Resource: "/groups/a", TenantID: "other"},
		{ID: "mirrors", Resource: "/groups/b", TenantID: "target", Mirrors: true},
		{ID: "mirrors-untenanted", Resource: "/groups/c", Mirrors: true},
		{ID: "mirrors-elsewhere", Resource: "/groups/b", TenantID: "other", Mirrors: true},
		{ID: "mirrors-on-source", Resource: "/groups/b", TenantID: "tenant", Mirrors: true},
	}
	for _, s := range records {
		data, err := json.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := store.Put(ctx, engine.RecordMeta, "subscription:"+s.ID, 0, data); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name string
		m    *subscribe.Manager
		want []string
	}{
		{"source", newManager(t, &fakeGraph{subs: map[string]engine.Subscription{}}, store, c, 1), []string{"source", "source-untenanted"}},
		{"mirrors", newMirrorsManager(t, newTargetGraph(), store, c, &mirrorList{}), []string{"mirrors", "mirrors-untenanted"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got, want := ids(tt.m.List()), tt.want; !slices.Equal(got, want) {
				t.Fatalf("knows %v, want %v", got, want)
			}
		})
	}
	all, err := subscribe.Stored(ctx, store)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := len(all), len(records); got != want {
		t.Fatalf("stored %d, want %d", got, want)
	}
}

// TestMirrorsOffSwitch: the off switch is one for both managers. Either's
// Unsubscribe records it and deletes its own subscriptions only; the
// other, loading the state, deletes its own at its Ensure and creates
// none; either's Subscribe turns both on, and the other's Ensure makes its
// own again.
func TestMirrorsOffSwitch(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		off, on string // the manager that unsubscribes, that subscribes
	}{
		{"source", "mirrors"},
		{"source", "source"},
		{"mirrors", "source"},
		{"mirrors", "mirrors"},
	}
	for _, tt := range tests {
		t.Run(tt.off+" off, "+tt.on+" on", func(t *testing.T) {
			store := memstore.New()
			c := &clock{time.Date(2026, 11, 28, 0, 0, 0, 0, time.UTC)}
			sg := &fakeGraph{subs: map[string]engine.Subscription{}}
			tg := newTargetGraph()
			src := newManager(t, sg, store, c, 2)
			mir := newMirrorsManager(t, tg, store, c, &mirrorList{ids: mirrorIDs(3)})
			must(t, src.Ensure(ctx))
			must(t, mir.Ensure(ctx))
			type side struct {
				m     *subscribe.Manager
				graph map[string]engine.Subscription
				n     int // its subscriptions when on
			}
			sides := map[string]side{"source": {src, sg.subs, 3}, "mirrors": {mir, tg.subs, 4}}
			other := func(name string) side {
				if name == "source" {
					return sides["mirrors"]
				}
				return sides["source"]
			}
			creates := func() int { return sg.creates + tg.creates }

			off, rest := sides[tt.off], other(tt.off)
			n, err := off.m.Unsubscribe(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if got, want := n, off.n; got != want {
				t.Errorf("unsubscribe deleted %d, want %d", got, want)
			}
			if got, want := len(off.graph), 0; got != want {
				t.Errorf("%d left in the unsubscribed graph, want %d", got, want)
			}
			if got, want := len(rest.graph), rest.n; got != want {
				t.Errorf("the other manager's subscriptions: %d in graph, want %d untouched", got, want)
			}
			if got, _ := subscribe.Off(ctx, store); !got {
				t.Error("the state does not say off")
			}
			// The other manager, loading the state, deletes its own and
			// makes none.
			must(t, rest.m.Load(ctx))
			if !rest.m.Off() {
				t.Error("the other manager is not off after loading the state")
			}
			before := creates()
			must(t, rest.m.Ensure(ctx))
			if got, want := len(rest.graph), 0; got != want {
				t.Errorf("after the other's Ensure while off: %d in graph, want %d", got, want)
			}
			if got, want := len(rest.m.List()), 0; got != want {
				t.Errorf("after the other's Ensure while off: %d known, want %d", got, want)
			}
			// Nobody makes any while off, a freshly loaded mirrors manager
			// neither.
			must(t, src.Ensure(ctx))
			must(t, mir.Ensure(ctx))
			must(t, newMirrorsManager(t, tg, store, c, &mirrorList{ids: mirrorIDs(3)}).Ensure(ctx))
			if got := creates() - before; got != 0 {
				t.Errorf("%d created while off, want 0", got)
			}
			if subs, _ := subscribe.Stored(ctx, store); len(subs) != 0 {
				t.Errorf("%d subscription records while off, want 0", len(subs))
			}

			on, rest := sides[tt.on], other(tt.on)
			must(t, on.m.Subscribe(ctx))
			if got, want := len(on.graph), on.n; got != want {
				t.Errorf("subscribe: %d in graph, want %d", got, want)
			}
			if got, _ := subscribe.Off(ctx, store); got {
				t.Error("the state still says off after Subscribe")
			}
			must(t, rest.m.Load(ctx))
			if rest.m.Off() {
				t.Error("the other manager is still off after loading the state")
			}
			must(t, rest.m.Ensure(ctx))
			if got, want := len(rest.graph), rest.n; got != want {
				t.Errorf("the other's Ensure after Subscribe: %d in graph, want %d", got, want)
			}
			if subs, _ := subscribe.Stored(ctx, store); len(subs) != 7 {
				t.Errorf("%d subscription records after Subscribe, want 7", len(subs))
			}
		})
	}
}

// TestMirrorsListError: when the mirrors cannot be listed, Ensure says so
// and changes nothing: no create, renewal or delete.
func TestMirrorsListError(t *testing.T) {
	ctx := context.Background()
	failure := errors.New("graph: 503")
	tests := []struct {
		name   string
		before []string // mirrors subscribed before the failure
	}{
		{"first ensure", nil},
		{"subscribed, renewal due", mirrorIDs(3)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := newTargetGraph()
			c := &clock{time.Date(2026, 11, 28, 0, 0, 0, 0, time.UTC)}
			l := &mirrorList{ids: tt.before}
			m := newMirrorsManager(t, g, memstore.New(), c, l)
			must(t, m.Ensure(ctx))
			known := ids(m.List())
			creates, renews, deletes := g.creates, g.renews, g.deletes
			c.now = c.now.Add(27 * 24 * time.Hour) // renewals due
			l.err = failure
			err := m.Ensure(ctx)
			if err == nil || !strings.Contains(err.Error(), "list the mirrors") || !errors.Is(err, failure) {
				t.Fatalf("Ensure: %v, want list the mirrors: %v", err, failure)
			}
			if got := [3]int{g.creates - creates, g.renews - renews, g.deletes - deletes}; got != [3]int{} {
				t.Errorf("creates, renews, deletes %v, want none", got)
			}
			if got, want := ids(m.List()), known; !slices.Equal(got, want) {
				t.Errorf("knows %v, want %v", got, want)
			}
			if got, want := len(g.subs), len(wantedOf(tt.before)); got != want {
				t.Errorf("%d in graph, want %d", got, want)
			}
		})
	}
}

// rejectingGraph fails every create as Graph does when it cannot validate
// the notification URL.
type rejectingGraph struct{ *fakeGraph }

func (rejectingGraph) Create(context.Context, engine.Subscription) (engine.Subscription, error) {
	return engine.Subscription{}, errors.New("Subscription validation request failed. Notification endpoint must respond with 200 OK to validation request.")
}

// TestMirrorsValidationHint: a mirrors subscription Graph cannot validate
// fails with the same hint as a source one.
func TestMirrorsValidationHint(t *testing.T) {
	id := mirrorIDs(1)[0]
	m := newMirrorsManager(t, rejectingGraph{&fakeGraph{subs: map[string]engine.Subscription{}}}, memstore.New(), &clock{time.Date(2026, 11, 28, 0, 0, 0, 0, time.UTC)}, &mirrorList{ids: []string{id}})
	err := m.Ensure(context.Background())
	if err == nil {
		t.Fatal("Ensure succeeded, want the validation failure")
	}
	for _, want := range []string{"subscribe to /groups/" + id, "server.public_url (https://hooks.example.com/x)", "xtsync check"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
	if got, want := len(m.List()), 0; got != want {
		t.Errorf("%d known after a failed create, want %d", got, want)
	}
}

// forgetfulGraph answers a create without the Mirrors mark, as an adapter
// building the answer from Graph's JSON would.
type forgetfulGraph struct{ *fakeGraph }

func (g forgetfulGraph) Create(ctx context.Context, s engine.Subscription) (engine.Subscription, error) {
	s, err := g.fakeGraph.Create(ctx, s)
	s.Mirrors = false
	return s, err
}

// TestMirrorsMarkKept: a mirrors subscription is recorded as one whatever
// the API answers, so that the mirrors manager keeps it (a second Ensure
// makes no other) and the source manager never sees it.
func TestMirrorsMarkKept(t *testing.T) {
	ctx := context.Background()
	store := memstore.New()
	c := &clock{time.Date(2026, 11, 28, 0, 0, 0, 0, time.UTC)}
	g := forgetfulGraph{&fakeGraph{subs: map[string]engine.Subscription{}}}
	m := newMirrorsManagerOn(t, "tenant", g, store, c, &mirrorList{ids: mirrorIDs(2)})
	must(t, m.Ensure(ctx))
	must(t, newMirrorsManagerOn(t, "tenant", g, store, c, &mirrorList{ids: mirrorIDs(2)}).Ensure(ctx))
	if got, want := g.creates, 3; got != want { // 2 mirrors and /users
		t.Errorf("%d created, want %d", got, want)
	}
	if got := newManager(t, &fakeGraph{subs: map[string]engine.Subscription{}}, store, c, 1).List(); len(got) != 0 {
		t.Errorf("the source manager knows %v", resources(got))
	}
	all, err := subscribe.Stored(ctx, store)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range all {
		if !s.Mirrors {
			t.Errorf("%s recorded without Mirrors", s.Resource)
		}
	}
}

// wantedOf are the subscriptions a mirrors manager makes for ids: none for
// none, else each and /users.
func wantedOf(ids []string) []string {
	if len(ids) == 0 {
		return nil
	}
	return mirrorResources(ids)
}
