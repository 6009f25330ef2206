package webhook

import "context"

// Subscriptions says which subscriptions are ours.
type Subscriptions interface {
	// Lookup returns the clientState and the tenant id of a subscription xtsync created.
	Lookup(subscriptionID string) (clientState, tenantID string, ok bool)
}

// Sink receives what the webhook accepts. Both calls must be quick (they enqueue).
type Sink interface {
	// Changed reports source groups that changed.
	Changed(ctx context.Context, groupIDs []string) error
	// Lifecycle reports a lifecycle event (reauthorizationRequired, subscriptionRemoved, missed) for a subscription.
	Lifecycle(ctx context.Context, subscriptionID, event string) error
}
