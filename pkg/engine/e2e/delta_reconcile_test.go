package e2e_test

import (
	"context"
	"errors"
	"maps"
	"slices"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/xtsync/xtsync/pkg/engine"
	"github.com/xtsync/xtsync/pkg/msgraph"
)

// A full reconcile stores each shard's delta link (taken with
// $deltatoken=latest before it reads anything), so the first change after
// it is applied by a delta pass, not by a full sync of the shard.
func TestReconcileStoresShardDeltaLinks(t *testing.T) {
	h := newHarness(t, allSample, nil)
	ctx := context.Background()
	h.resetCounts()
	h.reconcile(engine.RunOptions{})
	shards := engine.NewSharding(h.opts.Scope).Keys()
	if got := h.em.Stats(src).Routes["GET /groups/delta"]; got != len(shards) {
		t.Errorf("reconcile: %d group delta requests, want one per shard (%d)", got, len(shards))
	}
	for _, k := range shards {
		if _, err := h.store.Get(ctx, engine.RecordDelta, k); err != nil {
			t.Fatalf("delta link of shard %s after the reconcile: %v", k, err)
		}
	}
	// A second reconcile keeps the stored links and takes none.
	h.resetCounts()
	h.reconcile(engine.RunOptions{})
	if got := h.em.Stats(src).Routes["GET /groups/delta"]; got != 0 {
		t.Errorf("second reconcile: %d group delta requests, want 0", got)
	}

	// One removal in a scoped group: the delta round and the removal, no
	// group or member read of a full sync.
	eng := groupID(t, h.em, "engineering")
	adele := sourceUser(t, h.em, "adelev")
	must(t, h.em.RemoveMember(src, eng, adele.ID))
	h.resetCounts()
	rep, err := h.eng.DeltaSync(ctx, engine.RunOptions{})
	if err != nil {
		t.Fatal(err)
	}
	s, d := h.em.Stats(src), h.em.Stats(dst)
	t.Logf("delta pass after the reconcile: source %v, target %v", s.Routes, d.Routes)
	if n := s.Ops() + d.Ops(); n > 3 || rep.Summary.MembersRemoved != 1 {
		t.Errorf("one removal after a reconcile cost %d operations (want ≤ 3); summary %+v", n, rep.Summary)
	}
	for _, r := range slices.Sorted(maps.Keys(s.Routes)) {
		if r != "GET /groups/delta" {
			t.Errorf("delta pass read %s %d times: a full sync of the shard", r, s.Routes[r])
		}
	}
	h.assertMirrored(false)

	// A dry-run reconcile takes no link.
	h2 := newHarness(t, allSample, nil)
	h2.resetCounts()
	h2.reconcile(engine.RunOptions{DryRun: true})
	if recs, _ := h2.store.List(ctx, engine.RecordDelta); len(recs) != 0 || h2.em.Stats(src).Routes["GET /groups/delta"] != 0 {
		t.Errorf("dry run: %d delta records, %d delta requests", len(recs), h2.em.Stats(src).Routes["GET /groups/delta"])
	}
}

// A shard whose sync fails gets no link from the reconcile (its first
// pass syncs it fully); the other shards do.
func TestReconcileKeepsNoLinkOfAFailedShard(t *testing.T) {
	seed, nicks := scaleSeed(60, 3, 40) // two shards: 50 and 10 groups
	h := newHarnessSeed(t, seed, nicks, nil)
	ctx := context.Background()
	sh := engine.NewSharding(h.opts.Scope)
	keys := sh.Keys()
	if len(keys) != 2 {
		t.Fatalf("%d shards, want 2", len(keys))
	}
	// The members of one group of the second shard cannot be read.
	ids, _ := sh.Shard(keys[1])
	src := &failingSource{Source: msgraph.NewSource(h.srcC, msgraph.SchemaOf(h.opts)), bad: ids[0]}
	eng, err := engine.New(src, msgraph.NewTarget(h.dstC, msgraph.SchemaOf(h.opts)), h.store, h.opts, testLogger(t), engine.SystemClock{})
	must(t, err)
	rep, _ := eng.Reconcile(ctx, engine.RunOptions{})
	if !rep.Failed() {
		t.Fatal("the reconcile did not fail for the broken group")
	}
	if _, err := h.store.Get(ctx, engine.RecordDelta, keys[0]); err != nil {
		t.Errorf("the healthy shard has no link: %v", err)
	}
	if _, err := h.store.Get(ctx, engine.RecordDelta, keys[1]); err == nil {
		t.Error("the shard whose sync failed got a link")
	}
	// Mended, the shard's first delta pass syncs it fully and takes a link.
	src.bad = ""
	h.resetCounts()
	if _, err := eng.DeltaShard(ctx, keys[1], engine.RunOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := h.store.Get(ctx, engine.RecordDelta, keys[1]); err != nil {
		t.Errorf("after its first pass the shard has no link: %v", err)
	}
	h.assertMirrored(false)
}

// failingSource fails the member reads of one group.
type failingSource struct {
	engine.Source
	bad string
}

func (s *failingSource) Members(ctx context.Context, groupID string, transitive bool) ([]engine.Member, error) {
	if groupID == s.bad {
		return nil, errors.New("members unavailable")
	}
	return s.Source.Members(ctx, groupID, transitive)
}

// A change that comes while a full reconcile runs (serve's start-up
// reconcile) is applied by a delta pass once the reconcile ends, from the
// link the reconcile took before its reads: the pass waits for the
// reconcile instead of syncing the shard fully a second time.
func TestDeltaPassDuringReconcileWaitsForItsLink(t *testing.T) {
	h := newHarness(t, allSample, nil)
	ctx := context.Background()
	keys := engine.NewSharding(h.opts.Scope).Keys()
	if len(keys) != 1 {
		t.Fatalf("%d shards, want 1", len(keys))
	}
	hold := &holdSource{Source: msgraph.NewSource(h.srcC, msgraph.SchemaOf(h.opts)), entered: make(chan struct{}), release: make(chan struct{})}
	store := &missStore{Store: h.store, missed: make(chan struct{}, 1)}
	eng, err := engine.New(hold, msgraph.NewTarget(h.dstC, msgraph.SchemaOf(h.opts)), store, h.opts, testLogger(t), engine.SystemClock{})
	must(t, err)

	reconciled := make(chan error, 1)
	go func() {
		_, err := eng.Reconcile(ctx, engine.RunOptions{})
		reconciled <- err
	}()
	<-hold.entered // the reconcile holds its groups and has taken the link
	eng1 := groupID(t, h.em, "engineering")
	adele := sourceUser(t, h.em, "adelev")
	must(t, h.em.RemoveMember(src, eng1, adele.ID))
	store.arm()
	passed := make(chan error, 1)
	go func() {
		_, err := eng.DeltaShard(ctx, keys[0], engine.RunOptions{})
		passed <- err
	}()
	<-store.missed // the pass found no link stored yet
	close(hold.release)
	must(t, <-reconciled)
	must(t, <-passed)
	// A full sync by the pass would read every group's members again: the
	// reads are those of a reconcile alone.
	alone := newHarness(t, allSample, nil)
	counted := &holdSource{Source: msgraph.NewSource(alone.srcC, msgraph.SchemaOf(alone.opts)), entered: make(chan struct{}), release: make(chan struct{})}
	close(counted.release)
	aloneEng, err := engine.New(counted, msgraph.NewTarget(alone.dstC, msgraph.SchemaOf(alone.opts)), alone.store, alone.opts, testLogger(t), engine.SystemClock{})
	must(t, err)
	_, err = aloneEng.Reconcile(ctx, engine.RunOptions{})
	must(t, err)
	if got, want := hold.members.Load(), counted.members.Load(); got != want {
		t.Errorf("member reads: got %d, want %d (a reconcile's alone): the delta pass synced the shard fully", got, want)
	}
	h.assertMirrored(false)
}

// holdSource holds the first member read until release, after closing
// entered; it counts the member reads.
type holdSource struct {
	engine.Source
	once             sync.Once
	entered, release chan struct{}
	members          atomic.Int32
}

func (s *holdSource) Members(ctx context.Context, groupID string, transitive bool) ([]engine.Member, error) {
	first := false
	s.once.Do(func() { first = true })
	s.members.Add(1)
	if first {
		close(s.entered)
		<-s.release
	}
	return s.Source.Members(ctx, groupID, transitive)
}

// missStore signals, once armed, the first delta link it does not find.
type missStore struct {
	engine.Store
	armed  atomic.Bool
	missed chan struct{}
}

func (s *missStore) arm() { s.armed.Store(true) }

func (s *missStore) Get(ctx context.Context, kind engine.RecordKind, key string) (engine.Record, error) {
	rec, err := s.Store.Get(ctx, kind, key)
	if kind == engine.RecordDelta && errors.Is(err, engine.ErrNotFound) && s.armed.CompareAndSwap(true, false) {
		s.missed <- struct{}{}
	}
	return rec, err
}
