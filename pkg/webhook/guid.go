package webhook

import "strings"

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
	return parseGUID(resource[n:])
}

// parseGUID returns s lowercased when it is a GUID in its canonical
// 8-4-4-4-12 hexadecimal form, without braces.
func parseGUID(s string) (string, bool) {
	if len(s) != 36 {
		return "", false
	}
	upper := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case i == 8 || i == 13 || i == 18 || i == 23:
			if c != '-' {
				return "", false
			}
		case '0' <= c && c <= '9', 'a' <= c && c <= 'f':
		case 'A' <= c && c <= 'F':
			upper = true
		default:
			return "", false
		}
	}
	if upper {
		s = strings.ToLower(s)
	}
	return s, true
}
