package msgraph

import (
	"context"
	"fmt"
	"time"

	"github.com/microsoftgraph/msgraph-sdk-go/models"

	"github.com/xtsync/xtsync/pkg/subscribe"

	"github.com/xtsync/xtsync/pkg/engine"
)

var _ subscribe.Graph = (*Subscriptions)(nil)

// Subscriptions manages change-notification subscriptions on a tenant.
type Subscriptions struct{ c *Client }

// NewSubscriptions wraps a signed-in client of the source tenant.
func NewSubscriptions(c *Client) *Subscriptions { return &Subscriptions{c: c} }

// Create creates a subscription; Graph validates both endpoints first.
func (s *Subscriptions) Create(ctx context.Context, in subscribe.Subscription) (subscribe.Subscription, error) {
	sub := models.NewSubscription()
	sub.SetResource(&in.Resource)
	sub.SetChangeType(&in.ChangeType)
	sub.SetNotificationUrl(&in.NotificationURL)
	if in.LifecycleURL != "" {
		sub.SetLifecycleNotificationUrl(&in.LifecycleURL)
	}
	sub.SetClientState(&in.ClientState)
	exp := in.Expires.UTC()
	sub.SetExpirationDateTime(&exp)
	out, err := s.c.sdk.Subscriptions().Post(ctx, sub, nil)
	if err != nil {
		return subscribe.Subscription{}, wrap(err, "create subscription for %s", in.Resource)
	}
	in.ID = str(out.GetId())
	if e := out.GetExpirationDateTime(); e != nil {
		in.Expires = *e
	}
	if in.ID == "" {
		return subscribe.Subscription{}, fmt.Errorf("create subscription for %s: answer has no id", in.Resource)
	}
	return in, nil
}

// Renew moves a subscription's expiry.
func (s *Subscriptions) Renew(ctx context.Context, id string, expires time.Time) error {
	if !engine.IsGUID(id) {
		return fmt.Errorf("subscription id %q is not a GUID", id)
	}
	sub := models.NewSubscription()
	exp := expires.UTC()
	sub.SetExpirationDateTime(&exp)
	_, err := s.c.sdk.Subscriptions().BySubscriptionId(id).Patch(ctx, sub, nil)
	return wrap(err, "renew subscription %s", id)
}

// Delete removes a subscription.
func (s *Subscriptions) Delete(ctx context.Context, id string) error {
	if !engine.IsGUID(id) {
		return fmt.Errorf("subscription id %q is not a GUID", id)
	}
	return wrap(s.c.sdk.Subscriptions().BySubscriptionId(id).Delete(ctx, nil), "delete subscription %s", id)
}
