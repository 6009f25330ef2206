package webhook

// item is one element of a notification's "value" array: a change
// notification or a lifecycle notification. Only the fields below are kept:
// the decoder skips every other field (Graph may add some) without keeping
// it, so an item holds at most its own strings, which the body limit caps.
type item struct {
	SubscriptionID string       `json:"subscriptionId"`
	ClientState    string       `json:"clientState"`
	TenantID       string       `json:"tenantId"`
	ChangeType     string       `json:"changeType"`
	Resource       string       `json:"resource"`
	ResourceData   resourceData `json:"resourceData"`
	LifecycleEvent string       `json:"lifecycleEvent"`

	// malformed marks an element that does not fit the fields above (a
	// number where a string belongs, an element that is not an object).
	// A null element decodes as an empty item, like {}.
	malformed bool
}

// resourceData is the part of a basic group or user notification's
// resourceData that is checked against the rest of the item.
type resourceData struct {
	ID             string `json:"id"`
	OrganizationID string `json:"organizationId"`
}

// skipValue is a decoding target that keeps nothing: a top-level field
// xtsync does not use is checked for syntax by the decoder and dropped,
// without a copy.
type skipValue struct{}

// UnmarshalJSON ignores the value.
func (*skipValue) UnmarshalJSON([]byte) error { return nil }
