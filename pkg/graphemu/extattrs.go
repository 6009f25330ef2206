package graphemu

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"strconv"
	"strings"
	"unicode/utf8"
)

// onPremisesExtensionAttributes on users: extensionAttribute1 ...
// extensionAttribute15, strings of up to 1,024 characters each, returned only
// on $select, writable for cloud-only users (onPremisesSyncEnabled false or
// null), filterable (eq, in) only as an advanced query.
//   https://learn.microsoft.com/en-us/graph/api/resources/onpremisesextensionattributes
//   https://learn.microsoft.com/en-us/graph/api/resources/user (onPremisesExtensionAttributes, onPremisesSyncEnabled)
//   https://learn.microsoft.com/en-us/graph/aad-advanced-queries

const (
	extAttrProp   = "onPremisesExtensionAttributes"
	extAttrCount  = 15
	extAttrMaxLen = 1024
)

// extAttrName is the name of extension attribute n (1 to 15).
func extAttrName(n int) string { return "extensionAttribute" + strconv.Itoa(n) }

// extAttrIndex returns n for "extensionAttributeN" (exact case, 1 to 15), or 0.
func extAttrIndex(name string) int {
	rest, found := strings.CutPrefix(name, "extensionAttribute")
	if !found || rest == "" || rest[0] == '0' {
		return 0
	}
	n, err := strconv.Atoi(rest)
	if err != nil || n < 1 || n > extAttrCount {
		return 0
	}
	return n
}

// extAttrFilterIndex returns n for the filter property
// "onPremisesExtensionAttributes/extensionAttributeN" (case-insensitive, as
// $filter property names are), or 0.
func extAttrFilterIndex(prop string) int {
	parent, child, found := strings.Cut(prop, "/")
	if !found || !strings.EqualFold(parent, extAttrProp) {
		return 0
	}
	rest := lower(child)
	if !strings.HasPrefix(rest, "extensionattribute") {
		return 0
	}
	return extAttrIndex("extensionAttribute" + rest[len("extensionattribute"):])
}

// checkExtAttrs validates stored extension attributes (seed, control API):
// known names, values of at most 1,024 characters.
func checkExtAttrs(attrs map[string]string) error {
	for k, v := range attrs {
		if extAttrIndex(k) == 0 {
			return fmt.Errorf("%s: %q is not extensionAttribute1 to extensionAttribute%d", extAttrProp, k, extAttrCount)
		}
		if n := utf8.RuneCountInString(v); n > extAttrMaxLen {
			return fmt.Errorf("%s.%s: %d characters, more than %d", extAttrProp, k, n, extAttrMaxLen)
		}
	}
	return nil
}

// renderExtAttrs is the onPremisesExtensionAttributes object Graph returns:
// all fifteen keys, null where unset.
func renderExtAttrs(attrs map[string]string) map[string]any {
	out := make(map[string]any, extAttrCount)
	for n := 1; n <= extAttrCount; n++ {
		k := extAttrName(n)
		if v, ok := attrs[k]; ok && v != "" {
			out[k] = v
		} else {
			out[k] = nil
		}
	}
	return out
}

// extAttrPatch is the onPremisesExtensionAttributes of a PATCH or POST body:
// the keys given, a nil value clearing one.
type extAttrPatch map[string]*string

// parseExtAttrPatch reads an onPremisesExtensionAttributes value. Graph's
// wording for these refusals is not documented: they follow the package's
// Request_BadRequest messages for unknown properties and invalid values.
func parseExtAttrPatch(raw json.RawMessage) (extAttrPatch, *graphErr) {
	invalid := func(k string) *graphErr {
		return errf(400, "Request_BadRequest", "Invalid value specified for property '%s' of resource 'User'.", k)
	}
	if bytes.Equal(bytes.TrimSpace(raw), []byte("null")) {
		return nil, invalid(extAttrProp)
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(raw, &fields); err != nil {
		return nil, invalid(extAttrProp)
	}
	out := extAttrPatch{}
	for k, v := range fields {
		if extAttrIndex(k) == 0 {
			return nil, errf(400, "Request_BadRequest", "Property '%s' does not exist as a declared property or extension property.", k)
		}
		var s *string
		if err := json.Unmarshal(v, &s); err != nil {
			return nil, invalid(k)
		}
		if s != nil && utf8.RuneCountInString(*s) > extAttrMaxLen {
			return nil, invalid(k)
		}
		out[k] = s
	}
	return out, nil
}

// errSyncedUser is Graph's answer to a write of on-premises-mastered
// properties of a synced user (observed, e.g.
// https://github.com/microsoftgraph/microsoft-graph-docs/issues/18038 and
// https://github.com/microsoftgraph/microsoft-graph-docs/issues/7301).
func errSyncedUser() *graphErr {
	return errf(400, "Request_BadRequest", "Unable to update the specified properties for on-premises mastered Directory Sync objects or objects currently undergoing migration.")
}

// apply sets the given keys of u's extension attributes; nil or "" clears one.
func (p extAttrPatch) apply(u *User) {
	if len(p) == 0 {
		return
	}
	next := maps.Clone(u.ExtensionAttributes)
	if next == nil {
		next = map[string]string{}
	}
	for k, v := range p {
		if v == nil || *v == "" {
			delete(next, k)
		} else {
			next[k] = *v
		}
	}
	if len(next) == 0 {
		next = nil
	}
	u.ExtensionAttributes = next
}
