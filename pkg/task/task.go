// Package task is the unit of work of xtsync: what the webhook, the
// schedule and the operators ask for, carried by a queue (in process, or SQS)
// to a worker that runs it with the engine. A task is a kind and, for some
// kinds, an argument. Its key ("reconcile", "shard:<delta shard>",
// "renew:<subscription id>") is what coalesces repeated tasks and orders
// them (the SQS message group); on the SQS queue a task travels as a
// versioned JSON body holding its key, {"v":1,"key":"reconcile"} (Encode,
// Decode).
package task

import (
	"errors"
	"fmt"
	"strings"
)

// Kind is what a task does.
type Kind string

// The kinds of work.
const (
	// Delta is the delta pass of one delta shard (Arg: the shard key).
	Delta Kind = "shard"
	// SyncShard is the full sync of one shard, a piece of the AWS
	// reconcile's fan-out (Arg: the shard key).
	SyncShard Kind = "sync-shard"
	// SyncUnscoped releases or deletes the mirrors of groups that left the
	// scope (the other piece of the fan-out).
	SyncUnscoped Kind = "sync-unscoped"
	// Users is the users delta pass.
	Users Kind = "users"
	// Reconcile is the full reconcile.
	Reconcile Kind = "reconcile"
	// Subscriptions keeps the Graph subscriptions alive.
	Subscriptions Kind = "subscriptions"
	// Renew renews one subscription (Arg: its id).
	Renew Kind = "renew"
	// Recreate recreates one removed subscription (Arg: its id).
	Recreate Kind = "recreate"
	// Mirrors is the mirror pass of one delta shard (Arg: the shard key):
	// it reads the target's changes to the shard's mirrors and repairs
	// those xtsync did not make. It runs in the shard's lane.
	Mirrors Kind = "mirrors"
	// TargetUsers is the target users pass: it reads the target's changes
	// to its users and puts back those xtsync did not make in the users
	// it keeps.
	TargetUsers Kind = "target-users"
)

// withArg are the kinds that take an argument.
func withArg(k Kind) bool {
	return k == Delta || k == SyncShard || k == Renew || k == Recreate || k == Mirrors
}

// Task is one unit of work.
type Task struct {
	Kind Kind
	Arg  string
}

// Of returns the task of kind k with argument arg ("" for the kinds that
// take none).
func Of(k Kind, arg string) Task { return Task{Kind: k, Arg: arg} }

// Key is the task on a queue: its kind, then ":" and its argument.
func (t Task) Key() string {
	if withArg(t.Kind) {
		return string(t.Kind) + ":" + t.Arg
	}
	return string(t.Kind)
}

// Lane is what orders the task with others: the shard key for the work of
// one delta shard (its delta pass, its full sync, its mirror pass), so that
// no two of them run at once (the SQS message group); else the key.
func (t Task) Lane() string {
	switch t.Kind {
	case Delta, SyncShard, Mirrors:
		return "shard:" + t.Arg
	}
	return t.Key()
}

// String is the key.
func (t Task) String() string { return t.Key() }

// ErrPermanent marks work that retrying cannot help (an unknown task, a
// shard of an older scope): the one sentinel both queues act on.
var ErrPermanent = errors.New("permanent failure")

// Retryable reports whether work that failed with err should run again:
// any failure but a permanent one.
func Retryable(err error) bool { return err != nil && !errors.Is(err, ErrPermanent) }

// Parse reads a task from its key; an unknown kind or a missing argument
// is an error wrapping ErrPermanent.
func Parse(key string) (Task, error) {
	kind, arg, hasArg := strings.Cut(key, ":")
	k := Kind(kind)
	switch {
	case withArg(k):
		if !hasArg || arg == "" {
			return Task{}, fmt.Errorf("task %q: %s needs an argument: %w", key, k, ErrPermanent)
		}
		return Task{Kind: k, Arg: arg}, nil
	case k == SyncUnscoped || k == Users || k == TargetUsers || k == Reconcile || k == Subscriptions:
		if hasArg {
			return Task{}, fmt.Errorf("task %q: %s takes no argument: %w", key, k, ErrPermanent)
		}
		return Task{Kind: k}, nil
	}
	return Task{}, fmt.Errorf("unknown task %q: %w", key, ErrPermanent)
}

// MarshalText writes the task as its key (in JSON, a string).
func (t Task) MarshalText() ([]byte, error) { return []byte(t.Key()), nil }

// UnmarshalText reads a task from its key (Parse).
func (t *Task) UnmarshalText(b []byte) error {
	p, err := Parse(string(b))
	if err != nil {
		return err
	}
	*t = p
	return nil
}
