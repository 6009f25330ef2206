package engine

import (
	"slices"
	"sort"
	"strings"
)

// UserAttributes are the user properties xtsync can keep equal between a
// source user and the target user it created (sync.user_attributes): string
// properties of the user resource that Graph lets an app write on a
// cloud-only user.
func UserAttributes() []string {
	return []string{"displayName", "givenName", "surname", "jobTitle", "department", "companyName", "officeLocation"}
}

// DefaultUserAttributes are mapped unless configured: all of them.
func DefaultUserAttributes() []string { return UserAttributes() }

// IsUserAttribute reports whether name is one of UserAttributes.
func IsUserAttribute(name string) bool { return slices.Contains(UserAttributes(), name) }

// attrDiff returns the mapped attributes whose target value differs from
// the source's, with the source value ("" clears it). displayName is never
// cleared (Graph requires one).
func attrDiff(names []string, src, dst map[string]string) map[string]string {
	var out map[string]string
	for _, n := range names {
		want, have := src[n], dst[n]
		if want == have || (n == "displayName" && want == "") {
			continue
		}
		if out == nil {
			out = map[string]string{}
		}
		out[n] = want
	}
	return out
}

// attrNames lists a diff's attribute names, sorted, for people.
func attrNames(diff map[string]string) string {
	names := make([]string, 0, len(diff))
	for n := range diff {
		names = append(names, n)
	}
	sort.Strings(names)
	return strings.Join(names, ", ")
}
