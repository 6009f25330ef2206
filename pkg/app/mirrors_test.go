package app_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/xtsync/xtsync/pkg/app"
	"github.com/xtsync/xtsync/pkg/engine"
	"github.com/xtsync/xtsync/pkg/memstore"
)

// Mirror fixture ids: source groups and the target groups mirroring them.
const (
	srcA    = "02bd9fd6-8f93-4758-87c3-1fb73740a315"
	srcB    = "6a5d2c1b-0e9f-4d8c-b7a6-958473625140"
	srcP    = "c0ffee00-1111-4222-8333-444455556666" // its mirror's creation is pending
	mirA    = "1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d"
	mirB    = "f0e1d2c3-b4a5-4697-8877-665544332211"
	notMirr = "beefbeef-2222-4333-8444-555566667777" // a target group that is no mirror
)

// countingStore is a memstore that counts the listings of group mappings
// and fails them when fail is set.
type countingStore struct {
	*memstore.Store
	mu    sync.Mutex
	lists int
	fail  bool
}

func (s *countingStore) List(ctx context.Context, kind engine.RecordKind) ([]engine.Record, error) {
	if kind == engine.RecordGroup {
		s.mu.Lock()
		s.lists++
		fail := s.fail
		s.mu.Unlock()
		if fail {
			return nil, errors.New("dynamodb: throttled")
		}
	}
	return s.Store.List(ctx, kind)
}

// groupLists is how many times the group mappings were listed.
func (s *countingStore) groupLists() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.lists
}

// setFail makes the group listings fail, or succeed again.
func (s *countingStore) setFail(fail bool) {
	s.mu.Lock()
	s.fail = fail
	s.mu.Unlock()
}

// putMapping stores a new group mapping.
func putMapping(t *testing.T, s engine.Store, m engine.GroupMapping) {
	t.Helper()
	data, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Put(t.Context(), engine.RecordGroup, m.SourceID, 0, data); err != nil {
		t.Fatal(err)
	}
}

// stepClock is a clock moved on by hand.
type stepClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *stepClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *stepClock) advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// TestStoredMirrors: a mirror is found by its target id, in any case, as
// its lowercase source id; a mapping whose mirror is still pending is not
// indexed; a miss reloads the mappings, but never twice within 5 s, so a
// mirror stored after a load is found once 5 s have passed since it; a hit
// never reloads; a failed reload keeps the last index and is reported by
// Err.
func TestStoredMirrors(t *testing.T) {
	store := &countingStore{Store: memstore.New()}
	putMapping(t, store, engine.GroupMapping{SourceID: srcA, TargetID: strings.ToUpper(mirA)})
	putMapping(t, store, engine.GroupMapping{SourceID: srcP, Pending: time.Date(2026, 3, 1, 11, 0, 0, 0, time.UTC)})
	clock := &stepClock{now: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
	m := app.NewStoredMirrors(store, clock)
	steps := []struct {
		name       string
		advance    time.Duration
		add        *engine.GroupMapping // stored before the step
		fail       bool                 // the store's listings fail from this step on
		target     string
		wantSource string // "": not found
		wantLists  int    // group listings so far
		wantErr    bool
	}{
		{name: "first use loads; a mirror is found, stored upper-case", target: mirA, wantSource: srcA, wantLists: 1},
		{name: "upper-case target id", target: strings.ToUpper(mirA), wantSource: srcA, wantLists: 1},
		{name: "an unknown target within 5 s of the load: no reload", advance: time.Second, target: notMirr, wantLists: 1},
		{name: "a pending mapping is not indexed (no target id)", target: "", wantLists: 1},
		{name: "nor is its source id a target", target: srcP, wantLists: 1},
		{name: "a source id is no target", target: srcA, wantLists: 1},
		{
			name: "a mirror stored since, 2 s after the load: not found yet", advance: time.Second,
			add:    &engine.GroupMapping{SourceID: srcB, TargetID: mirB},
			target: mirB, wantLists: 1,
		},
		{name: "still not at 4.9 s", advance: 2900 * time.Millisecond, target: mirB, wantLists: 1},
		{name: "found at 5 s: the miss reloads", advance: 100 * time.Millisecond, target: mirB, wantSource: srcB, wantLists: 2},
		{name: "an unknown target right after: no reload", target: notMirr, wantLists: 2},
		{name: "hits 10 s on: no reload", advance: 10 * time.Second, target: mirA, wantSource: srcA, wantLists: 2},
		{name: "an unknown target 10 s on reloads, still unknown", target: notMirr, wantLists: 3},
		{name: "a failed reload keeps the last index", advance: 5 * time.Second, fail: true, target: notMirr, wantLists: 4, wantErr: true},
		{name: "which still answers, without a reload within 5 s", fail: true, target: mirB, wantSource: srcB, wantLists: 4, wantErr: true},
		{name: "a good reload clears the error", advance: 5 * time.Second, target: notMirr, wantLists: 5},
	}
	for _, s := range steps {
		clock.advance(s.advance)
		if s.add != nil {
			putMapping(t, store, *s.add)
		}
		store.setFail(s.fail)
		got, ok := m.SourceOf(t.Context(), s.target)
		if got != s.wantSource || ok != (s.wantSource != "") {
			t.Fatalf("%s: SourceOf(%q) = %q, %t; want %q", s.name, s.target, got, ok, s.wantSource)
		}
		if n := store.groupLists(); n != s.wantLists {
			t.Fatalf("%s: %d group listings, want %d", s.name, n, s.wantLists)
		}
		if err := m.Err(); (err != nil) != s.wantErr {
			t.Fatalf("%s: Err() = %v, want error %t", s.name, err, s.wantErr)
		}
	}
}

// TestStoredMirrorsConcurrent: concurrent misses reload at most once per
// 5 s (run with -race).
func TestStoredMirrorsConcurrent(t *testing.T) {
	store := &countingStore{Store: memstore.New()}
	putMapping(t, store, engine.GroupMapping{SourceID: srcA, TargetID: mirA})
	m := app.NewStoredMirrors(store, &stepClock{now: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)})
	var wg sync.WaitGroup
	for range 16 {
		wg.Go(func() {
			for range 50 {
				if _, ok := m.SourceOf(t.Context(), notMirr); ok {
					t.Error("an unknown target was found")
				}
				if got, ok := m.SourceOf(t.Context(), mirA); !ok || got != srcA {
					t.Errorf("SourceOf(mirA) = %q, %t", got, ok)
				}
			}
		})
	}
	wg.Wait()
	if n := store.groupLists(); n != 1 {
		t.Errorf("%d group listings, want 1", n)
	}
}
