package engine

import (
	"context"
	"time"
)

// Resources xtsync subscribes to on the source tenant besides
// GroupsResource+"/{id}".
const (
	// GroupsResource is the tenant-wide group subscription's resource.
	GroupsResource = "/groups"
	// UsersResource is the users subscription's resource: every user of
	// the tenant.
	UsersResource = "/users"
)

// Subscription is one Microsoft Graph change-notification subscription
// xtsync made: on the source tenant's scoped groups and users, or, with
// Mirrors, on the target tenant's mirrors (its resource then names target
// groups). ClientState is the secret every notification of it carries.
type Subscription struct {
	ID              string    `json:"id"`
	Resource        string    `json:"resource"`
	ChangeType      string    `json:"changeType"`
	NotificationURL string    `json:"notificationUrl"`
	LifecycleURL    string    `json:"lifecycleNotificationUrl"`
	ClientState     string    `json:"clientState"`
	TenantID        string    `json:"tenantId"`
	Expires         time.Time `json:"expires"`
	// Mirrors marks a subscription on the target tenant watching the
	// mirrors: its notifications name target groups (Groups/{id}).
	Mirrors bool `json:"mirrors,omitempty"`
	// Source is, for a subscription on one mirror, its source group.
	Source string `json:"source,omitempty"`
}

// OnUsers reports whether s is the tenant-wide users subscription, whose
// notifications name Users/{id}; the others name Groups/{id}.
func (s Subscription) OnUsers() bool { return s.Resource == UsersResource }

// SubscriptionAPI is Graph's /subscriptions as xtsync uses it.
type SubscriptionAPI interface {
	// Create creates a subscription (Graph validates the endpoints first)
	// and returns it with its id and the expiry Graph granted.
	Create(ctx context.Context, s Subscription) (Subscription, error)
	// Renew moves a subscription's expiry; ErrNotFound when Graph no
	// longer has it.
	Renew(ctx context.Context, id string, expires time.Time) error
	// Delete removes a subscription; ErrNotFound when already gone.
	Delete(ctx context.Context, id string) error
	// List returns every subscription the app holds on the tenant (all
	// pages).
	List(ctx context.Context) ([]Subscription, error)
}
