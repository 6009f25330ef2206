package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/xtsync/xtsync/pkg/contract"
	"github.com/xtsync/xtsync/pkg/engine"
	"github.com/xtsync/xtsync/pkg/task"
)

// Worker runs tasks: each kind with the engine or the subscription
// manager. Process is what both queues call.
type Worker struct {
	eng     Engine
	subs    SubscriptionManager
	guard   guardLog
	metrics Metrics // nil: none
	log     *slog.Logger
	clock   engine.Clock

	mu     sync.Mutex
	status WorkerStatus
}

// WorkerStatus is what the worker has done since it started.
type WorkerStatus struct {
	LastReconcile    time.Time `json:"lastReconcile"`
	LastReconcileErr string    `json:"lastReconcileError,omitempty"`
	LastReconcileRun string    `json:"lastReconcileRun,omitempty"`
	LastDelta        time.Time `json:"lastDelta"`
	DeltaPasses      int       `json:"deltaPasses"`
	// MirrorPasses counts the mirror passes (task.Mirrors).
	MirrorPasses int `json:"mirrorPasses,omitempty"`
	// TargetUserPasses counts the target users passes (task.TargetUsers).
	TargetUserPasses int `json:"targetUserPasses,omitempty"`
}

// NewWorker returns a worker over the engine and the subscription manager.
// approve tells operators how to approve a plan the deletion guard holds
// on this deployment (it goes into the log line).
func NewWorker(eng Engine, subs SubscriptionManager, approve string, m Metrics, log *slog.Logger, clock engine.Clock) *Worker {
	return &Worker{eng: eng, subs: subs, guard: guardLog{log: log, approve: approve, metrics: m}, metrics: m, log: log, clock: clock}
}

// Status returns a copy of the worker's status.
func (w *Worker) Status() WorkerStatus {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.status
}

// Process runs one task. An error means it should run again, unless it
// wraps task.ErrPermanent (task.Retryable decides, for both queues). The
// audit records each run's trigger by the task's kind: a delta pass
// (shard) TriggerNotification, the users pass TriggerUserNotification,
// the reconcile and the AWS reconcile's parts (sync-shard, sync-unscoped)
// TriggerSchedule.
func (w *Worker) Process(ctx context.Context, t task.Task) error {
	err := w.process(ctx, t)
	if r, ok := task.ReceivedFrom(ctx); ok && err == nil && w.metrics != nil && (t.Kind == task.Delta || t.Kind == task.Users) {
		w.metrics.ChangesApplied(r.N, w.clock.Now().Sub(r.At))
	}
	return err
}

// notified are the options of a run that notifications queued: the
// trigger, and when the oldest change it covers was queued (the lag the
// mappings record).
func notified(ctx context.Context, trigger string) engine.RunOptions {
	ro := engine.RunOptions{Trigger: trigger}
	if r, ok := task.ReceivedFrom(ctx); ok {
		ro.Changed = r.At
	}
	return ro
}

// process is Process without the metrics.
func (w *Worker) process(ctx context.Context, t task.Task) error {
	switch t.Kind {
	case task.Delta:
		rep, err := w.eng.DeltaShard(ctx, t.Arg, notified(ctx, engine.TriggerNotification))
		w.mu.Lock()
		w.status.LastDelta = w.clock.Now()
		w.status.DeltaPasses++
		w.mu.Unlock()
		return w.outcome(ctx, t, rep, err)
	case task.Mirrors:
		rep, err := w.mirrorPass(ctx, t.Arg, notified(ctx, engine.TriggerMirrorNotification))
		w.mu.Lock()
		w.status.MirrorPasses++
		w.mu.Unlock()
		return w.outcome(ctx, t, rep, err)
	case task.SyncShard:
		rep, err := w.eng.SyncShard(ctx, t.Arg, engine.RunOptions{Trigger: engine.TriggerSchedule})
		return w.outcome(ctx, t, rep, err)
	case task.SyncUnscoped:
		rep, err := w.eng.SyncUnscoped(ctx, engine.RunOptions{Trigger: engine.TriggerSchedule})
		return w.outcome(ctx, t, rep, err)
	case task.Users:
		rep, err := w.eng.UserDelta(ctx, engine.RunOptions{Trigger: engine.TriggerUserNotification})
		return w.outcome(ctx, t, rep, err)
	case task.TargetUsers:
		rep, err := w.eng.TargetUsers(ctx, notified(ctx, engine.TriggerTargetUserNotification))
		if rep != nil && w.metrics != nil {
			w.metrics.MirrorRepairs(len(rep.DriftedUsers))
		}
		w.mu.Lock()
		w.status.TargetUserPasses++
		w.mu.Unlock()
		if errors.Is(err, engine.ErrNoWatch) {
			return fmt.Errorf("%s: %w: %w", t, err, task.ErrPermanent)
		}
		return w.outcome(ctx, t, rep, err)
	case task.Reconcile:
		return w.reconcile(ctx, t)
	case task.Subscriptions:
		err := w.subs.Ensure(ctx)
		if err != nil {
			// No subscription means no change arrives in seconds: an
			// error, not a retry note.
			contract.LogSubscriptionsFailed(ctx, w.log, err)
		}
		return err
	case task.Renew:
		return w.subs.Renew(ctx, t.Arg)
	case task.Recreate:
		err := w.subs.Recreate(ctx, t.Arg)
		if errors.Is(err, engine.ErrNotFound) {
			return w.subs.Ensure(ctx)
		}
		return err
	}
	return fmt.Errorf("task %s: unknown kind: %w", t, task.ErrPermanent)
}

// newMirrors subscribes to the mirrors a run created, restored or
// adopted, so that their changes in the target are watched from now on
// (not from the next hourly upkeep), then runs the mirror pass of their
// shards once: a change made to a new mirror before its subscription was
// stored had its notification refused as of an unknown subscription, and
// the pass finds it in the delta (the run took the link). A failure is
// logged: the upkeep and the reconcile try again.
func (w *Worker) newMirrors(ctx context.Context, t task.Task, rep *engine.Report) {
	if rep == nil || rep.DryRun || rep.Summary.GroupsCreated+rep.Summary.GroupsRestored+rep.Summary.GroupsAdopted == 0 {
		return
	}
	if err := w.subs.EnsureMirrors(ctx); err != nil {
		w.log.Warn("subscribe to new mirrors", "task", t.Key(), "err", err)
		return
	}
	var shards []string
	for _, r := range rep.Results {
		switch r.Action.Kind {
		case engine.ActCreateGroup, engine.ActRestoreGroup, engine.ActAdoptGroup:
			if sh := w.eng.ShardOf(r.Action.Group); sh != "" && r.Outcome == engine.OutcomeOK && !slices.Contains(shards, sh) {
				shards = append(shards, sh)
			}
		}
	}
	for _, sh := range shards {
		if _, err := w.mirrorPass(ctx, sh, engine.RunOptions{Trigger: engine.TriggerMirrorNotification}); err != nil && !errors.Is(err, engine.ErrNoWatch) {
			w.log.Warn("mirror pass after new mirrors", "shard", sh, "err", err)
		}
	}
}

// mirrorPass runs the mirror pass of a shard and counts the mirrors it
// found changed by someone else.
func (w *Worker) mirrorPass(ctx context.Context, shard string, ro engine.RunOptions) (*engine.Report, error) {
	rep, err := w.eng.MirrorShard(ctx, shard, ro)
	if rep != nil && w.metrics != nil {
		w.metrics.MirrorRepairs(len(rep.Drifted))
	}
	return rep, err
}

// outcome turns a run's result into Process's answer: a run the deletion
// guard held is done (its additions applied; the guard keeps the rest
// until an operator approves), a shard of an older scope is permanent, and
// failures are retried.
func (w *Worker) outcome(ctx context.Context, t task.Task, rep *engine.Report, err error) error {
	w.newMirrors(ctx, t, rep)
	switch {
	case w.guard.held(t, rep, err):
		return nil
	case errors.Is(err, engine.ErrNotFound):
		return fmt.Errorf("%s: %w: %w", t, err, task.ErrPermanent)
	case err != nil:
		return fmt.Errorf("%s: %w", t, err)
	case rep != nil && rep.Failed():
		return fmt.Errorf("%s: %d failures", t, rep.FailureCount())
	}
	return nil
}

// reconcile runs the full reconcile and records it in the status.
func (w *Worker) reconcile(ctx context.Context, t task.Task) error {
	start := w.clock.Now()
	w.log.Info("reconcile started")
	rep, err := w.eng.Reconcile(ctx, engine.RunOptions{Trigger: engine.TriggerSchedule, Progress: LogProgress(w.log)})
	err = w.outcome(ctx, t, rep, err)
	w.mu.Lock()
	w.status.LastReconcile = start
	w.status.LastReconcileErr = ""
	if rep != nil {
		w.status.LastReconcileRun = rep.Run
	}
	if err != nil {
		w.status.LastReconcileErr = err.Error()
	}
	w.mu.Unlock()
	if err == nil && rep != nil {
		w.log.Info("reconcile done", append([]any{"run", rep.Run}, append(rep.Summary.LogAttrs(), "took", w.clock.Now().Sub(start))...)...)
	}
	return err
}

// LogProgress returns a run's progress callback that logs every tenth of
// the way of each stage.
func LogProgress(log *slog.Logger) func(engine.Progress) {
	var mu sync.Mutex
	last := map[string]int{}
	return func(p engine.Progress) {
		if p.Total < 20 {
			return
		}
		mu.Lock()
		defer mu.Unlock()
		if step := p.Done * 10 / p.Total; step > last[p.Stage] {
			last[p.Stage] = step
			log.Info("progress", "stage", p.Stage, "done", p.Done, "total", p.Total)
		}
	}
}
