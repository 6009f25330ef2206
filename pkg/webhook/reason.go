package webhook

// Reasons an item is rejected, the keys of Stats.Rejected.
const (
	// ReasonMalformedItem means the item is not an object or a field has the wrong type.
	ReasonMalformedItem = "malformed_item"
	// ReasonUnknownSubscription means no subscription of ours has the item's subscriptionId.
	ReasonUnknownSubscription = "unknown_subscription"
	// ReasonClientState means the item's clientState is not the subscription's.
	ReasonClientState = "client_state"
	// ReasonTenant means the item's tenantId (or resourceData.organizationId) is not the subscription's tenant.
	ReasonTenant = "tenant"
	// ReasonChangeType means the changeType is neither "updated" nor "deleted".
	ReasonChangeType = "change_type"
	// ReasonResource means the resource is not Groups/{guid} (Users/{guid} for
	// the users subscription), or resourceData.id names another object.
	ReasonResource = "resource"
	// ReasonOutOfScope means the group is not synced, or, for a mirrors
	// subscription, the target group is not a mirror (Config.MirrorOf). The
	// item is authentic, so this one is logged at debug level, not as a
	// security event.
	ReasonOutOfScope = "out_of_scope"
	// ReasonLifecycleEvent means the lifecycleEvent is not reauthorizationRequired, subscriptionRemoved or missed.
	ReasonLifecycleEvent = "lifecycle_event"
)

// reason indexes the rejection counters; reasonNone means accepted.
type reason uint8

const (
	reasonNone reason = iota
	reasonMalformedItem
	reasonUnknownSubscription
	reasonClientState
	reasonTenant
	reasonChangeType
	reasonResource
	reasonOutOfScope
	reasonLifecycleEvent
	numReasons
)

// String returns the reason's Stats.Rejected key.
func (r reason) String() string {
	switch r {
	case reasonMalformedItem:
		return ReasonMalformedItem
	case reasonUnknownSubscription:
		return ReasonUnknownSubscription
	case reasonClientState:
		return ReasonClientState
	case reasonTenant:
		return ReasonTenant
	case reasonChangeType:
		return ReasonChangeType
	case reasonResource:
		return ReasonResource
	case reasonOutOfScope:
		return ReasonOutOfScope
	case reasonLifecycleEvent:
		return ReasonLifecycleEvent
	}
	return "none"
}
