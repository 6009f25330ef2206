package webhook

import (
	"crypto/sha256"
	"crypto/subtle"
	"strings"
)

// authenticate checks that an item comes from one of our subscriptions: the
// subscription is known, the clientState is the subscription's and the
// tenant is the subscription's tenant.
func (h *Handler) authenticate(it *item) reason {
	if it.malformed {
		return reasonMalformedItem
	}
	var want, tenant string
	ok := false
	if it.SubscriptionID != "" {
		want, tenant, ok = h.subs.Lookup(it.SubscriptionID)
	}
	// Compare even for an unknown subscription, so timing does not tell
	// a known subscription id from an unknown one.
	same := sameSecret(it.ClientState, want)
	switch {
	case !ok:
		return reasonUnknownSubscription
	case !same:
		return reasonClientState
	case tenant == "" || !strings.EqualFold(it.TenantID, tenant):
		return reasonTenant
	case it.ResourceData.OrganizationID != "" && !strings.EqualFold(it.ResourceData.OrganizationID, tenant):
		return reasonTenant
	}
	return reasonNone
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
