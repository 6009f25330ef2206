package service_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"testing"

	"github.com/xtsync/xtsync/internal/testlog"
	"github.com/xtsync/xtsync/pkg/engine"
	"github.com/xtsync/xtsync/pkg/service"
	"github.com/xtsync/xtsync/pkg/task"
)

// fakes of the service's own ports (not of any AWS or Graph API).
type queue struct {
	mu   sync.Mutex
	keys []string
	full bool
}

func (q *queue) Enqueue(_ context.Context, key string) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.full {
		return errors.New("full")
	}
	q.keys = append(q.keys, key)
	return nil
}

type syncer struct {
	calls []string
	err   error
	rep   *engine.Report
}

func (s *syncer) ShardOf(id string) string {
	if id == "out" {
		return ""
	}
	return "s-" + id[:1]
}
func (s *syncer) record(what string) (*engine.Report, error) {
	s.calls = append(s.calls, what)
	if s.rep == nil {
		s.rep = &engine.Report{Plan: &engine.Plan{}}
	}
	return s.rep, s.err
}
func (s *syncer) DeltaShard(_ context.Context, k string, _ engine.RunOptions) (*engine.Report, error) {
	return s.record("delta " + k)
}
func (s *syncer) SyncShard(_ context.Context, k string, _ engine.RunOptions) (*engine.Report, error) {
	return s.record("sync " + k)
}
func (s *syncer) SyncUnscoped(context.Context, engine.RunOptions) (*engine.Report, error) {
	return s.record("unscoped")
}
func (s *syncer) Reconcile(_ context.Context, ro engine.RunOptions) (*engine.Report, error) {
	return s.record(fmt.Sprintf("reconcile dry=%t allow=%t", ro.DryRun, ro.AllowDeletions))
}
func (s *syncer) UserDelta(context.Context, engine.RunOptions) (*engine.Report, error) {
	return s.record("users")
}
func (s *syncer) HoldDeletions(_ context.Context, _ string, n int) error {
	s.calls = append(s.calls, fmt.Sprintf("hold %d", n))
	return nil
}
func (s *syncer) ApproveDeletions(_ context.Context, _ string, n int) error {
	s.calls = append(s.calls, fmt.Sprintf("approve %d", n))
	return nil
}

type subs struct{ calls []string }

func (s *subs) Ensure(context.Context) error { s.calls = append(s.calls, "ensure"); return nil }
func (s *subs) Renew(_ context.Context, id string) error {
	s.calls = append(s.calls, "renew "+id)
	return nil
}
func (s *subs) Recreate(_ context.Context, id string) error {
	s.calls = append(s.calls, "recreate "+id)
	return nil
}

func TestRouting(t *testing.T) {
	q, sy, su := &queue{}, &syncer{}, &subs{}
	svc := service.New(sy, su, q, testlog.New(t, slog.LevelDebug), engine.SystemClock{})
	ctx := context.Background()
	if err := svc.Changed(ctx, []string{"a1", "a2", "b1", "out"}); err != nil {
		t.Fatal(err)
	}
	for _, ev := range []string{"reauthorizationRequired", "subscriptionRemoved", "missed"} {
		if err := svc.Lifecycle(ctx, "sub1", ev); err != nil {
			t.Fatal(err)
		}
	}
	if err := svc.Lifecycle(ctx, "sub1", "bogus"); err == nil {
		t.Error("an unknown lifecycle event was accepted")
	}
	want := []string{"shard:s-a", "shard:s-a", "shard:s-b", "renew:sub1", "recreate:sub1", "reconcile", "reconcile"}
	if !slices.Equal(q.keys, want) {
		t.Fatalf("queued %q, want %q", q.keys, want)
	}
	st := svc.Status()
	if st.ChangesQueued != 3 || st.ChangesOutOfScope != 1 || st.Lifecycle != 4 {
		t.Errorf("status %+v", st)
	}
	for _, k := range append(want, "sync-shard:s-a", "sync-unscoped", "subscriptions") {
		if err := svc.Process(ctx, k); err != nil {
			t.Fatalf("process %s: %v", k, err)
		}
	}
	if want := []string{"delta s-a", "delta s-a", "delta s-b", "reconcile dry=false allow=false", "reconcile dry=false allow=false", "sync s-a", "unscoped"}; !slices.Equal(sy.calls, want) {
		t.Errorf("engine calls %q, want %q", sy.calls, want)
	}
	if want := []string{"renew sub1", "recreate sub1", "ensure"}; !slices.Equal(su.calls, want) {
		t.Errorf("subscription calls %q, want %q", su.calls, want)
	}
	if err := svc.Process(ctx, "nonsense"); !errors.Is(err, task.ErrPermanent) {
		t.Errorf("unknown key: %v, want ErrPermanent", err)
	}
}

func TestProcessErrors(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name          string
		err           error
		failures      int
		wantErr       bool
		wantPermanent bool
	}{
		{"ok", nil, 0, false, false},
		{"transient", errors.New("graph 503"), 0, true, false},
		{"halted: an operator must act, retrying cannot help", fmt.Errorf("x: %w", engine.ErrThreshold), 0, false, false},
		{"shard of an older scope", fmt.Errorf("x: %w", engine.ErrNotFound), 0, true, true},
		{"failed actions", nil, 2, true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sy := &syncer{err: tt.err, rep: &engine.Report{Plan: &engine.Plan{}, Summary: engine.Summary{Failures: tt.failures}}}
			svc := service.New(sy, &subs{}, &queue{}, testlog.New(t, slog.LevelDebug), engine.SystemClock{})
			err := svc.Process(ctx, "sync-shard:s-a")
			if (err != nil) != tt.wantErr || errors.Is(err, task.ErrPermanent) != tt.wantPermanent {
				t.Fatalf("got %v; want error %t, permanent %t", err, tt.wantErr, tt.wantPermanent)
			}
		})
	}
	router := service.NewRouter(&syncer{}, &queue{}, testlog.New(t, slog.LevelDebug), engine.SystemClock{})
	if err := router.Process(ctx, "shard:s-a"); !errors.Is(err, task.ErrPermanent) {
		t.Errorf("a router processed work: %v", err)
	}
}

func TestFanOut(t *testing.T) {
	sharding := engine.NewSharding([]string{"a", "b"})
	q := &queue{}
	sy := &syncer{rep: &engine.Report{Plan: &engine.Plan{Actions: []engine.Action{
		{Kind: engine.ActAddMembers, Group: "a"}, {Kind: engine.ActInviteUser, User: "u"}, {Kind: engine.ActDeleteGroup, Group: "gone"},
	}}}}
	svc := service.New(sy, &subs{}, q, testlog.New(t, slog.LevelDebug), engine.SystemClock{})
	if _, err := svc.FanOut(context.Background(), sharding, false); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(sy.calls, []string{"reconcile dry=true allow=false"}) {
		t.Errorf("fan-out must only plan: %q", sy.calls)
	}
	want := []string{"sync-shard:" + sharding.ShardOf("a"), "sync-unscoped"}
	if !slices.Equal(q.keys, want) {
		t.Errorf("queued %q, want %q", q.keys, want)
	}
	// Over the guard's budget: the guard is halted for the whole plan
	// before the pieces are queued, so the workers apply the additions and
	// hold every removal.
	q2 := &queue{}
	sy2 := &syncer{err: fmt.Errorf("7 held: %w", engine.ErrThreshold), rep: &engine.Report{Plan: &engine.Plan{Deletions: 7, Actions: sy.rep.Plan.Actions}}}
	svc2 := service.New(sy2, &subs{}, q2, testlog.New(t, slog.LevelDebug), engine.SystemClock{})
	if _, err := svc2.FanOut(context.Background(), sharding, false); !errors.Is(err, engine.ErrThreshold) || !slices.Equal(q2.keys, want) {
		t.Errorf("halted fan-out: %v, queued %q, want %q", err, q2.keys, want)
	}
	if want := []string{"reconcile dry=true allow=false", "hold 7"}; !slices.Equal(sy2.calls, want) {
		t.Errorf("halted fan-out called %q, want %q", sy2.calls, want)
	}
	// Approved: the plan's removals are allowed beyond the threshold.
	q3 := &queue{}
	sy3 := &syncer{rep: &engine.Report{Plan: &engine.Plan{Deletions: 7, Actions: sy.rep.Plan.Actions}}}
	svc3 := service.New(sy3, &subs{}, q3, testlog.New(t, slog.LevelDebug), engine.SystemClock{})
	if _, err := svc3.FanOut(context.Background(), sharding, true); err != nil || !slices.Equal(q3.keys, want) {
		t.Errorf("approved fan-out: %v, queued %q", err, q3.keys)
	}
	if want := []string{"reconcile dry=true allow=true", "approve 7"}; !slices.Equal(sy3.calls, want) {
		t.Errorf("approved fan-out called %q, want %q", sy3.calls, want)
	}
}
