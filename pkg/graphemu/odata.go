package graphemu

import (
	"encoding/base64"
	"encoding/json"
	"net/url"
	"regexp"
	"strconv"
	"strings"
)

// directory collections page at 100 by default and take $top up to 999.
const (
	defaultPage = 100
	maxPage     = 999
)

// selectList parses $select; nil when absent.
func (c *call) selectList() []string {
	v := c.q.Get("$select")
	if v == "" {
		return nil
	}
	var out []string
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// pageSize resolves $top against Graph's limits and the tenant's page-size
// fault.
func (c *call) pageSize() (int, *graphErr) {
	n := defaultPage
	if v := c.q.Get("$top"); v != "" {
		top, err := strconv.Atoi(v)
		if err != nil || top < 1 || top > maxPage {
			return 0, errUnsupportedQuery("Invalid page size specified: '%s'. Must be between 1 and %d inclusive.", v, maxPage)
		}
		n = top
	}
	if f := c.t.faults.PageSize; f > 0 && f < n {
		n = f
	}
	return n, nil
}

// pageToken is what a $skiptoken carries for plain collections.
type pageToken struct {
	Offset int    `json:"o"`
	Top    int    `json:"t"`
	Key    string `json:"k,omitempty"`
}

func encodeToken(v any) string {
	b, _ := json.Marshal(v)
	return "RFNwd" + base64.RawURLEncoding.EncodeToString(b)
}

func decodeToken(s string, v any) bool {
	raw, found := strings.CutPrefix(s, "RFNwd")
	if !found {
		return false
	}
	b, err := base64.RawURLEncoding.DecodeString(raw)
	if err != nil {
		return false
	}
	return json.Unmarshal(b, v) == nil
}

// page slices items per $top/$skiptoken and builds the collection body with
// @odata.nextLink when more remain. path is the collection path for the link.
func (c *call) page(items []map[string]any, context, path string) *response {
	size, gerr := c.pageSize()
	if gerr != nil {
		return errResponse(gerr)
	}
	off := 0
	if st := c.q.Get("$skiptoken"); st != "" {
		var pt pageToken
		if !decodeToken(st, &pt) || pt.Offset < 0 {
			return errResponse(errf(400, "Request_BadRequest", "Invalid skip token '%s'.", st))
		}
		off = pt.Offset
	}
	if off > len(items) {
		off = len(items)
	}
	end := off + size
	if end > len(items) {
		end = len(items)
	}
	body := map[string]any{"@odata.context": c.link("/$metadata#" + context), "value": nonNil(items[off:end])}
	if end < len(items) {
		q := url.Values{}
		for k, v := range c.q {
			if k != "$skiptoken" {
				q[k] = v
			}
		}
		q.Set("$skiptoken", encodeToken(pageToken{Offset: end}))
		body["@odata.nextLink"] = c.link(path + "?" + q.Encode())
	}
	return ok(body)
}

func nonNil(v []map[string]any) []map[string]any {
	if v == nil {
		return []map[string]any{}
	}
	return v
}

// contextFor names a collection in @odata.context, with the selection.
func contextFor(coll string, sel []string) string {
	if len(sel) == 0 {
		return coll
	}
	return coll + "(" + strings.Join(sel, ",") + ")"
}

var guidRE = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

// IsGUID reports whether s is a GUID in its canonical 8-4-4-4-12 form.
func IsGUID(s string) bool { return guidRE.MatchString(s) }

// filterClause is one comparison of a $filter: prop eq 'value' (also each
// value of prop in (...)), otherMails/any(x:x eq 'value'), or
// startswith(prop,'value').
type filterClause struct {
	prop  string
	op    string // opEq or opStartsWith
	value string
}

const (
	opEq         = "eq"
	opStartsWith = "startswith"
)

// A filter property is a name, or a complex property's member
// ("onPremisesExtensionAttributes/extensionAttribute15").
var (
	eqRE    = regexp.MustCompile(`^(?i)([A-Za-z]+(?:/[A-Za-z][A-Za-z0-9]*)?)\s+eq\s+'((?:[^']|'')*)'$`)
	anyRE   = regexp.MustCompile(`^(?i)([A-Za-z]+)/any\(\s*(\w+)\s*:\s*(\w+)\s+eq\s+'((?:[^']|'')*)'\s*\)$`)
	inRE    = regexp.MustCompile(`^(?i)([A-Za-z]+(?:/[A-Za-z][A-Za-z0-9]*)?)\s+in\s+\((.*)\)$`)
	startRE = regexp.MustCompile(`^(?i)startswith\(\s*([A-Za-z]+(?:/[A-Za-z][A-Za-z0-9]*)?)\s*,\s*'((?:[^']|'')*)'\s*\)$`)
	strRE   = regexp.MustCompile(`'((?:[^']|'')*)'`)
)

// parseFilter parses a disjunction of simple clauses ("a eq 'x' or b eq 'y'",
// "id in ('x','y')", "otherMails/any(o:o eq 'x')", "startswith(a,'x')"). It
// returns the clauses, or an error for anything else. maxClauses bounds the
// clause count (each value of an in counts as one, as Graph counts them).
// Which properties take which operator is checked by the caller
// (checkFilter).
func parseFilter(f string, maxClauses int) ([]filterClause, *graphErr) {
	var out []filterClause
	for _, part := range splitOr(f) {
		part = strings.TrimSpace(part)
		if m := eqRE.FindStringSubmatch(part); m != nil {
			out = append(out, filterClause{prop: m[1], op: opEq, value: unquote(m[2])})
			continue
		}
		if m := anyRE.FindStringSubmatch(part); m != nil && strings.EqualFold(m[2], m[3]) {
			out = append(out, filterClause{prop: m[1] + "/any", op: opEq, value: unquote(m[4])})
			continue
		}
		if m := inRE.FindStringSubmatch(part); m != nil {
			for _, v := range strRE.FindAllStringSubmatch(m[2], -1) {
				out = append(out, filterClause{prop: m[1], op: opEq, value: unquote(v[1])})
			}
			continue
		}
		if m := startRE.FindStringSubmatch(part); m != nil {
			out = append(out, filterClause{prop: m[1], op: opStartsWith, value: unquote(m[2])})
			continue
		}
		return nil, errUnsupportedQuery("Unsupported or invalid query filter clause specified for property '%s' of resource 'User'.", firstWord(part))
	}
	if len(out) > maxClauses {
		return nil, errUnsupportedQuery("Too many child clauses specified in search filter expression containing 'OR' operators: %d. Max allowed: %d.", len(out), maxClauses)
	}
	return out, nil
}

// filterRule is what $filter takes on one property: eq (and in), startsWith,
// and whether only as an advanced query (ConsistencyLevel: eventual and
// $count=true). Sources: the property tables of resources/user and
// resources/group, and includes/filter-directory-objects.md on
// https://learn.microsoft.com/en-us/graph/aad-advanced-queries.
type filterRule struct {
	eq, startsWith, advanced bool
}

// matches reports whether a property value v satisfies cl. Graph compares
// strings case-insensitively; startswith never matches a null value.
func (cl filterClause) matches(v string) bool {
	if cl.op == opStartsWith {
		return v != "" && strings.HasPrefix(lower(v), lower(cl.value))
	}
	return strings.EqualFold(v, cl.value)
}

// checkFilter refuses clauses rule does not allow, as Graph does, naming
// resource ("User", "Group") in the message. A property that needs advanced
// query parameters answers, without them, the message Graph gives for
// filtering on an extension attribute as a standard query (observed:
// https://github.com/microsoftgraph/msgraph-sdk-php/issues/329).
func (c *call) checkFilter(clauses []filterClause, rule func(prop string) (filterRule, bool), resource string) *graphErr {
	for _, cl := range clauses {
		r, known := rule(lower(cl.prop))
		if known && r.advanced && !c.advancedQuery() {
			name := cl.prop[strings.LastIndex(cl.prop, "/")+1:]
			return errUnsupportedQuery("Property '%s' does not exist as a declared property or extension property.", name)
		}
		if !known || (cl.op == opEq && !r.eq) || (cl.op == opStartsWith && !r.startsWith) {
			return errUnsupportedQuery("Unsupported or invalid query filter clause specified for property '%s' of resource '%s'.", cl.prop, resource)
		}
	}
	return nil
}

// advancedQuery reports whether the request carries Graph's advanced query
// parameters: the ConsistencyLevel: eventual header and $count=true
// (https://learn.microsoft.com/en-us/graph/aad-advanced-queries).
func (c *call) advancedQuery() bool {
	return strings.EqualFold(c.header.Get("ConsistencyLevel"), "eventual") && strings.EqualFold(c.q.Get("$count"), "true")
}

// pageCounted pages a directory collection like page and, for an advanced
// query, adds "@odata.count": the number of matching items, before paging.
// Without ConsistencyLevel: eventual Graph ignores $count=true silently (no
// @odata.count, no error; aad-advanced-queries, "Error handling").
func (c *call) pageCounted(items []map[string]any, context, path string) *response {
	res := c.page(items, context, path)
	if body, isMap := res.body.(map[string]any); isMap && res.status == 200 && c.advancedQuery() {
		body["@odata.count"] = len(items)
	}
	return res
}

func splitOr(f string) []string {
	var parts []string
	depth, inStr, start := 0, false, 0
	low := strings.ToLower(f)
	for i := 0; i < len(f); i++ {
		switch ch := f[i]; {
		case ch == '\'':
			inStr = !inStr
		case inStr:
		case ch == '(':
			depth++
		case ch == ')':
			depth--
		case depth == 0 && strings.HasPrefix(low[i:], " or "):
			parts = append(parts, f[start:i])
			start = i + 4
			i += 3
		}
	}
	return append(parts, f[start:])
}

func unquote(s string) string { return strings.ReplaceAll(s, "''", "'") }

func firstWord(s string) string {
	if i := strings.IndexAny(s, " /("); i > 0 {
		return s[:i]
	}
	return s
}

// searchQuery answers $search as Graph does without the ConsistencyLevel:
// eventual header (400); with the header it is not implemented here (501)
// rather than ignored.
func (c *call) searchQuery() *graphErr {
	if !c.q.Has("$search") {
		return nil
	}
	if !strings.EqualFold(c.header.Get("ConsistencyLevel"), "eventual") {
		return errUnsupportedQuery("Request with $search query parameter only works through MSGraph with a special request header: 'ConsistencyLevel: eventual'")
	}
	return errf(501, "NotImplemented", "This operation target is not yet supported.")
}
