package engine

// IsGUID reports whether s is a GUID in its canonical 8-4-4-4-12
// hexadecimal form (either case, no braces): the form of every Entra object
// id, checked before an id goes into a URL or a filter.
func IsGUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case i == 8 || i == 13 || i == 18 || i == 23:
			if c != '-' {
				return false
			}
		case '0' <= c && c <= '9', 'a' <= c && c <= 'f', 'A' <= c && c <= 'F':
		default:
			return false
		}
	}
	return true
}
