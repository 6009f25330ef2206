package webhook

import (
	"encoding/json"
	"errors"
)

// item is one element of a notification's "value" array: a change
// notification or a lifecycle notification. Fields xtsync does not use are
// ignored, as Graph may add some.
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

// resourceData is the part of a basic group notification's resourceData
// that is checked against the rest of the item.
type resourceData struct {
	ID             string `json:"id"`
	OrganizationID string `json:"organizationId"`
}

// envelope is the body Graph posts: {"value":[...]}. Other top-level fields
// (Graph adds some, such as validationTokens) are ignored.
type envelope struct {
	Value []item `json:"value"`
}

// lenientItem decodes one element, marking it malformed instead of failing
// the whole body, so one odd item does not make Graph retry a whole batch.
type lenientItem struct{ item }

// UnmarshalJSON decodes an item; it never fails.
func (it *lenientItem) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		it.item = item{} // as in one pass
		return nil
	}
	if len(b) == 0 || b[0] != '{' || json.Unmarshal(b, &it.item) != nil {
		it.item = item{malformed: true}
	}
	return nil
}

// decodeItems decodes a notification body in one pass when every item fits
// the schema, the usual case, and item by item when one does not. It fails
// on malformed JSON and on a "value" that is not an array.
func decodeItems(b []byte) ([]item, error) {
	var env envelope
	err := json.Unmarshal(b, &env)
	if _, typeErr := errors.AsType[*json.UnmarshalTypeError](err); !typeErr {
		return env.Value, err
	}
	var lenient struct {
		Value []lenientItem `json:"value"`
	}
	if err := json.Unmarshal(b, &lenient); err != nil {
		return nil, err
	}
	items := make([]item, len(lenient.Value))
	for i := range lenient.Value {
		items[i] = lenient.Value[i].item
	}
	return items, nil
}
