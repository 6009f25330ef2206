package app

import (
	"context"
	"fmt"
	"log/slog"
	"sync"

	"github.com/xtsync/xtsync/pkg/task"
	"github.com/xtsync/xtsync/pkg/webhook"
)

var _ webhook.Sink = (*Router)(nil)

// Router turns what the webhook accepts into tasks: a changed group into
// the delta pass of its shard (so a burst for one group costs one pass), a
// changed mirror into the mirror pass of its source group's shard, changed
// users into the users pass, a lifecycle event into subscription upkeep.
// It only enqueues; it never calls Graph.
type Router struct {
	scope   Scope
	queue   Queue
	metrics Metrics // nil: none
	log     *slog.Logger

	mu     sync.Mutex
	status RouterStatus
}

// RouterStatus is what the router has done since it started.
type RouterStatus struct {
	// ChangesQueued counts the changed source groups and users whose task
	// was queued.
	ChangesQueued int `json:"changesQueued"`
	// MirrorChanges counts the changed mirrors whose task was queued.
	MirrorChanges int `json:"mirrorChanges"`
	// Lifecycle counts the lifecycle events.
	Lifecycle int `json:"lifecycleEvents"`
	// QueueFull counts the tasks the queue refused (the reconcile repairs
	// what they would have done).
	QueueFull int `json:"queueFull"`
}

// Webhook is the Graph change-notification endpoint over r: the
// notifications of the subscriptions lookup knows, checked against r's
// scope, and those of the mirrors subscriptions, mapped to their source
// groups by mirrors, become r's tasks. A nil mirrors (not a nil pointer in
// a MirrorIndex) makes every mirror notification out of scope.
func Webhook(lookup webhook.SubscriptionLookup, mirrors MirrorIndex, r *Router, log *slog.Logger) (*webhook.Handler, error) {
	cfg := webhook.Config{Lookup: lookup, InScope: r.InScope, Sink: r, Log: log}
	if mirrors != nil {
		cfg.MirrorOf = mirrors.SourceOf
	}
	return webhook.New(cfg)
}

// NewRouter returns a router of scope's groups onto q.
func NewRouter(scope Scope, q Queue, m Metrics, log *slog.Logger) *Router {
	return &Router{scope: scope, queue: q, metrics: m, log: log}
}

// Status returns a copy of the router's counts.
func (r *Router) Status() RouterStatus {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.status
}

// InScope reports whether a source group is synced: the webhook's scope
// check (webhook.Config.InScope), the one per notification.
func (r *Router) InScope(ctx context.Context, groupID string) bool {
	return r.scope.ShardOf(ctx, groupID) != ""
}

// Changed queues the delta passes of the shards of changed source groups,
// which the webhook checked with InScope.
func (r *Router) Changed(ctx context.Context, groupIDs []string) error {
	return r.enqueue(ctx, len(groupIDs), 0, r.shardTasks(ctx, task.Delta, groupIDs)...)
}

// MirrorsChanged queues the mirror passes of the shards of the source
// groups of changed mirrors (the webhook mapped each mirror to its source
// group); a group out of scope is skipped.
func (r *Router) MirrorsChanged(ctx context.Context, sourceGroupIDs []string) error {
	return r.enqueue(ctx, 0, len(sourceGroupIDs), r.shardTasks(ctx, task.Mirrors, sourceGroupIDs)...)
}

// shardTasks are the tasks of kind, one per distinct shard of groupIDs, in
// the order of the groups; groups out of scope have none.
func (r *Router) shardTasks(ctx context.Context, kind task.Kind, groupIDs []string) []task.Task {
	var tasks []task.Task
	seen := map[string]bool{}
	for _, id := range groupIDs {
		if sh := r.scope.ShardOf(ctx, id); sh != "" && !seen[sh] {
			seen[sh] = true
			tasks = append(tasks, task.Of(kind, sh))
		}
	}
	return tasks
}

// UsersChanged queues the users pass (one task: the pass reads
// /users/delta and acts only on the users xtsync maps).
func (r *Router) UsersChanged(ctx context.Context, userIDs []string) error {
	return r.enqueue(ctx, len(userIDs), 0, task.Of(task.Users, ""))
}

// TargetUsersChanged queues the target users pass (one task: the pass
// reads the target's /users/delta and acts only on the users xtsync
// keeps), counted as mirrors' changes.
func (r *Router) TargetUsersChanged(ctx context.Context, targetUserIDs []string) error {
	return r.enqueue(ctx, 0, len(targetUserIDs), task.Of(task.TargetUsers, ""))
}

// Lifecycle queues the answer to a lifecycle event: renew on
// reauthorizationRequired, recreate and reconcile on subscriptionRemoved,
// reconcile on missed.
func (r *Router) Lifecycle(ctx context.Context, subscriptionID, event string) error {
	r.mu.Lock()
	r.status.Lifecycle++
	r.mu.Unlock()
	r.log.Info("lifecycle event", "subscription", subscriptionID, "event", event)
	switch event {
	case "reauthorizationRequired":
		return r.enqueue(ctx, 0, 0, task.Of(task.Renew, subscriptionID))
	case "subscriptionRemoved":
		return r.enqueue(ctx, 0, 0, task.Of(task.Recreate, subscriptionID), task.Of(task.Reconcile, ""))
	case "missed":
		return r.enqueue(ctx, 0, 0, task.Of(task.Reconcile, ""))
	}
	return fmt.Errorf("unknown lifecycle event %q", event)
}

// enqueue queues tasks for changes changed source objects (counted in
// ChangesQueued and the metrics) and mirrors changed mirrors (counted in
// MirrorChanges only), and counts the outcome.
func (r *Router) enqueue(ctx context.Context, changes, mirrors int, tasks ...task.Task) error {
	if len(tasks) == 0 {
		return nil
	}
	err := r.queue.Enqueue(ctx, tasks...)
	r.mu.Lock()
	defer r.mu.Unlock()
	if err != nil {
		r.status.QueueFull++
		// The periodic reconcile repairs what a refused task would have done.
		r.log.Warn("tasks not queued", "tasks", len(tasks), "err", err)
		return err
	}
	r.status.ChangesQueued += changes
	r.status.MirrorChanges += mirrors
	if r.metrics != nil && changes > 0 {
		r.metrics.ChangesReceived(changes)
	}
	return nil
}
