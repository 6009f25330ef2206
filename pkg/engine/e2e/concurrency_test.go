package e2e_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/xtsync/xtsync/pkg/engine"
	"github.com/xtsync/xtsync/pkg/msgraph"
)

// inflight wraps the real target adapter and records how many of its
// writes are in flight at once. Its AddMembers waits (10 s at most) until
// another AddMembers is in flight too: a sequential applier never gets
// there, and the run fails.
type inflight struct {
	engine.Target
	mu       sync.Mutex
	now, max int
	adds     int
	met      chan struct{}
	once     sync.Once
}

func (f *inflight) enter() func() {
	f.mu.Lock()
	f.now++
	f.max = max(f.max, f.now)
	f.mu.Unlock()
	return func() {
		f.mu.Lock()
		f.now--
		f.mu.Unlock()
	}
}

func (f *inflight) AddMembers(ctx context.Context, group string, ids []string) (map[string]error, error) {
	defer f.enter()()
	f.mu.Lock()
	f.adds++
	if f.adds == 2 {
		f.once.Do(func() { close(f.met) })
	}
	f.mu.Unlock()
	select {
	case <-f.met:
	case <-time.After(10 * time.Second):
		return nil, context.DeadlineExceeded
	}
	return f.Target.AddMembers(ctx, group, ids)
}

func (f *inflight) CreateGroup(ctx context.Context, spec engine.GroupSpec) (engine.Group, error) {
	defer f.enter()()
	return f.Target.CreateGroup(ctx, spec)
}

func (f *inflight) Invite(ctx context.Context, inv engine.Invitation) (engine.User, error) {
	defer f.enter()()
	return f.Target.Invite(ctx, inv)
}

func (f *inflight) UpdateUser(ctx context.Context, id string, u engine.UserUpdate) error {
	defer f.enter()()
	return f.Target.UpdateUser(ctx, id, u)
}

// TestApplyRunsGroupsConcurrently checks that an initial sync adds the
// members of different groups concurrently, never more writes at once than
// Options.WriteConcurrency, and converges as a sequential one does.
func TestApplyRunsGroupsConcurrently(t *testing.T) {
	seed, nicks := scaleSeed(6, 40, 120)
	h := newHarnessSeed(t, seed, nicks, func(o *engine.Options) { o.WriteConcurrency = 3 })
	dst := &inflight{Target: msgraph.NewTarget(h.dstC, msgraph.SchemaOf(h.opts)), met: make(chan struct{})}
	eng, err := engine.New(msgraph.NewSource(h.srcC, msgraph.SchemaOf(h.opts)), dst, h.store, h.opts, testLogger(t), engine.SystemClock{})
	if err != nil {
		t.Fatal(err)
	}
	rep, err := eng.Reconcile(t.Context(), engine.RunOptions{})
	if err != nil || rep.Failed() {
		t.Fatalf("initial sync: %v, %+v", err, rep.Summary)
	}
	if dst.max < 2 || dst.max > 3 {
		t.Errorf("at most %d writes in flight, want 2 or 3 (WriteConcurrency 3)", dst.max)
	}
	if rep.Summary.GroupsCreated != 6 || rep.Summary.MembersAdded != 6*40 {
		t.Errorf("summary %+v, want 6 groups and 240 members", rep.Summary)
	}
	for i := 1; i < len(rep.Results); i++ {
		if a, b := rep.Results[i-1].Action, rep.Results[i].Action; a.Kind == b.Kind && a.Group > b.Group {
			t.Fatalf("results out of the plan's order: %s %s before %s", a.Kind, a.Group, b.Group)
		}
	}
	h.rebuild()
	if again := h.reconcile(engine.RunOptions{}); !again.Plan.Empty() {
		t.Errorf("not converged: %d actions planned again", len(again.Plan.Actions))
	}
}
