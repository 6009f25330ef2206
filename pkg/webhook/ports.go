package webhook

import (
	"context"

	"github.com/xtsync/xtsync/pkg/engine"
)

// SubscriptionLookup says which subscriptions are ours: a notification is
// checked against the clientState and tenant of the one it names, and a
// subscription on engine.UsersResource names users, the others groups.
type SubscriptionLookup interface {
	// Lookup returns a subscription xtsync created, and false for any other
	// id. ctx is the request's context, bounding any I/O the lookup does.
	Lookup(ctx context.Context, subscriptionID string) (engine.Subscription, bool)
}

// Sink receives what the webhook accepts. Every call must be quick (they enqueue).
type Sink interface {
	// Changed reports source groups that changed.
	Changed(ctx context.Context, groupIDs []string) error
	// UsersChanged reports source users that changed or were deleted.
	UsersChanged(ctx context.Context, userIDs []string) error
	// Lifecycle reports a lifecycle event (reauthorizationRequired, subscriptionRemoved, missed) for a subscription.
	Lifecycle(ctx context.Context, subscriptionID, event string) error
}
