package app_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/xtsync/xtsync/internal/testlog"
	"github.com/xtsync/xtsync/pkg/app"
	"github.com/xtsync/xtsync/pkg/engine"
	"github.com/xtsync/xtsync/pkg/task"
)

// Fakes of the application's own ports (not of any AWS or Graph API).

type queue struct {
	mu    sync.Mutex
	tasks []string
	calls int
	full  bool
}

func (q *queue) Enqueue(_ context.Context, tasks ...task.Task) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.calls++
	if q.full {
		return errors.New("full")
	}
	for _, t := range tasks {
		q.tasks = append(q.tasks, t.Key())
	}
	return nil
}

// scope puts every group but "out" in the shard of its first letter.
type scope struct{}

func (scope) ShardOf(_ context.Context, id string) string {
	if id == "out" {
		return ""
	}
	return "s-" + id[:1]
}

type eng struct {
	calls    []string
	triggers []string // each run's RunOptions.Trigger
	err      error
	rep      *engine.Report
}

func (s *eng) record(what string, ro engine.RunOptions) (*engine.Report, error) {
	s.calls = append(s.calls, what)
	s.triggers = append(s.triggers, ro.Trigger)
	if s.rep == nil {
		s.rep = &engine.Report{Plan: &engine.Plan{}}
	}
	return s.rep, s.err
}
func (s *eng) DeltaShard(_ context.Context, k string, ro engine.RunOptions) (*engine.Report, error) {
	return s.record("delta "+k, ro)
}
func (s *eng) ShardOf(string) string { return "" }

func (s *eng) MirrorShard(_ context.Context, k string, ro engine.RunOptions) (*engine.Report, error) {
	return s.record("mirrors "+k, ro)
}
func (s *eng) TargetUsers(_ context.Context, ro engine.RunOptions) (*engine.Report, error) {
	return s.record("target-users", ro)
}
func (s *eng) SyncShard(_ context.Context, k string, ro engine.RunOptions) (*engine.Report, error) {
	return s.record("sync "+k, ro)
}
func (s *eng) SyncUnscoped(_ context.Context, ro engine.RunOptions) (*engine.Report, error) {
	return s.record("unscoped", ro)
}
func (s *eng) Reconcile(_ context.Context, ro engine.RunOptions) (*engine.Report, error) {
	return s.record(fmt.Sprintf("reconcile dry=%t allow=%t", ro.DryRun, ro.AllowDeletions), ro)
}
func (s *eng) UserDelta(_ context.Context, ro engine.RunOptions) (*engine.Report, error) {
	return s.record("users", ro)
}
func (s *eng) HoldDeletions(_ context.Context, _ string, p *engine.Plan) error {
	s.calls = append(s.calls, fmt.Sprintf("hold %d", p.Deletions))
	return nil
}
func (s *eng) ApproveDeletions(_ context.Context, _ string, n int) error {
	s.calls = append(s.calls, fmt.Sprintf("approve %d", n))
	return nil
}

type subs struct{ calls []string }

func (s *subs) Ensure(context.Context) error { s.calls = append(s.calls, "ensure"); return nil }
func (s *subs) EnsureMirrors(context.Context) error {
	s.calls = append(s.calls, "ensure mirrors")
	return nil
}
func (s *subs) Renew(_ context.Context, id string) error {
	s.calls = append(s.calls, "renew "+id)
	return nil
}
func (s *subs) Recreate(_ context.Context, id string) error {
	s.calls = append(s.calls, "recreate "+id)
	return nil
}

func TestRouter(t *testing.T) {
	q := &queue{}
	r := app.NewRouter(scope{}, q, nil, testlog.New(t, slog.LevelDebug))
	ctx := t.Context()
	if !r.InScope(ctx, "a1") || r.InScope(ctx, "out") {
		t.Fatal("InScope does not follow the scope")
	}
	if err := r.Changed(ctx, []string{"a1", "a2", "b1"}); err != nil {
		t.Fatal(err)
	}
	if err := r.UsersChanged(ctx, []string{"u1", "u2"}); err != nil {
		t.Fatal(err)
	}
	for _, ev := range []string{"reauthorizationRequired", "subscriptionRemoved", "missed"} {
		if err := r.Lifecycle(ctx, "sub1", ev); err != nil {
			t.Fatal(err)
		}
	}
	if err := r.Lifecycle(ctx, "sub1", "bogus"); err == nil {
		t.Error("an unknown lifecycle event was accepted")
	}
	// Two changed groups of one shard are one delta pass, queued with the
	// other shard's in one hand-over.
	want := []string{"shard:s-a", "shard:s-b", "users", "renew:sub1", "recreate:sub1", "reconcile", "reconcile"}
	if !slices.Equal(q.tasks, want) {
		t.Fatalf("queued %q, want %q", q.tasks, want)
	}
	if q.calls != 5 {
		t.Errorf("%d hand-overs, want 5 (one per call)", q.calls)
	}
	if got, want := r.Status(), (app.RouterStatus{ChangesQueued: 5, Lifecycle: 4}); got != want {
		t.Errorf("status %+v, want %+v", got, want)
	}
	q.full = true
	if err := r.Changed(ctx, []string{"c1"}); err == nil {
		t.Fatal("a refused hand-over was not reported")
	}
	if got := r.Status(); got.QueueFull != 1 || got.ChangesQueued != 5 {
		t.Errorf("after a refused hand-over, status %+v", got)
	}
}

// metrics counts what the router reports (app.Metrics).
type metrics struct{ received []int }

func (m *metrics) ChangesReceived(n int)             { m.received = append(m.received, n) }
func (m *metrics) ChangesApplied(int, time.Duration) {}
func (m *metrics) GuardHeld()                        {}
func (m *metrics) MirrorRepairs(int)                 {}

// TestRouterMirrors: changed mirrors, named by their source groups, become
// one mirror pass per shard, counted apart from the source changes (not in
// ChangesQueued, not in the metrics); groups out of scope are skipped.
func TestRouterMirrors(t *testing.T) {
	q, m := &queue{}, &metrics{}
	r := app.NewRouter(scope{}, q, m, testlog.New(t, slog.LevelDebug))
	ctx := t.Context()
	steps := []struct {
		name      string
		mirrors   []string // MirrorsChanged's argument; nil: Changed(changed)
		changed   []string
		full      bool
		wantErr   bool
		wantTasks []string // queued so far
		wantCalls int      // hand-overs so far
		want      app.RouterStatus
		wantRecv  []int // ChangesReceived calls so far
	}{
		{
			name:    "three mirrors of two shards and one out of scope: one pass per shard, one hand-over",
			mirrors: []string{"a1", "a2", "b1", "out"}, wantTasks: []string{"mirrors:s-a", "mirrors:s-b"}, wantCalls: 1,
			want: app.RouterStatus{MirrorChanges: 4},
		},
		{
			name:    "only out of scope: nothing queued, nothing counted",
			mirrors: []string{"out"}, wantTasks: []string{"mirrors:s-a", "mirrors:s-b"}, wantCalls: 1,
			want: app.RouterStatus{MirrorChanges: 4},
		},
		{
			name:    "a source change still counts as one, in the metrics too",
			changed: []string{"a1"}, wantTasks: []string{"mirrors:s-a", "mirrors:s-b", "shard:s-a"}, wantCalls: 2,
			want: app.RouterStatus{ChangesQueued: 1, MirrorChanges: 4}, wantRecv: []int{1},
		},
		{
			name:    "queue full: reported and counted as such, not as changes",
			mirrors: []string{"c1"}, full: true, wantErr: true, wantTasks: []string{"mirrors:s-a", "mirrors:s-b", "shard:s-a"}, wantCalls: 3,
			want: app.RouterStatus{ChangesQueued: 1, MirrorChanges: 4, QueueFull: 1}, wantRecv: []int{1},
		},
	}
	for _, s := range steps {
		q.full = s.full
		var err error
		if s.mirrors != nil {
			err = r.MirrorsChanged(ctx, s.mirrors)
		} else {
			err = r.Changed(ctx, s.changed)
		}
		if (err != nil) != s.wantErr {
			t.Fatalf("%s: err %v, want error %t", s.name, err, s.wantErr)
		}
		if !slices.Equal(q.tasks, s.wantTasks) || q.calls != s.wantCalls {
			t.Fatalf("%s: queued %q in %d hand-overs, want %q in %d", s.name, q.tasks, q.calls, s.wantTasks, s.wantCalls)
		}
		if got := r.Status(); got != s.want {
			t.Errorf("%s: status %+v, want %+v", s.name, got, s.want)
		}
		if !slices.Equal(m.received, s.wantRecv) {
			t.Errorf("%s: ChangesReceived calls %v, want %v", s.name, m.received, s.wantRecv)
		}
	}
}

func TestWorker(t *testing.T) {
	e, su := &eng{}, &subs{}
	w := app.NewWorker(e, su, app.ApproveServe, nil, testlog.New(t, slog.LevelDebug), engine.SystemClock{})
	ctx := t.Context()
	for _, k := range []string{"shard:s-a", "sync-shard:s-b", "sync-unscoped", "users", "reconcile", "subscriptions", "renew:sub1", "recreate:sub1"} {
		tk, err := task.Parse(k)
		if err != nil {
			t.Fatal(err)
		}
		if err := w.Process(ctx, tk); err != nil {
			t.Fatalf("process %s: %v", k, err)
		}
	}
	if want := []string{"delta s-a", "sync s-b", "unscoped", "users", "reconcile dry=false allow=false"}; !slices.Equal(e.calls, want) {
		t.Errorf("engine calls %q, want %q", e.calls, want)
	}
	// Each run's audit names what started it.
	wantTriggers := []string{engine.TriggerNotification, engine.TriggerSchedule, engine.TriggerSchedule, engine.TriggerUserNotification, engine.TriggerSchedule}
	if !slices.Equal(e.triggers, wantTriggers) {
		t.Errorf("triggers %q, want %q", e.triggers, wantTriggers)
	}
	if want := []string{"ensure", "renew sub1", "recreate sub1"}; !slices.Equal(su.calls, want) {
		t.Errorf("subscription calls %q, want %q", su.calls, want)
	}
	if st := w.Status(); st.DeltaPasses != 1 || st.LastReconcile.IsZero() || st.LastReconcileErr != "" {
		t.Errorf("status %+v", st)
	}
	if err := w.Process(ctx, task.Task{Kind: "nonsense"}); !errors.Is(err, task.ErrPermanent) {
		t.Errorf("unknown kind: %v, want ErrPermanent", err)
	}
}

func TestWorkerOutcome(t *testing.T) {
	tests := []struct {
		name          string
		err           error
		failures      int
		wantErr       bool
		wantPermanent bool
		wantHeld      bool
	}{
		{"ok", nil, 0, false, false, false},
		{"transient", errors.New("graph 503"), 0, true, false, false},
		{"held: an operator must act, retrying cannot help", fmt.Errorf("x: %w", engine.ErrThreshold), 0, false, false, true},
		{"shard of an older scope", fmt.Errorf("x: %w", engine.ErrNotFound), 0, true, true, false},
		{"failed actions", nil, 2, true, false, false},
	}
	for _, tt := range tests {
		for _, k := range []string{"shard:s-a", "sync-shard:s-a", "users", "reconcile"} {
			t.Run(tt.name+"/"+k, func(t *testing.T) {
				e := &eng{err: tt.err, rep: &engine.Report{Plan: &engine.Plan{Deletions: 3}, Summary: engine.Summary{Failures: tt.failures}}}
				logs := &strings.Builder{}
				w := app.NewWorker(e, &subs{}, app.ApproveServe, nil, slog.New(slog.NewTextHandler(logs, nil)), engine.SystemClock{})
				tk, _ := task.Parse(k)
				err := w.Process(t.Context(), tk)
				if (err != nil) != tt.wantErr || errors.Is(err, task.ErrPermanent) != tt.wantPermanent {
					t.Fatalf("got %v; want error %t, permanent %t", err, tt.wantErr, tt.wantPermanent)
				}
				held := strings.Count(logs.String(), app.LogHeld)
				if held != map[bool]int{true: 1}[tt.wantHeld] {
					t.Fatalf("%q logged %d times, want held=%t:\n%s", app.LogHeld, held, tt.wantHeld, logs)
				}
				if tt.wantHeld && (!strings.Contains(logs.String(), "deletions=3") || !strings.Contains(logs.String(), "--allow-deletions")) {
					t.Errorf("held line lacks the count or the approval:\n%s", logs)
				}
			})
		}
	}
}

func TestFanOut(t *testing.T) {
	sharding := engine.NewSharding([]string{"a", "b"})
	actions := []engine.Action{{Kind: engine.ActAddMembers, Group: "a"}, {Kind: engine.ActInviteUser, User: "u"}, {Kind: engine.ActDeleteGroup, Group: "gone"}}
	want := []string{"sync-shard:" + sharding.ShardOf("a"), "sync-unscoped"}
	tests := []struct {
		name      string
		err       error
		approve   bool
		wantCalls []string
		wantHeld  bool
	}{
		{"within the budget: plan only, then queue", nil, false, []string{"reconcile dry=true allow=false"}, false},
		// Over the budget: the guard is halted for the whole plan before
		// the pieces are queued, so the workers apply the additions and
		// hold every removal.
		{"over the budget: halt, then queue", fmt.Errorf("7 held: %w", engine.ErrThreshold), false, []string{"reconcile dry=true allow=false", "hold 7"}, true},
		{"approved: allow the plan's removals", nil, true, []string{"reconcile dry=true allow=true", "approve 7"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q := &queue{}
			e := &eng{err: tt.err, rep: &engine.Report{Plan: &engine.Plan{Deletions: 7, Actions: actions}}}
			logs := &strings.Builder{}
			w := app.NewWorker(e, &subs{}, app.ApproveAWS, nil, slog.New(slog.NewTextHandler(logs, nil)), engine.SystemClock{})
			if _, err := w.FanOut(t.Context(), q, sharding, tt.approve); err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(e.calls, tt.wantCalls) {
				t.Errorf("engine calls %q, want %q", e.calls, tt.wantCalls)
			}
			if !slices.Equal(q.tasks, want) || q.calls != 1 {
				t.Errorf("queued %q in %d hand-overs, want %q in 1", q.tasks, q.calls, want)
			}
			if got := strings.Contains(logs.String(), app.LogHeld); got != tt.wantHeld {
				t.Errorf("held logged %t, want %t:\n%s", got, tt.wantHeld, logs)
			}
		})
	}
}
