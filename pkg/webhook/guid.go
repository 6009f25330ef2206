package webhook

import "strings"

// groupResourcePrefix starts the resource of a group notification, matched
// without regard to case ("Groups/", "groups/").
const groupResourcePrefix = "groups/"

// groupFromResource returns the lowercase group id of a resource of the form
// Groups/{guid}, and false for anything else (another resource, a path below
// the group, an id that is not a GUID).
func groupFromResource(resource string) (string, bool) {
	n := len(groupResourcePrefix)
	if len(resource) <= n || !strings.EqualFold(resource[:n], groupResourcePrefix) {
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
