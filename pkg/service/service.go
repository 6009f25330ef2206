// Package service is what the running forms of xtsync share: it turns
// webhook events into queued work (by delta shard, so a burst for one group
// costs one delta pass) and processes the queued work with the engine and
// the subscription manager. `xtsync serve` runs it over the in-process queue;
// the AWS worker runs the same Process over SQS.
package service

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/xtsync/xtsync/pkg/engine"
	"github.com/xtsync/xtsync/pkg/task"
)

// ShardKey is the work key of a delta shard's pass.
func ShardKey(shard string) string { return task.Of(task.Delta, shard).Key() }

// Queue takes work keys. ctx bounds the hand-over (an SQS send); it does
// not bound the work, which runs later under the worker's own context.
type Queue interface {
	Enqueue(ctx context.Context, key string) error
}

// Subscriptions keeps the Graph subscriptions alive.
type Subscriptions interface {
	Ensure(ctx context.Context) error
	Renew(ctx context.Context, id string) error
	Recreate(ctx context.Context, id string) error
}

// Sharder maps a source group to its delta shard ("" when out of scope).
type Sharder interface {
	ShardOf(groupID string) string
}

// Syncer is the engine as the service uses it.
type Syncer interface {
	Sharder
	DeltaShard(ctx context.Context, key string, ro engine.RunOptions) (*engine.Report, error)
	SyncShard(ctx context.Context, key string, ro engine.RunOptions) (*engine.Report, error)
	SyncUnscoped(ctx context.Context, ro engine.RunOptions) (*engine.Report, error)
	Reconcile(ctx context.Context, ro engine.RunOptions) (*engine.Report, error)
	UserDelta(ctx context.Context, ro engine.RunOptions) (*engine.Report, error)
	HoldDeletions(ctx context.Context, run string, n int) error
	ApproveDeletions(ctx context.Context, run string, n int) error
}

var _ Syncer = (*engine.Engine)(nil)

// Service routes events to work and runs the work.
type Service struct {
	shard Sharder
	sync  Syncer
	subs  Subscriptions
	queue Queue
	log   *slog.Logger
	clock engine.Clock

	mu     sync.Mutex
	status Status
}

// Status is what the service has done lately.
type Status struct {
	LastReconcile     time.Time `json:"lastReconcile"`
	LastReconcileErr  string    `json:"lastReconcileError,omitempty"`
	LastReconcileRun  string    `json:"lastReconcileRun,omitempty"`
	LastDelta         time.Time `json:"lastDelta"`
	DeltaPasses       int       `json:"deltaPasses"`
	ChangesQueued     int       `json:"changesQueued"`
	ChangesOutOfScope int       `json:"changesOutOfScope"`
	Lifecycle         int       `json:"lifecycleEvents"`
	QueueFull         int       `json:"queueFull"`
}

// New returns a service that routes events and processes work.
func New(s Syncer, subs Subscriptions, q Queue, log *slog.Logger, clock engine.Clock) *Service {
	return &Service{shard: s, sync: s, subs: subs, queue: q, log: log, clock: clock}
}

// NewRouter returns a service that only routes webhook events to the queue
// (the webhook Lambda: no Graph access, no processing).
func NewRouter(sh Sharder, q Queue, log *slog.Logger, clock engine.Clock) *Service {
	return &Service{shard: sh, queue: q, log: log, clock: clock}
}

// SetQueue sets the queue (it is built with the service's Process).
func (s *Service) SetQueue(q Queue) { s.queue = q }

// Status returns a copy of the status.
func (s *Service) Status() Status {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.status
}

func (s *Service) enqueue(ctx context.Context, t task.Task) error {
	err := s.queue.Enqueue(ctx, t.Key())
	if err != nil {
		s.mu.Lock()
		s.status.QueueFull++
		s.mu.Unlock()
		// The periodic reconcile repairs what a full queue drops.
		s.log.Warn("work not queued", "key", t.Key(), "err", err)
	}
	return err
}

// Changed queues the delta passes of changed source groups (the webhook's
// sink). Groups outside the scope are ignored.
func (s *Service) Changed(ctx context.Context, groupIDs []string) error {
	var errs []error
	for _, id := range groupIDs {
		shard := s.shard.ShardOf(id)
		s.mu.Lock()
		if shard == "" {
			s.status.ChangesOutOfScope++
		} else {
			s.status.ChangesQueued++
		}
		s.mu.Unlock()
		if shard != "" {
			errs = append(errs, s.enqueue(ctx, task.Of(task.Delta, shard)))
		}
	}
	return errors.Join(errs...)
}

// UsersChanged queues the users delta pass (one work key: the pass reads
// /users/delta and acts only on the users xtsync maps).
func (s *Service) UsersChanged(ctx context.Context, userIDs []string) error {
	s.mu.Lock()
	s.status.ChangesQueued += len(userIDs)
	s.mu.Unlock()
	return s.enqueue(ctx, task.Of(task.Users, ""))
}

// Lifecycle queues the answer to a lifecycle event: renew on
// reauthorizationRequired, recreate and reconcile on subscriptionRemoved,
// reconcile on missed.
func (s *Service) Lifecycle(ctx context.Context, subscriptionID, event string) error {
	s.mu.Lock()
	s.status.Lifecycle++
	s.mu.Unlock()
	s.log.Info("lifecycle event", "subscription", subscriptionID, "event", event)
	switch event {
	case "reauthorizationRequired":
		return s.enqueue(ctx, task.Of(task.Renew, subscriptionID))
	case "subscriptionRemoved":
		return errors.Join(s.enqueue(ctx, task.Of(task.Recreate, subscriptionID)), s.enqueue(ctx, task.Of(task.Reconcile, "")))
	case "missed":
		return s.enqueue(ctx, task.Of(task.Reconcile, ""))
	}
	return fmt.Errorf("unknown lifecycle event %q", event)
}

// Process runs the task of one work key; an error means it should be
// retried, unless it wraps task.ErrPermanent (task.Retryable decides).
func (s *Service) Process(ctx context.Context, key string) error {
	t, err := task.Parse(key)
	if err != nil {
		return err
	}
	if s.sync == nil {
		return fmt.Errorf("process %s: this service only routes: %w", key, task.ErrPermanent)
	}
	switch t.Kind {
	case task.SyncShard:
		return s.report(s.sync.SyncShard(ctx, t.Arg, engine.RunOptions{}))
	case task.SyncUnscoped:
		return s.report(s.sync.SyncUnscoped(ctx, engine.RunOptions{}))
	case task.Delta:
		rep, err := s.sync.DeltaShard(ctx, t.Arg, engine.RunOptions{})
		s.mu.Lock()
		s.status.LastDelta = s.clock.Now()
		s.status.DeltaPasses++
		s.mu.Unlock()
		if errors.Is(err, engine.ErrThreshold) {
			s.held(key, err)
			err = nil
		}
		if err != nil {
			return fmt.Errorf("delta pass %s: %w", key, err)
		}
		if rep != nil && rep.Failed() {
			return fmt.Errorf("delta pass %s: %d failures", key, rep.FailureCount())
		}
		return nil
	case task.Users:
		return s.report(s.sync.UserDelta(ctx, engine.RunOptions{}))
	case task.Reconcile:
		return s.reconcile(ctx)
	case task.Subscriptions:
		return s.subs.Ensure(ctx)
	case task.Renew:
		return s.subs.Renew(ctx, t.Arg)
	default: // task.Recreate
		err := s.subs.Recreate(ctx, t.Arg)
		if errors.Is(err, engine.ErrNotFound) {
			return s.subs.Ensure(ctx)
		}
		return err
	}
}

// held logs a run whose removals, deletes and disables the deletion guard
// held (its additions were applied).
func (s *Service) held(key string, err error) {
	s.log.Warn("deletion guard holding removals; review the plan (xtsync reconcile --dry-run), then run xtsync reconcile --allow-deletions", "key", key, "err", err)
}

// report turns a run's outcome into Process's answer.
func (s *Service) report(rep *engine.Report, err error) error {
	switch {
	case errors.Is(err, engine.ErrThreshold):
		s.held("sync", err)
		return nil
	case errors.Is(err, engine.ErrNotFound):
		return fmt.Errorf("%w: %w", err, task.ErrPermanent) // a shard of an older scope
	case err != nil:
		return err
	case rep != nil && rep.Failed():
		return fmt.Errorf("%d failures", rep.FailureCount())
	}
	return nil
}

// FanOut is the reconcile of the AWS form: it plans the whole scope (reads
// only), puts the whole plan through the deletion guard, and queues one
// sync per shard with changes (plus the release of unscoped groups), so
// that workers apply them in parallel. A plan over the guard's budget halts
// the guard before anything is queued, so that the workers apply the
// additions and hold every removal; approve (an operator's
// --allow-deletions) lets the plan's removals through instead. It returns
// an error wrapping engine.ErrThreshold, with the queued report, when the
// guard holds.
func (s *Service) FanOut(ctx context.Context, sharding engine.Sharding, approve bool) (*engine.Report, error) {
	rep, halt := s.sync.Reconcile(ctx, engine.RunOptions{DryRun: true, AllowDeletions: approve})
	switch {
	case errors.Is(halt, engine.ErrThreshold):
		if err := s.sync.HoldDeletions(ctx, rep.Run, rep.Plan.Deletions); err != nil {
			return rep, err
		}
	case halt != nil:
		return rep, halt
	case approve:
		if err := s.sync.ApproveDeletions(ctx, rep.Run, rep.Plan.Deletions); err != nil {
			return rep, err
		}
	}
	shards := map[string]bool{}
	unscoped := false
	for _, a := range rep.Plan.Actions {
		if k := sharding.ShardOf(a.Group); k != "" {
			shards[k] = true
		} else if a.Group != "" {
			unscoped = true
		}
	}
	for _, sk := range rep.Plan.Failed {
		if k := sharding.ShardOf(sk.Group); k != "" {
			shards[k] = true
		}
	}
	var errs []error
	for _, k := range sharding.Keys() {
		if shards[k] {
			errs = append(errs, s.queue.Enqueue(ctx, task.Of(task.SyncShard, k).Key()))
		}
	}
	if unscoped {
		errs = append(errs, s.queue.Enqueue(ctx, task.Of(task.SyncUnscoped, "").Key()))
	}
	if err := errors.Join(errs...); err != nil {
		return rep, err
	}
	return rep, halt
}

// logProgress logs a run's progress every tenth of the way.
func logProgress(log *slog.Logger) func(engine.Progress) {
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
			log.Info("reconcile progress", "stage", p.Stage, "done", p.Done, "total", p.Total)
		}
	}
}

func (s *Service) reconcile(ctx context.Context) error {
	start := s.clock.Now()
	s.log.Info("reconcile started")
	rep, err := s.sync.Reconcile(ctx, engine.RunOptions{Progress: logProgress(s.log)})
	s.mu.Lock()
	s.status.LastReconcile = start
	s.status.LastReconcileErr = ""
	if rep != nil {
		s.status.LastReconcileRun = rep.Run
	}
	if err != nil {
		s.status.LastReconcileErr = err.Error()
	} else if rep.Failed() {
		s.status.LastReconcileErr = fmt.Sprintf("%d failures", rep.FailureCount())
	}
	s.mu.Unlock()
	switch {
	case errors.Is(err, engine.ErrThreshold):
		s.held(task.Of(task.Reconcile, "").Key(), err)
		return nil
	case err != nil:
		return fmt.Errorf("reconcile: %w", err)
	case rep.Failed():
		return fmt.Errorf("reconcile: %d failures", rep.FailureCount())
	}
	s.log.Info("reconcile done", "run", rep.Run, "created", rep.Summary.GroupsCreated, "added", rep.Summary.MembersAdded, "removed", rep.Summary.MembersRemoved, "took", s.clock.Now().Sub(start))
	return nil
}
