package engine

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"
)

// Engine mirrors the scoped source groups into the target tenant.
type Engine struct {
	src   Source
	dst   Target
	store Store
	opts  Options
	// mirrors, when set (WatchMirrors), reads the target's changes to the
	// mirrors.
	mirrors MirrorWatch
	// targetUsers, when set (WatchTargetUsers), reads the target's changes
	// to its users.
	targetUsers UserWatch
	log         *slog.Logger
	clock       Clock
	locks       *groupLocks
	sharding    Sharding
	guard       *guard
}

// New returns an engine. All dependencies are required.
func New(src Source, dst Target, store Store, opts Options, log *slog.Logger, clock Clock) (*Engine, error) {
	if src == nil || dst == nil || store == nil || log == nil || clock == nil {
		return nil, errors.New("engine: source, target, store, logger and clock are required")
	}
	return &Engine{
		src: src, dst: dst, store: store, opts: opts, log: log, clock: clock,
		locks: newGroupLocks(), sharding: NewSharding(opts.Scope), guard: newGuard(store, clock, log, opts),
	}, nil
}

// RunOptions control one run.
type RunOptions struct {
	// DryRun plans and reports without writing anything.
	DryRun bool
	// AllowDeletions is an operator's approval: it lifts a halt of the
	// deletion guard and lets this run's removals, deletes and disables
	// through even above the threshold.
	AllowDeletions bool
	// Progress, when set, is called as reads and writes complete.
	Progress func(Progress)
	// Trigger is what started the run (TriggerReconcile, ...), recorded
	// in each of its audit entries. Reconcile takes TriggerReconcile when
	// it is empty; the other entry points record it as given (empty: not
	// known).
	Trigger string
	// Changed, when set, is when the change that started the run was
	// notified (the oldest the run covers); the groups it syncs record
	// their lag from it (GroupMapping.Lag).
	Changed time.Time
}

// Triggers: what started a run (RunOptions.Trigger), as its audit entries
// record it.
const (
	// TriggerReconcile is an operator's full reconcile (xtsync reconcile,
	// run by the CLI or by the running serve), and a Reconcile whose
	// caller names no trigger.
	TriggerReconcile = "reconcile"
	// TriggerSchedule is the deployment's own full reconcile: at serve's
	// start, every server.reconcile_interval, when Graph reports missed
	// notifications or a removed subscription, and the AWS reconcile on
	// its schedule (with the shard syncs it fans out).
	TriggerSchedule = "schedule"
	// TriggerNotification is a group delta pass, queued by change
	// notifications on the scoped groups (with the full sync of a shard
	// it falls back to).
	TriggerNotification = "notification"
	// TriggerUserNotification is a users delta pass, queued by change
	// notifications on the source's users.
	TriggerUserNotification = "user-notification"
	// TriggerOnDemand is an operator's sync of one group (xtsync sync
	// --group).
	TriggerOnDemand = "on-demand"
	// TriggerMirrorNotification is the sync of a source group whose
	// mirror someone changed in the target, found by a mirror pass that
	// change notifications on the mirrors queued.
	TriggerMirrorNotification = "mirror-notification"
)

func (ro RunOptions) progress(stage string, done, total int) {
	if ro.Progress != nil {
		ro.Progress(Progress{Stage: stage, Done: done, Total: total})
	}
}

func newRunID() string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// Reconcile syncs the whole scope: every scoped group, and the mapped groups
// that left the scope.
func (e *Engine) Reconcile(ctx context.Context, ro RunOptions) (*Report, error) {
	ro.Trigger = cmp.Or(ro.Trigger, TriggerReconcile)
	return e.run(ctx, e.opts.Scope, nil, true, ro)
}

// SyncGroups syncs the given source groups. Ids outside the scope that are
// still mapped are released or deleted per unscoped_groups; others are
// ignored.
func (e *Engine) SyncGroups(ctx context.Context, ids []string, ro RunOptions) (*Report, error) {
	var in, out []string
	for _, id := range ids {
		if slices.Contains(e.opts.Scope, id) {
			in = append(in, id)
		} else {
			out = append(out, id)
		}
	}
	return e.run(ctx, in, out, false, ro)
}

func (e *Engine) run(ctx context.Context, scope, unscoped []string, full bool, ro RunOptions) (*Report, error) {
	unlock := e.locks.lock(append(slices.Clone(scope), unscoped...))
	defer unlock()
	rep := &Report{Run: newRunID(), Started: e.clock.Now(), DryRun: ro.DryRun}
	log := e.log.With("run", rep.Run)
	userLink := ""
	var shardLinks []shardLink
	if full && !ro.DryRun {
		userLink = e.userDeltaStart(ctx)
		shardLinks = e.shardDeltaStart(ctx)
	}
	st, err := loadState(ctx, e.store)
	if err != nil {
		return nil, err
	}
	snap, err := e.read(ctx, st, scope, full, ro)
	if err != nil {
		return nil, err
	}
	snap.Unscoped = unscoped
	rep.Plan = plan(e.opts, st, snap)
	log.Info("plan ready", "groups", len(scope), "actions", len(rep.Plan.Actions), "deletions", rep.Plan.Deletions, "failed_reads", len(rep.Plan.Failed))
	restored, halt, err := e.execute(ctx, st, rep, ro)
	if err != nil || ro.DryRun {
		return rep, cmp.Or(err, halt)
	}
	if len(restored) > 0 && ctx.Err() == nil {
		// A restored group comes back with the members it had: sync it
		// again now that it can be read.
		unlock()
		again, err := e.SyncGroups(ctx, restored, RunOptions{AllowDeletions: ro.AllowDeletions, Trigger: ro.Trigger})
		if err != nil {
			return rep, fmt.Errorf("sync restored groups: %w", err)
		}
		rep.Merge(again)
	}
	e.keepShardLinks(ctx, shardLinks, rep)
	if full && rep.Plan != nil {
		if err := e.saveSkipped(ctx, rep.Plan.Skipped); err != nil {
			log.Warn("save skipped groups", "err", err)
		}
	}
	if userLink != "" && !rep.Failed() {
		if err := e.saveDelta(ctx, usersDeltaKey, nil, userLink, 0); err != nil && !errors.Is(err, ErrConflict) {
			log.Warn("save users delta link", "err", err)
		}
	}
	log.Info("run done", rep.Summary.LogAttrs()...)
	return rep, halt
}

// userDeltaStart takes a users delta link before the first full reconcile
// reads anything, so that the users delta passes start where it did ("" when
// one is stored, or when it cannot be taken: the first pass takes it then).
func (e *Engine) userDeltaStart(ctx context.Context) string {
	if _, err := e.store.Get(ctx, RecordDelta, usersDeltaKey); !errors.Is(err, ErrNotFound) {
		return ""
	}
	link, err := e.src.LatestUserDeltaLink(ctx)
	if err != nil {
		e.log.Warn("start users delta", "err", err)
		return ""
	}
	return link
}

// execute puts a finished plan through the deletion guard and applies what
// it lets through (nothing on a dry run); it returns the groups restored
// from deleted items, the guard's halt (see guardPlan) and err when the
// guard cannot be read or written (then nothing is applied).
func (e *Engine) execute(ctx context.Context, st *state, rep *Report, ro RunOptions) (restored []string, halt, err error) {
	if halt, err = e.guardPlan(ctx, rep, ro); err == nil && !ro.DryRun {
		restored = e.apply(ctx, st, rep, ro)
	}
	rep.Summary.Skipped = len(rep.Plan.Skipped)
	rep.Finished = e.clock.Now()
	return restored, halt, err
}

// guardPlan puts a plan through the deletion guard, the one check of every
// path that removes access. A dry run only asks; otherwise what the guard
// holds leaves the plan (additions still apply). It returns a halt error
// wrapping ErrThreshold when the plan's removals, deletes and disables are
// (or on a dry run would be) held, and err when the guard cannot be read
// or written (then nothing is applied).
func (e *Engine) guardPlan(ctx context.Context, rep *Report, ro RunOptions) (halt, err error) {
	n := rep.Plan.Deletions
	var ok bool
	if ro.DryRun {
		ok, err = e.guard.wouldAdmit(ctx, n, ro.AllowDeletions)
	} else {
		ok, err = e.guard.admit(ctx, rep.Run, n, rep.Plan.DeletionGroups(), ro.AllowDeletions)
	}
	if err != nil || ok {
		return nil, err
	}
	rep.Halted = true
	if !ro.DryRun {
		rep.Plan.hold()
	}
	return fmt.Errorf("%d removals, deletes and disables held by the deletion guard (threshold %d per %s): %w", n, e.opts.DeletionThreshold, e.guard.window, ErrThreshold), nil
}

// HoldDeletions halts the deletion guard for a plan whose removals,
// deletes and disables will be applied piecewise (the AWS reconcile's
// fan-out), so that no piece goes through before an operator approves.
func (e *Engine) HoldDeletions(ctx context.Context, run string, p *Plan) error {
	return e.guard.hold(ctx, run, p.Deletions, p.DeletionGroups())
}

// ApproveDeletions lifts a halt of the deletion guard and allows n removals,
// deletes and disables beyond the threshold for one window (an operator's
// approval of a fan-out).
func (e *Engine) ApproveDeletions(ctx context.Context, run string, n int) error {
	return e.guard.approve(ctx, run, n)
}

// groupLocks serialises work on the same source group.
type groupLocks struct {
	mu   sync.Mutex
	cond *sync.Cond
	held map[string]bool
}

func newGroupLocks() *groupLocks {
	l := &groupLocks{held: map[string]bool{}}
	l.cond = sync.NewCond(&l.mu)
	return l
}

// lock takes the locks of all ids at once (no partial holds, so no
// deadlock) and returns the release function.
func (l *groupLocks) lock(ids []string) func() {
	ids = slices.Compact(slices.Sorted(slices.Values(ids)))
	l.mu.Lock()
	for slices.ContainsFunc(ids, func(id string) bool { return l.held[id] }) {
		l.cond.Wait()
	}
	for _, id := range ids {
		l.held[id] = true
	}
	l.mu.Unlock()
	var once sync.Once
	return func() {
		once.Do(func() {
			l.mu.Lock()
			for _, id := range ids {
				delete(l.held, id)
			}
			l.mu.Unlock()
			l.cond.Broadcast()
		})
	}
}
