package webhook

import (
	"context"

	"github.com/xtsync/xtsync/pkg/engine"
)

// SubscriptionLookup says which subscriptions are ours: a notification is
// checked against the clientState and tenant of the one it names. A
// subscription on engine.UsersResource names source users, one with Mirrors
// (on the target tenant) names target groups, the mirrors, and the others
// name source groups. Lifecycle notifications name the subscription too, so
// the lookup must know every kind.
type SubscriptionLookup interface {
	// Lookup returns a subscription xtsync created, and false for any other
	// id. ctx is the request's context, bounding any I/O the lookup does.
	Lookup(ctx context.Context, subscriptionID string) (engine.Subscription, bool)
}

// UnsureLookup is a SubscriptionLookup that may not know yet a
// subscription made moments ago: its creation still in flight (Graph
// notifies before the creating request has its answer), or its list not
// reloaded yet. For an id it does not know, Unsure reports whether that may
// be the case; the webhook then answers 503, so that Graph delivers the
// notification again later, instead of dropping it.
type UnsureLookup interface {
	SubscriptionLookup
	Unsure(ctx context.Context, subscriptionID string) bool
}

// Sink receives what the webhook accepts. Every call must be quick (they enqueue).
type Sink interface {
	// Changed reports source groups that changed, deduplicated and sorted.
	Changed(ctx context.Context, groupIDs []string) error
	// UsersChanged reports source users that changed or were deleted,
	// deduplicated and sorted.
	UsersChanged(ctx context.Context, userIDs []string) error
	// MirrorsChanged reports mirrors that changed in the target tenant, by
	// the ids of their source groups (Config.MirrorOf), deduplicated and
	// sorted.
	MirrorsChanged(ctx context.Context, sourceGroupIDs []string) error
	// TargetUsersChanged reports target users that changed or were
	// deleted in the target tenant (from a mirrors subscription on
	// /users), deduplicated and sorted.
	TargetUsersChanged(ctx context.Context, targetUserIDs []string) error
	// Lifecycle reports a lifecycle event (reauthorizationRequired, subscriptionRemoved, missed) for a subscription.
	Lifecycle(ctx context.Context, subscriptionID, event string) error
}
