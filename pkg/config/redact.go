package config

import (
	"fmt"
	"github.com/xtsync/xtsync/pkg/engine"
	"net/url"
	"regexp"
	"strings"
	"unicode/utf8"
)

// Shapes a mistyped id can have; none of the descriptions built from them
// repeats the value.
var (
	guidShapeRE = regexp.MustCompile(`^[0-9A-Za-z]{8}-[0-9A-Za-z]{4}-[0-9A-Za-z]{4}-[0-9A-Za-z]{4}-[0-9A-Za-z]{12}$`)
	hex32RE     = regexp.MustCompile(`^[0-9a-fA-F]{32}$`)
)

// describe is what an error may say about a value that could be a secret:
// its length, never its text.
func describe(v string) string {
	n := utf8.RuneCountInString(v)
	switch n {
	case 0:
		return "an empty value"
	case 1:
		return "a 1-character value"
	}
	return fmt.Sprintf("a %d-character value", n)
}

// notGUID explains why v is not a GUID without repeating it; fix says what
// the key should hold (e.g. "the Directory (tenant) ID").
func notGUID(v, fix string) string {
	var why string
	trimmed := strings.TrimSpace(v)
	switch {
	case v == "":
		return fmt.Sprintf("is empty; want %s, 8-4-4-4-12 hex digits", fix)
	case trimmed != v && engine.IsGUID(trimmed):
		why = "a GUID with spaces around it; remove them"
	case len(trimmed) > 2 && (trimmed[0] == '{' && trimmed[len(trimmed)-1] == '}' || trimmed[0] == '(' && trimmed[len(trimmed)-1] == ')') && engine.IsGUID(trimmed[1:len(trimmed)-1]):
		why = "a GUID in braces; write it without them"
	case hex32RE.MatchString(v):
		why = "32 hex digits without the dashes; write them 8-4-4-4-12"
	case guidShapeRE.MatchString(v):
		why = "shaped like a GUID but with characters other than 0-9 and a-f; a typo?"
	case strings.Contains(v, "~") && len(v) >= 30:
		why = describe(v) + " that looks like a client secret, not an ID"
	case strings.Contains(v, "$"):
		why = describe(v) + " with a '$': write an environment reference as ${NAME}"
	default:
		why = describe(v)
	}
	return fmt.Sprintf("is not a GUID (%s; %s is 8-4-4-4-12 hex digits)", why, fix)
}

// printableURL is v without any user info, query and fragment, for an
// error message; redacted says something was removed. ok is false when v is
// not scheme://host... at all: it is then not shown, as it could be
// anything, a misplaced secret included.
func printableURL(v string) (shown string, redacted, ok bool) {
	u, err := url.Parse(v)
	if err != nil || u.Scheme == "" || u.Host == "" || u.Opaque != "" {
		return "", false, false
	}
	shown = (&url.URL{Scheme: u.Scheme, Host: u.Host, Path: u.Path}).String()
	return shown, u.User != nil || u.RawQuery != "" || u.ForceQuery || u.Fragment != "", true
}

// urlSubject is how an error refers to the URL v: quoted when it can be
// shown (without credentials or query), else described.
func urlSubject(v string) string {
	s, redacted, ok := printableURL(v)
	switch {
	case !ok:
		return "the value (" + describe(v) + ", not scheme://host/...)"
	case redacted:
		return fmt.Sprintf("%q (its credentials, query and fragment not shown)", s)
	default:
		return fmt.Sprintf("%q", s)
	}
}
