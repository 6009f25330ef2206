package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"reflect"
	"regexp"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// varRE matches a ${NAME} reference inside a scalar value.
var varRE = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)\}`)

// yamlErrRE splits a go.yaml.in/yaml/v3 error into its optional line number
// and its problem.
var yamlErrRE = regexp.MustCompile(`^yaml: (?:line (\d+): )?(.*)$`)

// yamlLineRE finds the line numbers in a yaml.TypeError's messages.
var yamlLineRE = regexp.MustCompile(`\bline (\d+)\b`)

// decodeDocument parses b as exactly one YAML document into c.
//
// The document is parsed into a yaml.Node tree first; ${VAR} references are
// then expanded inside scalar values only, so an environment value is always
// one value of the key that references it and never new keys or structure.
// Every key is checked against Config (unknown keys are errors naming them)
// and every scalar is checked against its field's type before the tree is
// decoded, so no error from the YAML library, which may quote a value, ever
// reaches the caller.
func decodeDocument(b []byte, lookup func(string) (string, bool), c *Config) error {
	top, err := singleDocument(b)
	if err != nil {
		return err
	}
	w := &walker{lookup: lookup}
	out, err := w.node(top, reflect.TypeFor[Config](), "")
	if err != nil {
		return err
	}
	if err := out.Decode(c); err != nil {
		// Not reached: every scalar was trial-decoded above. Still never
		// let the library's message (which quotes values) through.
		return &Error{Msg: "parse: " + safeYAMLError(err)}
	}
	return nil
}

// singleDocument parses the only document of b and returns its top node.
func singleDocument(b []byte) (*yaml.Node, error) {
	dec := yaml.NewDecoder(bytes.NewReader(b))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, &Error{Msg: "the file holds no YAML document: it is empty or only comments (see docs/config.md)"}
		}
		return nil, &Error{Msg: "parse: " + safeYAMLError(err)}
	}
	// A second document would be ignored by a single decode, and with it
	// any setting there (a deletion_threshold, say): refuse it. The one
	// exception is a document with no content at all, as a trailing "---"
	// (optionally followed by comments) leaves: it holds no setting, so
	// nothing can be lost by tolerating it. Anything else, even an explicit
	// "--- ~" or a document that does not parse, is refused.
	for {
		var extra yaml.Node
		err := dec.Decode(&extra)
		if errors.Is(err, io.EOF) {
			break
		}
		if err == nil && emptyDocument(&extra) {
			continue
		}
		where := ""
		if line := extra.Line; err == nil && line > 0 {
			where = fmt.Sprintf(" (a second one starts at line %d)", line)
		} else if line := yamlErrorLine(err); line > 0 {
			where = fmt.Sprintf(" (a second one follows, and does not parse at line %d)", line)
		}
		return nil, &Error{Msg: "the file holds more than one YAML document" + where +
			": merge them into one document (xtsync reads exactly one; settings after a \"---\" would be ignored)"}
	}
	if len(doc.Content) == 0 || isNull(doc.Content[0]) {
		return nil, &Error{Msg: "the file holds no settings (see docs/config.md)"}
	}
	return doc.Content[0], nil
}

// emptyDocument reports whether a document has no content: not even an
// explicit null, a tag or an anchor.
func emptyDocument(d *yaml.Node) bool {
	if d.Kind != yaml.DocumentNode {
		return false
	}
	if len(d.Content) == 0 {
		return true
	}
	n := d.Content[0]
	return len(d.Content) == 1 && n.Kind == yaml.ScalarNode && n.Tag == "!!null" &&
		n.Value == "" && n.Anchor == "" && n.Style&yaml.TaggedStyle == 0
}

// walker checks a parsed document against Config's types and builds the
// tree that is decoded: known keys only, no aliases, ${VAR} expanded.
type walker struct {
	lookup func(string) (string, bool)
}

// node checks n against type t at key and returns the node to decode.
func (w *walker) node(n *yaml.Node, t reflect.Type, key string) (*yaml.Node, error) {
	if n.Kind == yaml.AliasNode {
		if n.Alias == nil {
			return nil, errAt(key, "line %d: refers to an anchor that is not defined", n.Line)
		}
		// Each use of an anchor is checked and expanded from its original
		// text, so a value is never expanded twice.
		n = n.Alias
	}
	switch t.Kind() {
	case reflect.Pointer:
		return w.node(n, t.Elem(), key)
	case reflect.Struct:
		return w.mapping(n, t, key)
	case reflect.Slice:
		return w.sequence(n, t, key)
	default:
		return w.scalar(n, t, key)
	}
}

// mapping checks a mapping against struct type t: every key must be one of
// t's yaml names, once.
func (w *walker) mapping(n *yaml.Node, t reflect.Type, key string) (*yaml.Node, error) {
	if isNull(n) {
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null", Line: n.Line, Column: n.Column}, nil
	}
	if n.Kind != yaml.MappingNode {
		return nil, errAt(key, "line %d: is %s; want a mapping of keys (name: value)", n.Line, kindName(n))
	}
	names, types := yamlFields(t)
	out := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Line: n.Line, Column: n.Column}
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			return nil, errAt(key, "line %d: a key must be a plain name (not an alias, a list or a mapping)", k.Line)
		}
		if k.ShortTag() == "!!merge" {
			return nil, errAt(joinKey(key, "<<"), "line %d: YAML merge keys are not supported: write the keys out", k.Line)
		}
		name := k.Value // keys are never expanded
		path := joinKey(key, name)
		ft, ok := types[name]
		if !ok {
			return nil, unknownKey(key, path, name, names)
		}
		if line, dup := seen[name]; dup {
			return nil, errKey(path, "is set twice (lines %d and %d): keep one", line, k.Line)
		}
		seen[name] = k.Line
		cv, err := w.node(v, ft, path)
		if err != nil {
			return nil, err
		}
		out.Content = append(out.Content,
			&yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: name, Line: k.Line, Column: k.Column}, cv)
	}
	return out, nil
}

// sequence checks a list against slice type t.
func (w *walker) sequence(n *yaml.Node, t reflect.Type, key string) (*yaml.Node, error) {
	if isNull(n) {
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null", Line: n.Line, Column: n.Column}, nil
	}
	if n.Kind != yaml.SequenceNode {
		return nil, errAt(key, "line %d: is %s; want a list", n.Line, kindName(n))
	}
	out := &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq", Line: n.Line, Column: n.Column}
	for i, item := range n.Content {
		cv, err := w.node(item, t.Elem(), fmt.Sprintf("%s[%d]", key, i))
		if err != nil {
			return nil, err
		}
		out.Content = append(out.Content, cv)
	}
	return out, nil
}

// scalar expands ${VAR} in one value and checks it decodes into type t.
func (w *walker) scalar(n *yaml.Node, t reflect.Type, key string) (*yaml.Node, error) {
	if n.Kind != yaml.ScalarNode {
		return nil, errAt(key, "line %d: is %s; want %s", n.Line, kindName(n), typeName(t))
	}
	out := &yaml.Node{Kind: yaml.ScalarNode, Tag: n.Tag, Style: n.Style, Value: n.Value, Line: n.Line, Column: n.Column}
	expanded, refs, err := w.expand(n.Value, key)
	if err != nil {
		return nil, err
	}
	if refs {
		out.Value = expanded
		if t.Kind() == reflect.String {
			// The environment's text is the value, whatever it looks like
			// ("null", "123", "a: b", several lines).
			out.Tag, out.Style = "!!str", 0
		} else {
			// A number or a boolean: the expanded text is resolved as the
			// one scalar it is (deletion_threshold: "${T}" works too).
			if strings.TrimSpace(expanded) == "" {
				return nil, errKey(key, "is empty once its ${...} reference is expanded; want %s", typeName(t))
			}
			if n.Style&yaml.TaggedStyle == 0 {
				out.Tag = ""
			}
			out.Style = 0
		}
	}
	// Trial-decode with the library, but never show its message: it
	// quotes the value.
	if err := out.Decode(reflect.New(t).Interface()); err != nil {
		return nil, errAt(key, "line %d: is not %s (%s)", n.Line, typeName(t), describeScalar(out))
	}
	// The library truncates 1.5 into an int field; refuse it instead.
	if isIntKind(t.Kind()) && !isNull(out) && out.ShortTag() != "!!int" {
		return nil, errAt(key, "line %d: is not %s (%s)", n.Line, typeName(t), describeScalar(out))
	}
	return out, nil
}

// expand replaces every ${NAME} in s; refs says whether there was one.
func (w *walker) expand(s, key string) (expanded string, refs bool, err error) {
	if !strings.Contains(s, "${") {
		return s, false, nil
	}
	missing := ""
	expanded = varRE.ReplaceAllStringFunc(s, func(m string) string {
		refs = true
		name := m[2 : len(m)-1]
		v, ok := w.lookup(name)
		if !ok && missing == "" {
			missing = name
		}
		return v
	})
	if missing != "" {
		return "", false, errAt(key, "environment variable %s is not set (referenced as ${%s})", missing, missing)
	}
	return expanded, refs, nil
}

// yamlFields lists struct type t's yaml key names, in order, and their types.
func yamlFields(t reflect.Type) ([]string, map[string]reflect.Type) {
	var names []string
	types := map[string]reflect.Type{}
	for f := range t.Fields() {
		if !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		switch name {
		case "-":
			continue
		case "":
			name = strings.ToLower(f.Name)
		}
		names = append(names, name)
		types[name] = f.Type
	}
	return names, types
}

// unknownKey is the error for a key that is not one of names.
func unknownKey(parent, path, name string, names []string) error {
	where := "the top level"
	if parent != "" {
		where = parent
	}
	hint := ""
	for _, n := range names {
		if strings.EqualFold(n, strings.ReplaceAll(name, "-", "_")) {
			hint = fmt.Sprintf(" Did you mean %s?", n)
		}
	}
	return errKey(path, "is not a known key (%s has: %s).%s", where, strings.Join(names, ", "), hint)
}

// errAt is errKey, or an Error without a key at the top level.
func errAt(key, format string, args ...any) error {
	if key == "" {
		return &Error{Msg: fmt.Sprintf(format, args...)}
	}
	return errKey(key, format, args...)
}

func joinKey(parent, name string) string {
	if parent == "" {
		return name
	}
	return parent + "." + name
}

func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"
}

// kindName says what a node is, without its value.
func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		return "a single value"
	case yaml.AliasNode:
		return "an alias"
	default:
		return "not a value"
	}
}

func isIntKind(k reflect.Kind) bool {
	switch k {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return true
	}
	return false
}

// typeName is what a field of type t wants, for errors.
func typeName(t reflect.Type) string {
	switch {
	case isIntKind(t.Kind()):
		return "a whole number"
	case t.Kind() == reflect.Float32 || t.Kind() == reflect.Float64:
		return "a number"
	case t.Kind() == reflect.Bool:
		return "true or false"
	case t.Kind() == reflect.String:
		return "a text value"
	default:
		return "a single value"
	}
}

// describeScalar says what a scalar reads as, without its value.
func describeScalar(n *yaml.Node) string {
	what := "text"
	switch n.ShortTag() {
	case "!!int":
		what = "a whole number"
	case "!!float":
		what = "a number with a fraction"
	case "!!bool":
		what = "true or false"
	case "!!null":
		what = "empty"
	case "!!binary":
		what = "!!binary data that is not base64"
	case "!!timestamp":
		what = "a date"
	}
	if n.Style&(yaml.DoubleQuotedStyle|yaml.SingleQuotedStyle) != 0 {
		what = "quoted text"
	}
	return "it reads as " + what + ", " + describe(n.Value)
}

// safeYAMLError reduces a go.yaml.in/yaml/v3 error to its line number and a
// problem that quotes nothing from the document: the library's messages
// can include a value, and a value can be a secret.
func safeYAMLError(err error) string {
	var te *yaml.TypeError
	if errors.As(err, &te) {
		var lines []string
		for _, e := range te.Errors {
			if m := yamlLineRE.FindStringSubmatch(e); m != nil {
				lines = append(lines, m[1])
			}
		}
		if len(lines) == 0 {
			return "a value has the wrong type (values are not shown: they may be secrets)"
		}
		return "line " + strings.Join(lines, ", ") + ": a value has the wrong type (values are not shown: they may be secrets)"
	}
	m := yamlErrRE.FindStringSubmatch(err.Error())
	if m == nil {
		return "the file is not valid YAML (the parser's message is not shown: it may quote a secret)"
	}
	where := ""
	if m[1] != "" {
		where = "line " + m[1] + ": "
	}
	problem, ok := yamlProblem(m[2])
	if !ok {
		return where + "the file is not valid YAML (the parser's message is not shown: it may quote a secret)"
	}
	return where + problem
}

// yamlErrorLine is the line number a YAML error names, or 0.
func yamlErrorLine(err error) int {
	if err == nil {
		return 0
	}
	m := yamlErrRE.FindStringSubmatch(err.Error())
	if m == nil || m[1] == "" {
		return 0
	}
	n, _ := strconv.Atoi(m[1])
	return n
}

// yamlProblem returns the problem class for one of the parser's fixed
// problem texts (which never include document content), with a hint for
// the common ones; ok is false for anything else.
func yamlProblem(p string) (string, bool) {
	switch p {
	case "found unexpected end of stream":
		return p + " (is a quoted value missing its closing quote?)", true
	case "mapping values are not allowed in this context":
		return p + " (does an unquoted value contain \": \"? Quote it)", true
	case "found character that cannot start any token":
		return p + " (a tab in the indentation, or a value starting with @ or `? Quote it)", true
	case "did not find expected key", "could not find expected ':'", "did not find expected '-' indicator":
		return p + " (check the indentation)", true
	case "found unknown escape character", "found a tab character that violates indentation",
		"found a tab character where an indentation space is expected",
		"block sequence entries are not allowed in this context", "mapping keys are not allowed in this context",
		"control characters are not allowed", "did not find expected node content",
		"did not find expected ',' or ']'", "did not find expected ',' or '}'",
		"did not find expected <document start>", "did not find expected comment or line break",
		"did not find expected whitespace or line break", "did not find expected whitespace",
		"did not find expected alphabetic or numeric character", "did not find expected hexdecimal number",
		"did not find expected tag URI", "did not find URI escaped octet", "did not find expected '!'",
		"did not find the expected '>'", "found an indentation indicator equal to 0",
		"found unexpected document indicator", "found undefined tag handle", "found unknown directive name",
		"found invalid Unicode character escape code", "found an incorrect leading UTF-8 octet",
		"found an incorrect trailing UTF-8 octet", "invalid leading UTF-8 octet", "invalid trailing UTF-8 octet",
		"incomplete UTF-8 octet sequence", "invalid length of a UTF-8 sequence", "invalid Unicode character",
		"found duplicate %YAML directive", "found duplicate %TAG directive", "found incompatible YAML document",
		"document contains excessive aliasing":
		return p, true
	}
	switch {
	case strings.HasPrefix(p, "unknown anchor "):
		return "an alias (*name) refers to an anchor that is not defined", true
	case strings.HasPrefix(p, "anchor ") && strings.HasSuffix(p, " value contains itself"):
		return "an anchor's value contains an alias to itself", true
	case strings.HasPrefix(p, "exceeded max depth of "):
		return "the document is nested too deeply", true
	}
	return "", false
}
