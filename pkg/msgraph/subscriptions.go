package msgraph

import (
	"context"
	"fmt"
	"time"

	"github.com/microsoftgraph/msgraph-sdk-go/models"

	"github.com/xtsync/xtsync/pkg/engine"
)

var _ engine.SubscriptionAPI = (*SubscriptionAPI)(nil)

// SubscriptionAPI is Graph's /subscriptions on one tenant.
type SubscriptionAPI struct{ c *Client }

// NewSubscriptionAPI wraps a signed-in client of the source tenant.
func NewSubscriptionAPI(c *Client) *SubscriptionAPI { return &SubscriptionAPI{c: c} }

// Create creates a subscription; Graph validates both endpoints first.
func (s *SubscriptionAPI) Create(ctx context.Context, in engine.Subscription) (engine.Subscription, error) {
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
		return engine.Subscription{}, wrap(err, "create subscription for %s", in.Resource)
	}
	in.ID = str(out.GetId())
	if e := out.GetExpirationDateTime(); e != nil {
		in.Expires = *e
	}
	if in.ID == "" {
		return engine.Subscription{}, fmt.Errorf("create subscription for %s: answer has no id", in.Resource)
	}
	return in, nil
}

// Renew moves a subscription's expiry.
func (s *SubscriptionAPI) Renew(ctx context.Context, id string, expires time.Time) error {
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
func (s *SubscriptionAPI) Delete(ctx context.Context, id string) error {
	if !engine.IsGUID(id) {
		return fmt.Errorf("subscription id %q is not a GUID", id)
	}
	return wrap(s.c.sdk.Subscriptions().BySubscriptionId(id).Delete(ctx, nil), "delete subscription %s", id)
}

// List returns the subscriptions the app holds on the tenant, following
// @odata.nextLink.
func (s *SubscriptionAPI) List(ctx context.Context) ([]engine.Subscription, error) {
	var out []engine.Subscription
	resp, err := s.c.sdk.Subscriptions().Get(ctx, nil)
	for {
		if err != nil {
			return nil, wrap(err, "list subscriptions")
		}
		for _, v := range resp.GetValue() {
			sub := engine.Subscription{
				ID: str(v.GetId()), Resource: str(v.GetResource()), ChangeType: str(v.GetChangeType()),
				NotificationURL: str(v.GetNotificationUrl()), LifecycleURL: str(v.GetLifecycleNotificationUrl()),
			}
			if e := v.GetExpirationDateTime(); e != nil {
				sub.Expires = *e
			}
			out = append(out, sub)
		}
		link := resp.GetOdataNextLink()
		if link == nil {
			return out, nil
		}
		resp, err = s.c.sdk.Subscriptions().WithUrl(*link).Get(ctx, nil)
	}
}
