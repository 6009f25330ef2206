package webhook

import "context"

// Subscription is what the webhook checks a notification against: one of
// the subscriptions xtsync created.
type Subscription struct {
	// ClientState is the secret every notification of the subscription
	// carries; an empty one matches nothing.
	ClientState string
	// TenantID is the tenant the subscription watches.
	TenantID string
	// Users marks the tenant-wide /users subscription, whose notifications
	// name Users/{id}; the others are group subscriptions (Groups/{id}).
	Users bool
}

// Subscriptions says which subscriptions are ours.
type Subscriptions interface {
	// Lookup returns a subscription xtsync created, and false for any other
	// id. ctx is the request's context, bounding any I/O the lookup does.
	Lookup(ctx context.Context, subscriptionID string) (Subscription, bool)
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
