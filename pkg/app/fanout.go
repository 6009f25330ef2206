package app

import (
	"context"

	"github.com/xtsync/xtsync/pkg/engine"
	"github.com/xtsync/xtsync/pkg/task"
)

// FanOut is the reconcile of the AWS form: it plans the whole scope (reads
// only), puts the whole plan through the deletion guard, and queues one
// sync per shard with changes (plus the release of unscoped groups), so
// that workers apply them in parallel. A plan over the guard's budget
// halts the guard before anything is queued, so that the workers apply the
// additions and hold every removal; approve (an operator's
// --allow-deletions) lets the plan's removals through instead. A held plan
// is logged (LogHeld) and is not an error.
func (a *App) FanOut(ctx context.Context, approve bool) (*engine.Report, error) {
	return a.Worker.FanOut(ctx, a.Queue, a.Sharding, approve)
}

// FanOut is App.FanOut over q and sh.
func (w *Worker) FanOut(ctx context.Context, q Queue, sh engine.Sharding, approve bool) (*engine.Report, error) {
	t := task.Of(task.Reconcile, "")
	rep, err := w.eng.Reconcile(ctx, engine.RunOptions{DryRun: true, AllowDeletions: approve, Trigger: engine.TriggerSchedule})
	switch {
	case w.guard.held(t, rep, err):
		if err := w.eng.HoldDeletions(ctx, rep.Run, rep.Plan); err != nil {
			return rep, err
		}
	case err != nil:
		return rep, err
	case approve:
		if err := w.eng.ApproveDeletions(ctx, rep.Run, rep.Plan.Deletions); err != nil {
			return rep, err
		}
	}
	if tasks := fanOutTasks(sh, rep.Plan); len(tasks) > 0 {
		return rep, q.Enqueue(ctx, tasks...)
	}
	return rep, nil
}

// fanOutTasks are the shard syncs a plan needs, in shard order.
func fanOutTasks(sh engine.Sharding, p *engine.Plan) []task.Task {
	shards := map[string]bool{}
	unscoped := false
	for _, act := range p.Actions {
		if k := sh.ShardOf(act.Group); k != "" {
			shards[k] = true
		} else if act.Group != "" {
			unscoped = true
		}
	}
	for _, sk := range p.Failed {
		if k := sh.ShardOf(sk.Group); k != "" {
			shards[k] = true
		}
	}
	var tasks []task.Task
	for _, k := range sh.Keys() {
		if shards[k] {
			tasks = append(tasks, task.Of(task.SyncShard, k))
		}
	}
	if unscoped {
		tasks = append(tasks, task.Of(task.SyncUnscoped, ""))
	}
	return tasks
}
