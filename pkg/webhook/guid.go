package webhook

import (
	"strings"

	"github.com/xtsync/xtsync/pkg/engine"
)

// Resource prefixes of group and user notifications, matched without regard
// to case ("Groups/", "groups/", "Users/").
const (
	groupResourcePrefix = "groups/"
	userResourcePrefix  = "users/"
)

// idFromResource returns the lowercase object id of a resource of the form
// prefix{guid} (prefix matched without regard to case), and false for
// anything else (another resource, a path below the object, an id that is
// not a GUID).
func idFromResource(resource, prefix string) (string, bool) {
	n := len(prefix)
	if len(resource) <= n || !strings.EqualFold(resource[:n], prefix) {
		return "", false
	}
	id := resource[n:]
	if !engine.IsGUID(id) {
		return "", false
	}
	return strings.ToLower(id), true
}
