package msgraph

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"
)

// A member page is decoded in one pass over its bytes (pageScanner) rather
// than through encoding/json, whose Decoder scanned each member twice (once
// to find its end, once to decode it) and set its fields by reflection: that
// was most of the CPU of a member listing.
//
// The scanner reads what encoding/json read into memberJSON, and errs where
// it erred (members_test.go keeps the encoding/json decoding as the
// reference and compares the two on the samples, every cut of them and in
// FuzzMemberPage):
//   - the syntax is checked as encoding/json's scanner checks it, skipped
//     values included, nesting at most maxDepth deep;
//   - a property of a member is matched by its exact name, else by its name
//     case-insensitively (Unicode simple folding, as encoding/json); the
//     page's own properties (value, @odata.nextLink) by their exact names
//     only, as json.Decoder's Token read them;
//   - a null leaves a string unchanged, a repeated property overrides (an
//     object's properties merge);
//   - strings are unquoted as encoding/json unquotes them: invalid UTF-8
//     and lone surrogates become U+FFFD;
//   - what follows the page's object is not read.
//
// The errors say where: "value[3]: mail: want a string, got number",
// "offset 1042: invalid character 'x' looking for beginning of value", and a
// page cut short wraps io.ErrUnexpectedEOF.

// maxDepth is how deep encoding/json lets values nest, counting from the
// value it decodes (a member, or a property of the page).
const maxDepth = 10000

// pageScanner reads a JSON page held in memory, one value at a time.
type pageScanner struct {
	data []byte
	pos  int
	// buf holds the last string unquoted (one with escapes or non-ASCII
	// bytes).
	buf []byte
}

// eof is the error of a page cut short.
func (sc *pageScanner) eof() error {
	return fmt.Errorf("offset %d: %w", len(sc.data), io.ErrUnexpectedEOF)
}

// syntaxError is the error of the byte at pos, worded as encoding/json's.
func (sc *pageScanner) syntaxError(context string) error {
	return fmt.Errorf("offset %d: invalid character %s %s", sc.pos, quoteChar(sc.data[sc.pos]), context)
}

// quoteChar formats a byte as encoding/json's errors do.
func quoteChar(c byte) string {
	switch c {
	case '\'':
		return `'\''`
	case '"':
		return `'"'`
	}
	s := strconv.Quote(string(rune(c)))
	return "'" + s[1:len(s)-1] + "'"
}

// peek skips whitespace and returns the next byte, not taking it.
func (sc *pageScanner) peek() (byte, error) {
	for sc.pos < len(sc.data) {
		switch c := sc.data[sc.pos]; c {
		case ' ', '\t', '\n', '\r':
			sc.pos++
		default:
			return c, nil
		}
	}
	return 0, sc.eof()
}

// nextKey moves to the next property of the object being read (first: none
// read yet), taking its key and colon: it returns the unquoted key, valid
// until the next string is read, or more false after taking the closing
// brace.
func (sc *pageScanner) nextKey(first bool) (key []byte, more bool, err error) {
	c, err := sc.peek()
	switch {
	case err != nil:
		return nil, false, err
	case c == '}':
		sc.pos++
		return nil, false, nil
	case !first && c != ',':
		return nil, false, sc.syntaxError("after object key:value pair")
	case !first:
		sc.pos++
		if c, err = sc.peek(); err != nil {
			return nil, false, err
		}
	}
	if c != '"' {
		return nil, false, sc.syntaxError("looking for beginning of object key string")
	}
	if key, err = sc.str(); err != nil {
		return nil, false, err
	}
	if c, err = sc.peek(); err != nil {
		return nil, false, err
	}
	if c != ':' {
		return nil, false, sc.syntaxError("after object key")
	}
	sc.pos++
	return key, true, nil
}

// nextElem moves to the next element of the array being read (first: none
// read yet), taking the comma before it: more is false after taking the
// closing bracket.
func (sc *pageScanner) nextElem(first bool) (more bool, err error) {
	c, err := sc.peek()
	switch {
	case err != nil:
		return false, err
	case c == ']':
		sc.pos++
		return false, nil
	case first:
		return true, nil
	case c != ',':
		return false, sc.syntaxError("after array element")
	}
	sc.pos++ // a value must follow: what is there is the element's error
	return true, nil
}

// str takes the string at pos and returns it unquoted, valid until the next
// string is read.
func (sc *pageScanner) str() ([]byte, error) {
	raw, plain, err := sc.rawString()
	if err != nil || plain {
		return raw, err
	}
	sc.buf = appendUnquoted(sc.buf[:0], raw)
	return sc.buf, nil
}

// rawString takes the string at pos (its opening quote), checking its
// syntax; it returns the bytes between the quotes, and plain: whether they
// are the string (no escapes, ASCII only).
func (sc *pageScanner) rawString() (raw []byte, plain bool, err error) {
	start := sc.pos + 1
	plain = true
	for i := start; i < len(sc.data); i++ {
		switch c := sc.data[i]; {
		case c == '"':
			sc.pos = i + 1
			return sc.data[start:i], plain, nil
		case c == '\\':
			plain = false
			sc.pos = i
			n, err := sc.escape()
			if err != nil {
				return nil, false, err
			}
			i += n - 1
		case c < ' ':
			sc.pos = i
			return nil, false, sc.syntaxError("in string literal")
		case c >= utf8.RuneSelf:
			plain = false
		}
	}
	return nil, false, sc.eof()
}

// escape checks the escape at pos (its backslash) and returns its length.
func (sc *pageScanner) escape() (int, error) {
	start := sc.pos
	if sc.pos++; sc.pos >= len(sc.data) {
		return 0, sc.eof()
	}
	switch sc.data[sc.pos] {
	case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
		return 2, nil
	case 'u':
	default:
		return 0, sc.syntaxError("in string escape code")
	}
	for range 4 {
		if sc.pos++; sc.pos >= len(sc.data) {
			return 0, sc.eof()
		}
		if _, isHex := hexDigit(sc.data[sc.pos]); !isHex {
			return 0, sc.syntaxError("in \\u hexadecimal character escape")
		}
	}
	return sc.pos + 1 - start, nil
}

// hexDigit is the value of a hexadecimal digit.
func hexDigit(c byte) (rune, bool) {
	switch {
	case '0' <= c && c <= '9':
		return rune(c - '0'), true
	case 'a' <= c && c <= 'f':
		return rune(c - 'a' + 10), true
	case 'A' <= c && c <= 'F':
		return rune(c - 'A' + 10), true
	}
	return 0, false
}

// u4 reads the \uXXXX escape s starts with, if it does (-1 otherwise).
func u4(s []byte) rune {
	if len(s) < 6 || s[0] != '\\' || s[1] != 'u' {
		return -1
	}
	var r rune
	for _, c := range s[2:6] {
		d, isHex := hexDigit(c)
		if !isHex {
			return -1
		}
		r = r*16 + d
	}
	return r
}

// appendUnquoted appends the string whose checked bytes between the quotes
// are s, unquoted as encoding/json unquotes: a surrogate pair of escapes
// is one rune, a lone surrogate and invalid UTF-8 are U+FFFD.
func appendUnquoted(dst, s []byte) []byte {
	for r := 0; r < len(s); {
		switch c := s[r]; {
		case c == '\\' && s[r+1] == 'u':
			rr := u4(s[r:])
			r += 6
			if utf16.IsSurrogate(rr) {
				if dec := utf16.DecodeRune(rr, u4(s[r:])); dec != unicode.ReplacementChar {
					dst = utf8.AppendRune(dst, dec)
					r += 6
					break
				}
				rr = unicode.ReplacementChar
			}
			dst = utf8.AppendRune(dst, rr)
		case c == '\\':
			dst = append(dst, unescape(s[r+1]))
			r += 2
		case c < utf8.RuneSelf:
			dst = append(dst, c)
			r++
		default:
			rr, n := utf8.DecodeRune(s[r:])
			dst = utf8.AppendRune(dst, rr)
			r += n
		}
	}
	return dst
}

// unescape is the byte a one-letter escape stands for.
func unescape(c byte) byte {
	switch c {
	case 'b':
		return '\b'
	case 'f':
		return '\f'
	case 'n':
		return '\n'
	case 'r':
		return '\r'
	case 't':
		return '\t'
	}
	return c // ", \ and /
}

// literal takes the literal word (true, false or null) at pos.
func (sc *pageScanner) literal(word string) error {
	for i := range len(word) {
		if sc.pos >= len(sc.data) {
			return sc.eof()
		}
		if sc.data[sc.pos] != word[i] {
			return sc.syntaxError(fmt.Sprintf("in literal %s (expecting %s)", word, quoteChar(word[i])))
		}
		sc.pos++
	}
	return nil
}

// number takes the number at pos, checking its syntax.
func (sc *pageScanner) number() error {
	if sc.data[sc.pos] == '-' {
		sc.pos++
	}
	if sc.pos >= len(sc.data) {
		return sc.eof()
	}
	switch c := sc.data[sc.pos]; {
	case c == '0':
		sc.pos++
	case '1' <= c && c <= '9':
		sc.digits()
	default:
		return sc.syntaxError("in numeric literal")
	}
	if sc.pos < len(sc.data) && sc.data[sc.pos] == '.' {
		sc.pos++
		if err := sc.someDigits("after decimal point in numeric literal"); err != nil {
			return err
		}
	}
	if sc.pos < len(sc.data) && (sc.data[sc.pos] == 'e' || sc.data[sc.pos] == 'E') {
		sc.pos++
		if sc.pos < len(sc.data) && (sc.data[sc.pos] == '+' || sc.data[sc.pos] == '-') {
			sc.pos++
		}
		if err := sc.someDigits("in exponent of numeric literal"); err != nil {
			return err
		}
	}
	return nil
}

// someDigits takes one digit or more (context words the error of none).
func (sc *pageScanner) someDigits(context string) error {
	switch {
	case sc.pos >= len(sc.data):
		return sc.eof()
	case sc.data[sc.pos] < '0' || sc.data[sc.pos] > '9':
		return sc.syntaxError(context)
	}
	sc.digits()
	return nil
}

// digits takes the digits at pos.
func (sc *pageScanner) digits() {
	for sc.pos < len(sc.data) && '0' <= sc.data[sc.pos] && sc.data[sc.pos] <= '9' {
		sc.pos++
	}
}

// skipValue takes the value at pos, checking its syntax; depth is how many
// objects and arrays hold it.
func (sc *pageScanner) skipValue(depth int) error {
	c, err := sc.peek()
	if err != nil {
		return err
	}
	switch {
	case c == '"':
		_, _, err := sc.rawString()
		return err
	case c == '{' || c == '[':
		if depth >= maxDepth {
			return sc.syntaxError("exceeded max depth")
		}
		sc.pos++
		if c == '{' {
			return sc.skipObject(depth + 1)
		}
		return sc.skipArray(depth + 1)
	case c == 't':
		return sc.literal("true")
	case c == 'f':
		return sc.literal("false")
	case c == 'n':
		return sc.literal("null")
	case c == '-' || '0' <= c && c <= '9':
		return sc.number()
	}
	return sc.syntaxError("looking for beginning of value")
}

// skipObject takes the rest of an object after its opening brace; depth
// counts it.
func (sc *pageScanner) skipObject(depth int) error {
	for first := true; ; first = false {
		_, more, err := sc.nextKey(first)
		if err != nil || !more {
			return err
		}
		if err := sc.skipValue(depth); err != nil {
			return err
		}
	}
}

// skipArray takes the rest of an array after its opening bracket; depth
// counts it.
func (sc *pageScanner) skipArray(depth int) error {
	for first := true; ; first = false {
		more, err := sc.nextElem(first)
		if err != nil || !more {
			return err
		}
		if err := sc.skipValue(depth); err != nil {
			return err
		}
	}
}

// wrongType takes the value at pos, which is not of the type wanted (it
// starts with none of its bytes), and returns the error saying so, or the
// value's syntax error; depth is how many objects and arrays hold it.
func (sc *pageScanner) wrongType(want string, depth int) error {
	c := sc.data[sc.pos]
	if err := sc.skipValue(depth); err != nil {
		return err
	}
	got := "number"
	switch c {
	case '"':
		got = "string"
	case '{':
		got = "object"
	case '[':
		got = "array"
	case 't', 'f':
		got = "boolean"
	case 'n':
		got = "null"
	}
	return fmt.Errorf("want %s, got %s", want, got)
}

// stringInto takes a string or null at pos into *p (a null leaves it);
// depth is how many objects and arrays hold it.
func (sc *pageScanner) stringInto(p *string, depth int) error {
	c, err := sc.peek()
	switch {
	case err != nil:
		return err
	case c == '"':
		s, err := sc.str()
		if err != nil {
			return err
		}
		*p = string(s)
		return nil
	case c == 'n':
		return sc.literal("null")
	}
	return sc.wrongType("a string", depth)
}

// page reads a page ({"value": [...], "@odata.nextLink": ...}, in any
// order, other properties skipped), calling item for each element of value
// with pos on it: item must take it. It returns the next link ("" on the
// last page).
func (sc *pageScanner) page(item func() error) (string, error) {
	c, err := sc.peek()
	if err != nil {
		return "", err
	}
	if c != '{' {
		return "", fmt.Errorf("page: %w", sc.wrongType("an object", 0))
	}
	sc.pos++
	var next string
	for first := true; ; first = false {
		key, more, err := sc.nextKey(first)
		if err != nil {
			return "", err
		}
		if !more {
			return next, nil
		}
		switch string(key) {
		case "@odata.nextLink":
			if err := sc.stringInto(&next, 0); err != nil {
				return "", fmt.Errorf("@odata.nextLink: %w", err)
			}
		case "value":
			if err := sc.values(item); err != nil {
				return "", err
			}
		default:
			if err := sc.skipValue(0); err != nil {
				return "", err
			}
		}
	}
}

// values reads the value array of a page (null: no elements).
func (sc *pageScanner) values(item func() error) error {
	c, err := sc.peek()
	switch {
	case err != nil:
		return fmt.Errorf("value: %w", err)
	case c == 'n':
		if err := sc.literal("null"); err != nil {
			return fmt.Errorf("value: %w", err)
		}
		return nil
	case c != '[':
		return fmt.Errorf("value: %w", sc.wrongType("an array", 0))
	}
	sc.pos++
	for i := 0; ; i++ {
		more, err := sc.nextElem(i == 0)
		if err != nil {
			return fmt.Errorf("value: %w", err)
		}
		if !more {
			return nil
		}
		if err := item(); err != nil {
			return fmt.Errorf("value[%d]: %w", i, err)
		}
	}
}

// memberField names a property of memberJSON.
type memberField int

// The properties of memberJSON.
const (
	fieldUnknown memberField = iota
	fieldType
	fieldID
	fieldDisplayName
	fieldMail
	fieldUserPrincipalName
	fieldUserType
	fieldAccountEnabled
	fieldGivenName
	fieldSurname
	fieldJobTitle
	fieldDepartment
	fieldCompanyName
	fieldOfficeLocation
	fieldExt
	fieldCount
)

// memberFieldNames are the JSON names of memberJSON's properties.
var memberFieldNames = [fieldCount]string{
	fieldUnknown: "", fieldType: "@odata.type", fieldID: "id", fieldDisplayName: "displayName", fieldMail: "mail",
	fieldUserPrincipalName: "userPrincipalName", fieldUserType: "userType", fieldAccountEnabled: "accountEnabled",
	fieldGivenName: "givenName", fieldSurname: "surname", fieldJobTitle: "jobTitle", fieldDepartment: "department",
	fieldCompanyName: "companyName", fieldOfficeLocation: "officeLocation", fieldExt: "onPremisesExtensionAttributes",
}

// memberFieldOf is the property a key names: the one with that exact name,
// else the one with that name but for case (as encoding/json matches).
func memberFieldOf(key []byte) memberField {
	switch string(key) {
	case "@odata.type":
		return fieldType
	case "id":
		return fieldID
	case "displayName":
		return fieldDisplayName
	case "mail":
		return fieldMail
	case "userPrincipalName":
		return fieldUserPrincipalName
	case "userType":
		return fieldUserType
	case "accountEnabled":
		return fieldAccountEnabled
	case "givenName":
		return fieldGivenName
	case "surname":
		return fieldSurname
	case "jobTitle":
		return fieldJobTitle
	case "department":
		return fieldDepartment
	case "companyName":
		return fieldCompanyName
	case "officeLocation":
		return fieldOfficeLocation
	case "onPremisesExtensionAttributes":
		return fieldExt
	}
	return memberField(foldedIndex(key, memberFieldNames[1:]) + 1)
}

// foldedIndex is the index of the name equal to key but for case, -1 for
// none.
func foldedIndex(key []byte, names []string) int {
	k := string(key)
	for i, name := range names {
		if strings.EqualFold(k, name) {
			return i
		}
	}
	return -1
}

// stringField is the string property f of o (nil for the others).
func (o *memberJSON) stringField(f memberField) *string {
	switch f {
	case fieldType:
		return &o.Type
	case fieldID:
		return &o.ID
	case fieldDisplayName:
		return &o.DisplayName
	case fieldMail:
		return &o.Mail
	case fieldUserPrincipalName:
		return &o.UserPrincipalName
	case fieldUserType:
		return &o.UserType
	case fieldGivenName:
		return &o.GivenName
	case fieldSurname:
		return &o.Surname
	case fieldJobTitle:
		return &o.JobTitle
	case fieldDepartment:
		return &o.Department
	case fieldCompanyName:
		return &o.CompanyName
	case fieldOfficeLocation:
		return &o.OfficeLocation
	}
	return nil
}

// member reads the element at pos into o (zero): an object, not null.
func (sc *pageScanner) member(o *memberJSON) error {
	c, err := sc.peek()
	switch {
	case err != nil:
		return err
	case c == 'n':
		if err := sc.literal("null"); err != nil {
			return err
		}
		return errNullElement
	case c != '{':
		return sc.wrongType("an object", 0)
	}
	sc.pos++
	for first := true; ; first = false {
		key, more, err := sc.nextKey(first)
		if err != nil || !more {
			return err
		}
		f := memberFieldOf(key)
		if err := sc.memberValue(o, f); err != nil {
			if f == fieldUnknown {
				return err
			}
			return fmt.Errorf("%s: %w", memberFieldNames[f], err)
		}
	}
}

// memberValue reads the value at pos into o's property f (skipping it when
// unknown).
func (sc *pageScanner) memberValue(o *memberJSON, f memberField) error {
	switch f {
	case fieldUnknown:
		return sc.skipValue(1)
	case fieldType:
		return sc.typeInto(&o.Type)
	case fieldAccountEnabled:
		return sc.disabledInto(&o.Disabled)
	case fieldExt:
		return sc.extInto(&o.Ext)
	}
	return sc.stringInto(o.stringField(f), 1)
}

// typeInto reads @odata.type into *p, the user and group types without a
// copy.
func (sc *pageScanner) typeInto(p *string) error {
	c, err := sc.peek()
	if err != nil || c != '"' {
		return sc.stringInto(p, 1)
	}
	s, err := sc.str()
	if err != nil {
		return err
	}
	switch string(s) {
	case odataUser:
		*p = odataUser
	case odataGroup:
		*p = odataGroup
	default:
		*p = string(s)
	}
	return nil
}

// disabledInto reads accountEnabled: *disabled is whether it is false (a
// null reads as absent).
func (sc *pageScanner) disabledInto(disabled *bool) error {
	c, err := sc.peek()
	switch {
	case err != nil:
		return err
	case c == 't':
		*disabled = false
		return sc.literal("true")
	case c == 'f':
		*disabled = true
		return sc.literal("false")
	case c == 'n':
		*disabled = false
		return sc.literal("null")
	}
	return sc.wrongType("a boolean", 1)
}

// extInto reads onPremisesExtensionAttributes into e (a null leaves it).
func (sc *pageScanner) extInto(e *extAttrsJSON) error {
	c, err := sc.peek()
	switch {
	case err != nil:
		return err
	case c == 'n':
		return sc.literal("null")
	case c != '{':
		return sc.wrongType("an object", 1)
	}
	sc.pos++
	for first := true; ; first = false {
		key, more, err := sc.nextKey(first)
		if err != nil || !more {
			return err
		}
		i := extIndex(key)
		if i < 0 {
			i = foldedIndex(key, extAttrNames[:])
		}
		if i < 0 {
			if err := sc.skipValue(2); err != nil {
				return err
			}
			continue
		}
		if err := sc.stringInto(&e[i], 2); err != nil {
			return fmt.Errorf("%s: %w", extAttrNames[i], err)
		}
	}
}

// extAttrNames are the names of the extension attributes, in order.
var extAttrNames = [extAttrCount]string{
	"extensionAttribute1", "extensionAttribute2", "extensionAttribute3", "extensionAttribute4", "extensionAttribute5",
	"extensionAttribute6", "extensionAttribute7", "extensionAttribute8", "extensionAttribute9", "extensionAttribute10",
	"extensionAttribute11", "extensionAttribute12", "extensionAttribute13", "extensionAttribute14", "extensionAttribute15",
}

// extIndex is the index in extAttrsJSON of the attribute named exactly
// name, -1 for none.
func extIndex[S string | []byte](name S) int {
	const prefix = "extensionAttribute"
	if len(name) <= len(prefix) || len(name) > len(prefix)+2 || string(name[:len(prefix)]) != prefix || name[len(prefix)] == '0' {
		return -1
	}
	n := 0
	for i := len(prefix); i < len(name); i++ {
		if name[i] < '0' || name[i] > '9' {
			return -1
		}
		n = n*10 + int(name[i]-'0')
	}
	if n > extAttrCount {
		return -1
	}
	return n - 1
}

// readWhole calls use with the whole of r's bytes. The callers' bytes.Reader
// (over the body getJSON returned) hands them over in one Write, used there
// without a copy; any other reader is read into a buffer first. use must not
// keep the bytes.
func readWhole(r io.Reader, use func([]byte) error) error {
	if wt, ok := r.(interface {
		io.WriterTo
		Len() int
	}); ok {
		w := wholeWriter{want: wt.Len(), use: use}
		if _, err := wt.WriteTo(&w); err != nil {
			return err
		}
		if w.used {
			return w.err
		}
		return use(w.buf)
	}
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	return use(b)
}

// wholeWriter is the io.Writer readWhole passes to WriteTo: a first Write
// of the want bytes left is used as is, anything else is kept.
type wholeWriter struct {
	want int
	use  func([]byte) error
	// used is whether use was called, err what it returned.
	used bool
	err  error
	buf  []byte
}

// Write uses p if it is all of the bytes (not keeping it), else keeps a
// copy.
func (w *wholeWriter) Write(p []byte) (int, error) {
	if w.buf == nil && !w.used && len(p) == w.want {
		w.used, w.err = true, w.use(p)
		return len(p), nil
	}
	w.buf = append(w.buf, p...)
	return len(p), nil
}
