package app

import (
	"context"
	"time"

	"github.com/xtsync/xtsync/pkg/engine"
	"github.com/xtsync/xtsync/pkg/task"
)

// Queue carries tasks from the router (and the schedule, and operators) to
// a worker: pkg/memqueue in `xtsync serve`, pkg/sqsqueue on AWS. ctx bounds
// the hand-over (an SQS send), not the work, which runs later under the
// worker's own context.
type Queue interface {
	Enqueue(ctx context.Context, tasks ...task.Task) error
}

// Engine is the engine as the worker and the fan-out use it.
type Engine interface {
	DeltaShard(ctx context.Context, key string, ro engine.RunOptions) (*engine.Report, error)
	MirrorShard(ctx context.Context, key string, ro engine.RunOptions) (*engine.Report, error)
	// TargetUsers is the target users pass (engine.ErrNoWatch when the
	// target's users are not watched).
	TargetUsers(ctx context.Context, ro engine.RunOptions) (*engine.Report, error)
	ShardOf(groupID string) string
	SyncShard(ctx context.Context, key string, ro engine.RunOptions) (*engine.Report, error)
	SyncUnscoped(ctx context.Context, ro engine.RunOptions) (*engine.Report, error)
	Reconcile(ctx context.Context, ro engine.RunOptions) (*engine.Report, error)
	UserDelta(ctx context.Context, ro engine.RunOptions) (*engine.Report, error)
	HoldDeletions(ctx context.Context, run string, p *engine.Plan) error
	ApproveDeletions(ctx context.Context, run string, n int) error
}

var _ Engine = (*engine.Engine)(nil)

// Metrics is told what the router and the worker do (pkg/metrics.Set);
// nil counts nothing.
type Metrics interface {
	// ChangesReceived is n changes queued from notifications.
	ChangesReceived(n int)
	// ChangesApplied is n queued changes applied, the oldest queued
	// latency ago.
	ChangesApplied(n int, latency time.Duration)
	// GuardHeld is one run the deletion guard held.
	GuardHeld()
	// MirrorRepairs is n mirrors found changed by someone else.
	MirrorRepairs(n int)
}

// SubscriptionManager keeps the Graph subscriptions alive (pkg/subscribe).
type SubscriptionManager interface {
	Ensure(ctx context.Context) error
	// EnsureMirrors subscribes to the mirrors there are now.
	EnsureMirrors(ctx context.Context) error
	Renew(ctx context.Context, id string) error
	Recreate(ctx context.Context, id string) error
}

// Scope maps a source group to its delta shard, "" when the group is not
// synced. ctx bounds any I/O the answer needs (the webhook function loads
// its configuration on first use).
type Scope interface {
	ShardOf(ctx context.Context, groupID string) string
}

// Sharding is the scope of a loaded configuration.
type Sharding struct{ engine.Sharding }

// ShardOf answers from memory.
func (s Sharding) ShardOf(_ context.Context, groupID string) string {
	return s.Sharding.ShardOf(groupID)
}
