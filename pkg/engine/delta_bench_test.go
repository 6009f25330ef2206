package engine_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"text/template"
	"time"

	"github.com/xtsync/xtsync/pkg/boltstore"
	"github.com/xtsync/xtsync/pkg/engine"
	"github.com/xtsync/xtsync/pkg/memstore"
)

// deltaSource is a source whose group delta rounds report what changes
// holds (then nothing), for delta passes without Graph.
type deltaSource struct {
	engine.Source // nil: a pass that reads anything else panics
	mu            sync.Mutex
	changes       []engine.GroupChange
	round         int
}

func (s *deltaSource) GroupDelta(_ context.Context, _ []string, _ string) (engine.DeltaResult, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.round++
	ch := s.changes
	s.changes = nil
	return engine.DeltaResult{Changes: ch, Link: fmt.Sprintf("https://graph/groups/delta?$deltatoken=%d", s.round)}, nil
}

// removingTarget accepts member removals.
type removingTarget struct {
	engine.Target // nil: a pass that does anything else panics
	removed       int
}

func (t *removingTarget) RemoveMembers(_ context.Context, _ string, ids []string) (map[string]error, error) {
	t.removed += len(ids)
	return nil, nil
}

// countingStore counts the reads of the mappings.
type countingStore struct {
	engine.Store
	mu          sync.Mutex
	gets, lists map[engine.RecordKind]int
}

func newCountingStore(s engine.Store) *countingStore {
	return &countingStore{Store: s, gets: map[engine.RecordKind]int{}, lists: map[engine.RecordKind]int{}}
}

func (s *countingStore) Get(ctx context.Context, kind engine.RecordKind, key string) (engine.Record, error) {
	s.mu.Lock()
	s.gets[kind]++
	s.mu.Unlock()
	return s.Store.Get(ctx, kind, key)
}

func (s *countingStore) List(ctx context.Context, kind engine.RecordKind) ([]engine.Record, error) {
	s.mu.Lock()
	s.lists[kind]++
	s.mu.Unlock()
	return s.Store.List(ctx, kind)
}

func (s *countingStore) reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	clear(s.gets)
	clear(s.lists)
}

// deltaWorld stores a synced shard of 50 groups and users mapped users,
// each a member of two of the groups, and the shard's delta link.
func deltaWorld(tb testing.TB, s engine.Store, users int) (scope []string, shard string) {
	tb.Helper()
	ctx := context.Background()
	put := func(kind engine.RecordKind, key string, v any) {
		data, err := json.Marshal(v)
		if err != nil {
			tb.Fatal(err)
		}
		if _, err := s.Put(ctx, kind, key, 0, data); err != nil {
			tb.Fatal(err)
		}
	}
	for g := range 50 {
		gid := fmt.Sprintf("00000000-0000-4000-8000-%012d", g)
		scope = append(scope, gid)
		put(engine.RecordGroup, gid, engine.GroupMapping{SourceID: gid, TargetID: "t-" + gid, SourceName: "Group " + gid, Members: 2 * users / 50})
	}
	for u := range users {
		uid := fmt.Sprintf("su%06d", u)
		groups := []string{scope[u%50], scope[(u+1)%50]}
		slices.Sort(groups)
		put(engine.RecordUser, uid, engine.UserMapping{SourceID: uid, TargetID: fmt.Sprintf("tu%06d", u), Mail: uid + "@contoso.com", Provenance: engine.Created, Groups: groups})
	}
	shard = engine.NewSharding(scope).Keys()[0]
	put(engine.RecordDelta, shard, engine.DeltaState{Key: shard, IDs: scope, Link: "https://graph/groups/delta?$deltatoken=0"})
	return scope, shard
}

func deltaEngine(tb testing.TB, s engine.Store, scope []string, src engine.Source, dst engine.Target) *engine.Engine {
	tb.Helper()
	opts := engine.Options{
		SourceTenant: "src", Scope: scope, UserType: "Member", NestedGroups: engine.NestedSkip, ProvisionMembers: true,
		DeprovisionUsers: engine.DeprovisionDelete, UnscopedGroups: engine.UnscopedDelete, DeletionThreshold: 500,
		NameTemplate: template.Must(template.New("n").Parse("{{.DisplayName}}")),
	}
	e, err := engine.New(src, dst, s, opts, slog.New(slog.NewTextHandler(io.Discard, nil)), engine.SystemClock{})
	if err != nil {
		tb.Fatal(err)
	}
	return e
}

// stores are the embedded stores a delta pass runs on: serve's bbolt
// file, and memory.
func stores(tb testing.TB) map[string]func() engine.Store {
	return map[string]func() engine.Store{
		"bolt": func() engine.Store {
			s, err := boltstore.Open(filepath.Join(tb.TempDir(), "state.db"), time.Second)
			if err != nil {
				tb.Fatal(err)
			}
			tb.Cleanup(func() { s.Close() })
			return s
		},
		"mem": func() engine.Store { return memstore.New() },
	}
}

// BenchmarkDeltaPassNoChange is one shard's delta pass whose round reports
// no change, with 1k and with 20k mapped users: what serve does per
// notification that changes nothing it syncs (the delta round itself is
// a stub here; only the engine and the store are measured).
func BenchmarkDeltaPassNoChange(b *testing.B) {
	for _, kind := range []string{"bolt", "mem"} {
		for _, users := range []int{1000, 20000} {
			b.Run(fmt.Sprintf("%s/users=%d", kind, users), func(b *testing.B) {
				s := stores(b)[kind]()
				scope, shard := deltaWorld(b, s, users)
				e := deltaEngine(b, s, scope, &deltaSource{}, &removingTarget{})
				ctx := context.Background()
				b.ResetTimer()
				for range b.N {
					if _, err := e.DeltaShard(ctx, shard, engine.RunOptions{}); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// A delta pass reads the mappings its changes name, by key, and no other:
// none for a round without changes, the group's and the user's for one
// removal. (A mapped group deleted in the source is the exception: the
// users that list it are found by listing the user mappings.)
func TestDeltaPassReadsWhatChanged(t *testing.T) {
	for name, open := range stores(t) {
		t.Run(name, func(t *testing.T) {
			s := newCountingStore(open())
			scope, shard := deltaWorld(t, s, 500)
			src, dst := &deltaSource{}, &removingTarget{}
			e := deltaEngine(t, s, scope, src, dst)
			ctx := context.Background()

			s.reset()
			if _, err := e.DeltaShard(ctx, shard, engine.RunOptions{}); err != nil {
				t.Fatal(err)
			}
			if n := s.gets[engine.RecordUser] + s.gets[engine.RecordGroup] + s.lists[engine.RecordUser] + s.lists[engine.RecordGroup]; n != 0 {
				t.Errorf("no-change pass read mappings: gets %v, lists %v", s.gets, s.lists)
			}

			// su000007 is a member of groups 7 and 8; it leaves group 7.
			src.changes = []engine.GroupChange{{ID: scope[7], Members: []engine.MemberChange{{Member: engine.Member{ID: "su000007", Type: engine.TypeUser}, Removed: true}}}}
			s.reset()
			rep, err := e.DeltaShard(ctx, shard, engine.RunOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if rep.Summary.MembersRemoved != 1 || dst.removed != 1 {
				t.Fatalf("removal not applied: %+v", rep.Summary)
			}
			if s.gets[engine.RecordUser] != 1 || s.gets[engine.RecordGroup] != 1 || s.lists[engine.RecordUser]+s.lists[engine.RecordGroup] != 0 {
				t.Errorf("one removal: gets %v, lists %v; want one user and one group read by key", s.gets, s.lists)
			}
			rec, err := s.Get(ctx, engine.RecordUser, "su000007")
			if err != nil {
				t.Fatal(err)
			}
			var um engine.UserMapping
			if err := json.Unmarshal(rec.Data, &um); err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(um.Groups, []string{scope[8]}) {
				t.Errorf("groups of the user after the removal: %v, want [%s]", um.Groups, scope[8])
			}
		})
	}
}
