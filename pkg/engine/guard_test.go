package engine

import (
	"context"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"
)

// fakeStore is the smallest versioned Store, for the guard's tests (the
// real stores pass the contract suite in storetest).
type fakeStore struct {
	mu   sync.Mutex
	recs map[string]Record
}

func (s *fakeStore) Get(_ context.Context, kind RecordKind, key string) (Record, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.recs[string(kind)+"/"+key]
	if !ok {
		return Record{}, ErrNotFound
	}
	return r, nil
}

func (s *fakeStore) List(context.Context, RecordKind) ([]Record, error) { return nil, nil }

func (s *fakeStore) Put(_ context.Context, kind RecordKind, key string, version int64, data []byte) (int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := string(kind) + "/" + key
	if s.recs[k].Version != version {
		return 0, ErrConflict
	}
	s.recs[k] = Record{Key: key, Version: version + 1, Data: data}
	return version + 1, nil
}

func (s *fakeStore) Delete(context.Context, RecordKind, string, int64) error { return nil }
func (s *fakeStore) AppendAudit(context.Context, ...AuditEntry) error        { return nil }
func (s *fakeStore) Audit(context.Context, AuditQuery) ([]AuditEntry, error) { return nil, nil }

type fakeClock struct{ t time.Time }

func (c *fakeClock) Now() time.Time { return c.t }

func TestGuard(t *testing.T) {
	type step struct {
		after   time.Duration // clock advance before the step
		n       int
		approve bool
		hold    bool // hold(n) instead of admit (a fan-out plan)
		allow   int  // approve(n) instead of admit (an approved fan-out)
		want    bool
	}
	tests := []struct {
		name  string
		steps []step
	}{
		{"small passes add up to the threshold, then the guard holds", []step{
			{n: 2, want: true}, {n: 2, want: true}, {n: 1, want: true}, {n: 1, want: false},
		}},
		{"a halt is sticky: even one removal is held until approved", []step{
			{n: 6, want: false}, {n: 1, want: false}, {after: 2 * time.Hour, n: 1, want: false},
			{n: 6, approve: true, want: true}, {n: 1, want: false}, // the approval used the window
		}},
		{"inside the window the budget stays spent", []step{
			{n: 5, want: true}, {after: 30 * time.Minute, n: 1, want: false},
		}},
		{"window roll without a halt", []step{
			{n: 5, want: true}, {after: 61 * time.Minute, n: 5, want: true},
		}},
		{"a held fan-out blocks every piece; its approval lets exactly its pieces through", []step{
			{hold: true, n: 8}, {n: 1, want: false},
			{allow: 8}, {n: 4, want: true}, {n: 4, want: true}, {n: 1, want: false},
		}},
		{"nothing to delete is always admitted, even halted", []step{
			{n: 9, want: false}, {n: 0, want: true}, {n: 1, want: false},
		}},
		{"an approval with nothing left to remove still lifts the halt", []step{
			{n: 9, want: false}, {n: 0, approve: true, want: true}, {n: 1, want: true},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := &fakeClock{t: time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC)}
			store := &fakeStore{recs: map[string]Record{}}
			g := newGuard(store, clock, slog.New(slog.DiscardHandler), Options{DeletionThreshold: 5, DeletionWindow: time.Hour})
			ctx := context.Background()
			for i, s := range tt.steps {
				clock.t = clock.t.Add(s.after)
				switch {
				case s.hold:
					if err := g.hold(ctx, "fan", s.n, nil); err != nil {
						t.Fatal(err)
					}
					continue
				case s.allow > 0:
					if err := g.approve(ctx, "fan", s.allow); err != nil {
						t.Fatal(err)
					}
					continue
				}
				dry, err := g.wouldAdmit(ctx, s.n, s.approve)
				if err != nil {
					t.Fatal(err)
				}
				got, err := g.admit(ctx, "run", s.n, nil, s.approve)
				if err != nil {
					t.Fatal(err)
				}
				if got != s.want || dry != s.want {
					t.Errorf("step %d (n=%d): admitted %t (dry run said %t), want %t", i, s.n, got, dry, s.want)
				}
			}
		})
	}
}

// TestGuardNamesTheHeldGroups: a halt lists the source groups whose
// removals it holds, each once, sorted, adding those of later held runs.
func TestGuardNamesTheHeldGroups(t *testing.T) {
	clock := &fakeClock{t: time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC)}
	store := &fakeStore{recs: map[string]Record{}}
	g := newGuard(store, clock, slog.New(slog.DiscardHandler), Options{DeletionThreshold: 2, DeletionWindow: time.Hour})
	ctx := context.Background()
	if ok, err := g.admit(ctx, "r1", 1, []string{"b"}, false); err != nil || !ok {
		t.Fatalf("a removal under the threshold: admitted %t, %v", ok, err)
	}
	if ok, err := g.admit(ctx, "r2", 5, []string{"c", "a"}, false); err != nil || ok {
		t.Fatalf("a plan over the threshold: admitted %t, %v", ok, err)
	}
	if ok, err := g.admit(ctx, "r3", 1, []string{"c", "d"}, false); err != nil || ok {
		t.Fatalf("a removal while halted: admitted %t, %v", ok, err)
	}
	st, err := LoadGuard(ctx, store)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := st.Halt.Groups, []string{"a", "c", "d"}; !slices.Equal(got, want) {
		t.Errorf("held groups %v, want %v", got, want)
	}
	if err := g.hold(ctx, "fan", 3, []string{"e"}); err != nil {
		t.Fatal(err)
	}
	st, _ = LoadGuard(ctx, store)
	if got, want := st.Halt.Groups, []string{"a", "c", "d", "e"}; !slices.Equal(got, want) {
		t.Errorf("after a held fan-out: held groups %v, want %v", got, want)
	}
}
