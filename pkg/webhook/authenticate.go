package webhook

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"strings"

	"github.com/xtsync/xtsync/pkg/engine"
)

// authenticate checks that an item comes from one of our subscriptions: the
// subscription is known, the clientState is the subscription's and the
// tenant is the subscription's tenant. It returns the subscription.
func (h *Handler) authenticate(ctx context.Context, it *item) (engine.Subscription, reason) {
	if it.malformed {
		return engine.Subscription{}, reasonMalformedItem
	}
	var sub engine.Subscription
	ok := false
	if it.SubscriptionID != "" {
		sub, ok = h.subs.Lookup(ctx, it.SubscriptionID)
	}
	// Compare even for an unknown subscription, so timing does not tell
	// a known subscription id from an unknown one.
	same := sameSecret(it.ClientState, sub.ClientState)
	tenant := sub.TenantID
	switch {
	case !ok:
		return engine.Subscription{}, reasonUnknownSubscription
	case !same:
		return engine.Subscription{}, reasonClientState
	case tenant == "" || !strings.EqualFold(it.TenantID, tenant):
		return engine.Subscription{}, reasonTenant
	case it.ResourceData.OrganizationID != "" && !strings.EqualFold(it.ResourceData.OrganizationID, tenant):
		return engine.Subscription{}, reasonTenant
	}
	return sub, reasonNone
}

// sameSecret compares a received clientState with the expected one in
// constant time. Both are hashed first, so neither the position of the first
// difference nor the expected length shows in the timing
// (subtle.ConstantTimeCompare returns at once on a length mismatch). An
// empty expected value matches nothing.
func sameSecret(got, want string) bool {
	g := sha256.Sum256([]byte(got))
	w := sha256.Sum256([]byte(want))
	return subtle.ConstantTimeCompare(g[:], w[:]) == 1 && want != ""
}
