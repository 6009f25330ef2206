package graphemu_test

// Fidelity tests: the emulator's answers compared, by shape, with real
// request/response bodies copied from Microsoft's Graph documentation
// (testdata/graph-samples; SOURCES.txt names each file's origin, NOTES.txt
// its caveats). A shape is the set of field names, recursively (including
// @odata annotations, members@delta and @removed), and the JSON kind of each
// value; a null in a sample is compatible with any kind. Where the emulator
// legitimately differs from a sample the difference is listed, with its
// reason, at the call site: a listed difference that stops occurring fails
// the test too, so the lists stay exact.

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/xtsync/xtsync/internal/waitfor"
	"github.com/xtsync/xtsync/pkg/graphemu"
)

// ---------------------------------------------------------------------------
// Shape comparison.

// jsonShape is what samples say about a JSON value: the kinds it takes and,
// for objects, its fields; for arrays, the merged shape of all elements.
type jsonShape struct {
	kinds  map[string]bool // string, number, bool, null, array, object
	fields map[string]*shapeField
	elem   *jsonShape // nil: no element seen
}

type shapeField struct {
	shape    *jsonShape
	optional bool // absent from some of the merged samples
}

// jsonKind names the JSON kind of a value decoded by encoding/json.
func jsonKind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "string"
	case float64, json.Number:
		return "number"
	case bool:
		return "bool"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	}
	return fmt.Sprintf("%T", v)
}

// shapeOf derives the shape of one decoded JSON value. The elements of an
// array are merged: a field present in some elements only is optional.
func shapeOf(v any) *jsonShape {
	s := &jsonShape{kinds: map[string]bool{jsonKind(v): true}}
	switch x := v.(type) {
	case map[string]any:
		s.fields = map[string]*shapeField{}
		for k, fv := range x {
			s.fields[k] = &shapeField{shape: shapeOf(fv)}
		}
	case []any:
		for _, e := range x {
			s.elem = mergeShapes(s.elem, shapeOf(e))
		}
	}
	return s
}

// mergeShapes unites two shapes seen at the same place.
func mergeShapes(a, b *jsonShape) *jsonShape {
	if a == nil {
		return b
	}
	if b == nil {
		return a
	}
	m := &jsonShape{kinds: map[string]bool{}, elem: mergeShapes(a.elem, b.elem)}
	maps.Copy(m.kinds, a.kinds)
	maps.Copy(m.kinds, b.kinds)
	switch {
	case a.fields == nil:
		m.fields = b.fields
	case b.fields == nil:
		m.fields = a.fields
	default:
		m.fields = map[string]*shapeField{}
		for k, fa := range a.fields {
			if fb, both := b.fields[k]; both {
				m.fields[k] = &shapeField{shape: mergeShapes(fa.shape, fb.shape), optional: fa.optional || fb.optional}
			} else {
				m.fields[k] = &shapeField{shape: fa.shape, optional: true}
			}
		}
		for k, fb := range b.fields {
			if _, both := a.fields[k]; !both {
				m.fields[k] = &shapeField{shape: fb.shape, optional: true}
			}
		}
	}
	return m
}

// compareShapes reports every way got's shape differs from sample's, one
// line per difference, each starting with its JSON path ("$.value[].id";
// "[]" stands for every element of an array):
//
//	PATH: missing              the sample has the field, got lacks it
//	PATH: unexpected           got has a field the sample lacks
//	PATH: kind K, sample has S the value is of another JSON kind
//
// An empty array in got has no elements to compare; callers that need
// elements assert them themselves.
func compareShapes(sample, got any) []string {
	var out []string
	compareShape("$", shapeOf(sample), got, &out)
	slices.Sort(out)
	return slices.Compact(out)
}

func compareShape(path string, want *jsonShape, got any, out *[]string) {
	k := jsonKind(got)
	if !want.kinds[k] && !want.kinds["null"] {
		*out = append(*out, fmt.Sprintf("%s: kind %s, sample has %s", path, k, strings.Join(slices.Sorted(maps.Keys(want.kinds)), "|")))
		return
	}
	switch x := got.(type) {
	case map[string]any:
		if want.fields == nil {
			return // the sample only had null here
		}
		for _, name := range slices.Sorted(maps.Keys(want.fields)) {
			if _, has := x[name]; !has && !want.fields[name].optional {
				*out = append(*out, path+"."+name+": missing")
			}
		}
		for _, name := range slices.Sorted(maps.Keys(x)) {
			f, known := want.fields[name]
			if !known {
				*out = append(*out, path+"."+name+": unexpected")
				continue
			}
			compareShape(path+"."+name, f.shape, x[name], out)
		}
	case []any:
		if want.elem == nil {
			return
		}
		for _, e := range x {
			compareShape(path+"[]", want.elem, e, out)
		}
	}
}

// checkShape fails t for every shape difference between got and the sample
// that is not in allowed, and for every allowed difference that did not
// occur.
func checkShape(t *testing.T, what string, sample, got any, allowed ...string) {
	t.Helper()
	diffs := compareShapes(sample, got)
	failed := false
	for _, d := range diffs {
		if !slices.Contains(allowed, d) {
			t.Errorf("%s: differs from the Graph sample: %s", what, d)
			failed = true
		}
	}
	for _, a := range allowed {
		if !slices.Contains(diffs, a) {
			t.Errorf("%s: listed difference %q no longer occurs; remove it from the list", what, a)
			failed = true
		}
	}
	if failed {
		t.Logf("%s: emulator answered %s", what, jsonText(got))
	}
}

func jsonText(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func TestShapeCompareReportsEveryDifference(t *testing.T) {
	sample := map[string]any{
		"@odata.context": "x",
		"value": []any{
			map[string]any{"id": "a", "n": 1.0, "members@delta": []any{map[string]any{"id": "m"}}},
			map[string]any{"id": "b", "n": 2.0, "desc": nil},
		},
		"nothing": nil,
	}
	got := map[string]any{
		"value": []any{
			map[string]any{"id": 5.0, "members@delta": []any{map[string]any{"id": "m", "@removed": map[string]any{}}}},
			map[string]any{"id": "c", "n": 3.0, "desc": []any{}, "extra": true},
		},
		"nothing": map[string]any{"deep": 1.0},
	}
	want := []string{
		"$.@odata.context: missing",
		"$.value[].extra: unexpected",
		"$.value[].id: kind number, sample has string",
		"$.value[].members@delta[].@removed: unexpected",
		"$.value[].n: missing",
	}
	if diffs := compareShapes(sample, got); !slices.Equal(diffs, want) {
		t.Errorf("diffs:\n  %s\nwant:\n  %s", strings.Join(diffs, "\n  "), strings.Join(want, "\n  "))
	}
	if diffs := compareShapes(sample, sample); len(diffs) != 0 {
		t.Errorf("a sample differs from itself: %v", diffs)
	}
}

// ---------------------------------------------------------------------------
// Helpers.

func loadSample(t *testing.T, name string) map[string]any {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "graph-samples", name))
	if err != nil {
		t.Fatal(err)
	}
	var v map[string]any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("sample %s: %v", name, err)
	}
	return v
}

// rawDo sends a Graph request with exactly these body bytes and headers.
// The client's bearer token is sent unless hdr sets Authorization ("" sends
// none). A body gets Content-Type application/json unless hdr sets one.
func (c *client) rawDo(method, path string, body []byte, hdr map[string]string) (int, map[string]any, http.Header, []byte) {
	c.t.Helper()
	u := path
	if !strings.HasPrefix(path, "https://") {
		u = c.em.GraphURL() + path
	}
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequest(method, u, rd)
	if err != nil {
		c.t.Fatal(err)
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range hdr {
		if v == "" {
			req.Header.Del(k)
		} else {
			req.Header.Set(k, v)
		}
	}
	resp, err := c.http.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out map[string]any
	if len(bytes.TrimSpace(raw)) > 0 {
		if err := json.Unmarshal(raw, &out); err != nil {
			c.t.Fatalf("%s %s: answer is not JSON: %q", method, path, raw)
		}
	}
	return resp.StatusCode, out, resp.Header, raw
}

// closing closes c's idle connections when the test ends, before the
// emulator's Close (cleanups run last first): a graceful shutdown otherwise
// waits a second for HTTP/2 clients that keep their connections open.
func closing(t *testing.T, c *client) *client {
	t.Cleanup(c.http.CloseIdleConnections)
	return c
}

func fidValues(t *testing.T, body map[string]any) []any {
	t.Helper()
	v, ok := body["value"].([]any)
	if !ok {
		t.Fatalf("no value array in %s", jsonText(body))
	}
	return v
}

func fidGroup(t *testing.T, em *graphemu.Emulator, nick string) graphemu.Group {
	t.Helper()
	for _, g := range em.Groups(graphemu.SampleSourceTenant) {
		if g.MailNickname == nick {
			return g
		}
	}
	t.Fatalf("sample group %s missing", nick)
	return graphemu.Group{}
}

// sampleUserIDs returns the ids of the source tenant's member users, in
// seed order.
func sampleUserIDs(t *testing.T, em *graphemu.Emulator) []string {
	t.Helper()
	var ids []string
	for _, u := range em.Users(graphemu.SampleSourceTenant) {
		if u.UserType == "Member" {
			ids = append(ids, u.ID)
		}
	}
	if len(ids) < 40 {
		t.Fatalf("sample has %d member users", len(ids))
	}
	return ids
}

// afterVersion is what follows "/v1.0/" in a Graph URL, e.g.
// "$metadata#groups/$entity".
func afterVersion(s string) string {
	_, rest, _ := strings.Cut(s, "/v1.0/")
	return rest
}

var fidGUID = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)

// ---------------------------------------------------------------------------
// Groups and invitations.

func TestFidelityGroupCreate(t *testing.T) {
	em := startSample(t, graphemu.Options{})
	c := closing(t, sourceClient(t, em))
	users := sampleUserIDs(t, em)
	// The documented request, with its user ids bound to real sample users.
	req := loadSample(t, "group-create-security-with-members-request.json")
	req["owners@odata.bind"] = []any{"https://graph.microsoft.com/v1.0/users/" + users[0]}
	req["members@odata.bind"] = []any{"https://graph.microsoft.com/v1.0/users/" + users[1], "https://graph.microsoft.com/v1.0/users/" + users[2]}
	status, body, hdr := c.do("POST", "/groups", req)
	if status != 201 {
		t.Fatalf("create: %d %s", status, jsonText(body))
	}
	sample := loadSample(t, "group-create-security-with-members-response.json")
	checkShape(t, "POST /groups", sample, body)

	if got, want := afterVersion(body["@odata.context"].(string)), afterVersion(sample["@odata.context"].(string)); got != want {
		t.Errorf("@odata.context ends %q, sample %q", got, want)
	}
	id, _ := body["id"].(string)
	if !fidGUID.MatchString(id) {
		t.Fatalf("id %q is not a GUID", id)
	}
	odataID, _ := body["@odata.id"].(string)
	if want := "/v2/" + graphemu.SampleSourceTenant + "/directoryObjects/" + id + "/Microsoft.DirectoryServices.Group"; !strings.HasSuffix(odataID, want) {
		t.Errorf("@odata.id %q does not end with %q (sample: %s)", odataID, want, sample["@odata.id"])
	}
	for _, k := range []string{"description", "displayName", "mailEnabled", "mailNickname", "securityEnabled"} {
		if body[k] != sample[k] {
			t.Errorf("%s = %v, sample %v", k, body[k], sample[k])
		}
	}
	if gt, _ := body["groupTypes"].([]any); len(gt) != 0 {
		t.Errorf("groupTypes = %v, want []", body["groupTypes"])
	}
	if sid, _ := body["securityIdentifier"].(string); !strings.HasPrefix(sid, "S-1-12-1-") {
		t.Errorf("securityIdentifier %q", sid)
	}
	if loc := hdr.Get("Location"); !strings.HasSuffix(loc, "/groups/"+id) {
		t.Errorf("Location %q", loc)
	}
	if v, ru := hdr.Get("OData-Version"), hdr.Get("x-ms-resource-unit"); v != "4.0" || ru != "1" {
		t.Errorf("OData-Version %q, x-ms-resource-unit %q; want 4.0 and 1", v, ru)
	}
	g, found := em.Group(graphemu.SampleSourceTenant, id)
	if !found || !slices.Equal(g.Members, users[1:3]) || !slices.Equal(g.Owners, users[:1]) {
		t.Errorf("stored group: found %v, members %v, owners %v", found, g.Members, g.Owners)
	}
}

func TestFidelityInvitationCreate(t *testing.T) {
	em := startSample(t, graphemu.Options{})
	c := closing(t, targetClient(t, em))
	req := loadSample(t, "invitation-create-request.json")
	status, body, _ := c.do("POST", "/invitations", req)
	if status != 201 {
		t.Fatalf("invite: %d %s", status, jsonText(body))
	}
	sample := loadSample(t, "invitation-create-response.json")
	checkShape(t, "POST /invitations", sample, body)
	if got, want := afterVersion(body["@odata.context"].(string)), afterVersion(sample["@odata.context"].(string)); got != want {
		t.Errorf("@odata.context ends %q, sample %q", got, want)
	}
	for _, k := range []string{"invitedUserEmailAddress", "inviteRedirectUrl", "invitedUserType", "status", "sendInvitationMessage", "resetRedemption", "invitedUserDisplayName"} {
		if body[k] != sample[k] {
			t.Errorf("%s = %v, sample %v", k, body[k], sample[k])
		}
	}
	if redeem, _ := body["inviteRedeemUrl"].(string); !strings.HasPrefix(redeem, "https://login.microsoftonline.com/redeem?rd=") {
		t.Errorf("inviteRedeemUrl %q", redeem)
	}
	uid, _ := body["invitedUser"].(map[string]any)["id"].(string)
	u, found := em.User(graphemu.SampleTargetTenant, uid)
	if !found || u.CreationType != "Invitation" || u.UserType != "Guest" || u.Mail != "admin@fabrikam.com" {
		t.Errorf("invited user %s: found %v %+v", uid, found, u)
	}
}

// ---------------------------------------------------------------------------
// Group delta.

func TestFidelityGroupDelta(t *testing.T) {
	em := startSample(t, graphemu.Options{})
	c := closing(t, sourceClient(t, em))
	users := sampleUserIDs(t, em)
	var ids []string
	for i, members := range [][]string{{users[0], users[1]}, {users[2]}, {users[3]}} {
		g, err := em.CreateGroup(graphemu.SampleSourceTenant, graphemu.Group{
			DisplayName: fmt.Sprintf("TestGroup%d", i+1), Description: fmt.Sprintf("Employees in test group %d", i+1),
			MailNickname: fmt.Sprintf("testgroup%d", i+1), SecurityEnabled: true, Members: members,
		})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, g.ID)
	}
	// Pages of two objects, so the three groups need a nextLink.
	if err := em.SetFaults(graphemu.SampleSourceTenant, graphemu.Faults{PageSize: 2}); err != nil {
		t.Fatal(err)
	}
	filter := url.QueryEscape(fmt.Sprintf("id eq '%s' or id eq '%s' or id eq '%s'", ids[0], ids[1], ids[2]))
	get := func(what, path string) map[string]any {
		t.Helper()
		status, body, _ := c.do("GET", path, nil)
		if status != 200 {
			t.Fatalf("%s: %d %s", what, status, jsonText(body))
		}
		return body
	}
	link := func(body map[string]any, name string) string {
		t.Helper()
		l, _ := body[name].(string)
		if !strings.HasPrefix(l, em.GraphURL()+"/groups/delta?") {
			t.Fatalf("%s %q in %s", name, l, jsonText(body))
		}
		return l
	}

	// Initial round with members: first page, nextLink.
	first := get("initial", "/groups/delta?$select=displayName,description,members&$filter="+filter)
	checkShape(t, "delta initial page", loadSample(t, "group-delta-initial-response-nextlink.json"), first)
	if n := len(fidValues(t, first)); n != 2 {
		t.Errorf("initial page holds %d objects, want 2", n)
	}
	g1 := fidValues(t, first)[0].(map[string]any)
	if g1["id"] != ids[0] || len(g1["members@delta"].([]any)) != 2 {
		t.Errorf("first object: %s", jsonText(g1))
	}
	last := get("initial, last page", link(first, "@odata.nextLink"))
	membersLink := link(last, "@odata.deltaLink")

	// Without members: the final page carries the deltaLink; a round with
	// no changes since is empty.
	page := get("no members", "/groups/delta?$select=displayName,description&$filter="+filter)
	final := get("no members, last page", link(page, "@odata.nextLink"))
	checkShape(t, "delta final page", loadSample(t, "group-delta-final-page-deltalink.json"), final)
	if v := fidValues(t, final); len(v) != 1 || v[0].(map[string]any)["id"] != ids[2] {
		t.Errorf("final page: %s", jsonText(final))
	}
	empty := get("no changes", link(final, "@odata.deltaLink"))
	checkShape(t, "delta with no changes", loadSample(t, "group-delta-empty-deltalink.json"), empty)
	if v := fidValues(t, empty); len(v) != 0 {
		t.Errorf("no changes, yet %s", jsonText(empty))
	}
	link(empty, "@odata.deltaLink")

	// No $select: the group reference's first response. The doc sample is
	// truncated (it even lacks id); Graph returns the default properties,
	// the set of the documented create response, plus members@delta. Its
	// group is a Microsoft 365 group (mail set); these are security groups,
	// like the create sample's, so the create sample's values (mail null)
	// take precedence.
	noSel := loadSample(t, "group-delta-api-response1-nextlink.json")
	full := fidValues(t, noSel)[0].(map[string]any)
	for k, v := range loadSample(t, "group-create-security-with-members-response.json") {
		if !strings.HasPrefix(k, "@odata.") {
			full[k] = v
		}
	}
	page = get("no $select", "/groups/delta?$filter="+filter)
	checkShape(t, "delta without $select", noSel, page)
	if n := len(fidValues(t, page)); n != 2 {
		t.Errorf("no $select: %d objects on the first page, want 2", n)
	}

	// $select of plain properties, as in the reference's second response.
	// Delta always returns id; the doc sample leaves it out.
	page = get("select", "/groups/delta?$select=displayName,description,mailNickname&$filter="+filter)
	checkShape(t, "delta with $select", loadSample(t, "group-delta-api-response2-select.json"), page,
		"$.value[].id: unexpected")
	if n := len(fidValues(t, page)); n != 2 {
		t.Errorf("$select: %d objects on the first page, want 2", n)
	}

	// A member removed and one added: the deltaLink answers members@delta
	// with @removed.
	if err := em.RemoveMember(graphemu.SampleSourceTenant, ids[0], users[0]); err != nil {
		t.Fatal(err)
	}
	if err := em.AddMember(graphemu.SampleSourceTenant, ids[0], users[4]); err != nil {
		t.Fatal(err)
	}
	changed := get("changes", membersLink)
	checkShape(t, "delta members removed", loadSample(t, "group-delta-deltalink-response-members-removed.json"), changed)
	link(changed, "@odata.deltaLink")
	v := fidValues(t, changed)
	if len(v) != 1 {
		t.Fatalf("changes: %s", jsonText(changed))
	}
	obj := v[0].(map[string]any)
	md, _ := obj["members@delta"].([]any)
	if obj["id"] != ids[0] || obj["displayName"] != "TestGroup1" || len(md) != 2 {
		t.Fatalf("changed group: %s", jsonText(obj))
	}
	removed, added := md[0].(map[string]any), md[1].(map[string]any)
	if removed["id"] != users[0] || jsonText(removed["@removed"]) != `{"reason":"deleted"}` || removed["@odata.type"] != "#microsoft.graph.user" {
		t.Errorf("removed member: %s", jsonText(removed))
	}
	if _, has := added["@removed"]; has || added["id"] != users[4] {
		t.Errorf("added member: %s", jsonText(added))
	}

	// A deleted group: a security group's delete is a soft delete, which
	// delta reports as @removed with reason "changed" ("deleted" is for
	// permanent deletion).
	if err := em.DeleteGroup(graphemu.SampleSourceTenant, ids[1]); err != nil {
		t.Fatal(err)
	}
	gone := get("deleted group", link(changed, "@odata.deltaLink"))
	v = fidValues(t, gone)
	if len(v) != 1 || v[0].(map[string]any)["id"] != ids[1] || jsonText(v[0].(map[string]any)["@removed"]) != `{"reason":"changed"}` {
		t.Errorf("after a soft delete: %s", jsonText(gone))
	}
}

// ---------------------------------------------------------------------------
// $batch and errors.

func TestFidelityBatchResponse(t *testing.T) {
	em := startSample(t, graphemu.Options{})
	c := closing(t, sourceClient(t, em))
	status, body, _ := c.do("POST", "/$batch", map[string]any{"requests": []any{
		map[string]any{"id": "1", "method": "GET", "url": "/users?$select=id,displayName,userPrincipalName&$top=1"},
		map[string]any{"id": "2", "method": "GET", "url": "/me/planner/tasks"},
		// The sample's request 3: a group this tenant does not have.
		map[string]any{"id": "3", "method": "DELETE", "url": "/groups/0e226165-c685-41ce-8bfc-df8360ab325d"},
	}})
	if status != 200 {
		t.Fatalf("batch: %d %s", status, jsonText(body))
	}
	if len(body) != 1 {
		t.Errorf("batch envelope has fields %v, want only responses", slices.Sorted(maps.Keys(body)))
	}
	// Compare each item with the sample's items of its class (success or
	// error): the sample's 200s list other entities, its errors are 403s and
	// a 405, but the envelope and error bodies are the same everywhere.
	var okSamples, errSamples []any
	for _, it := range loadSample(t, "batch-response.json")["responses"].([]any) {
		if it.(map[string]any)["status"].(float64) < 400 {
			okSamples = append(okSamples, it)
		} else {
			errSamples = append(errSamples, it)
		}
	}
	got, _ := body["responses"].([]any)
	if len(got) != 3 {
		t.Fatalf("responses: %s", jsonText(body))
	}
	wantStatus := map[string]float64{"1": 200, "2": 501, "3": 404}
	for _, it := range got {
		item := it.(map[string]any)
		id, _ := item["id"].(string)
		if item["status"] != wantStatus[id] {
			t.Errorf("item %s: status %v, want %v", id, item["status"], wantStatus[id])
		}
		samples := okSamples
		if wantStatus[id] >= 400 {
			samples = errSamples
		}
		checkShape(t, "batch item "+id, map[string]any{"responses": samples}, map[string]any{"responses": []any{item}})
	}
	if users := fidValuesOf(got[0].(map[string]any)["body"].(map[string]any), "value"); len(users) != 1 {
		t.Errorf("item 1 lists %d users, want 1", len(users))
	}
	if hdr, _ := got[0].(map[string]any)["headers"].(map[string]any); hdr["x-ms-resource-unit"] != "1" || hdr["OData-Version"] != "4.0" {
		t.Errorf("item 1 headers %s: want x-ms-resource-unit 1 (a list with $select) and OData-Version 4.0", jsonText(hdr))
	}
}

func TestFidelityErrors(t *testing.T) {
	em := startSample(t, graphemu.Options{})
	c := closing(t, sourceClient(t, em))
	eng := fidGroup(t, em, "engineering")

	// The generic, 501 and 429 samples (doc examples from 2019-2020) show
	// innerError without client-request-id; Graph sends it today, as the
	// 2021 unsupported-query sample and the 2025 batch sample's errors show.
	const clientReqID = "$.error.innerError.client-request-id: unexpected"

	// The generic envelope: code, message, innerError date, request-id,
	// client-request-id (echoed from the request header).
	status, body, hdr, _ := c.rawDo("GET", "/groups/00000000-0000-4000-8000-000000000000", nil, map[string]string{"client-request-id": "7964ef27-13a3-6ca4-ed7b-73c271110867"})
	if status != 404 {
		t.Fatalf("unknown group: %d %s", status, jsonText(body))
	}
	checkShape(t, "404 error", loadSample(t, "error-generic-example.json"), body, clientReqID)
	inner := body["error"].(map[string]any)["innerError"].(map[string]any)
	if _, err := time.Parse("2006-01-02T15:04:05", inner["date"].(string)); err != nil {
		t.Errorf("innerError.date %q: %v", inner["date"], err)
	}
	if rid, _ := inner["request-id"].(string); !fidGUID.MatchString(rid) || hdr.Get("request-id") != rid {
		t.Errorf("innerError.request-id %q, header request-id %q", rid, hdr.Get("request-id"))
	}
	if inner["client-request-id"] != "7964ef27-13a3-6ca4-ed7b-73c271110867" || hdr.Get("client-request-id") != inner["client-request-id"] {
		t.Errorf("client-request-id not echoed: body %v, header %q", inner["client-request-id"], hdr.Get("client-request-id"))
	}
	if ct := hdr.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("error Content-Type %q", ct)
	}

	// Request_UnsupportedQuery, as the advanced-query sample.
	status, body, _ = c.do("GET", "/groups/"+eng.ID+"/members?$top=1000", nil)
	if status != 400 {
		t.Fatalf("$top=1000: %d %s", status, jsonText(body))
	}
	checkShape(t, "400 unsupported query", loadSample(t, "error-400-unsupportedquery-consistencylevel.json"), body)

	// 501 for what is not implemented: an unknown route and a delta $select
	// of a property delta does not track (the sample's own case).
	sample501 := loadSample(t, "error-501-notimplemented-delta.json")
	for _, path := range []string{"/me/messages", "/groups/delta?$select=skills"} {
		status, body, _ = c.do("GET", path, nil)
		if status != 501 {
			t.Fatalf("%s: %d %s", path, status, jsonText(body))
		}
		checkShape(t, "501 "+path, sample501, body, clientReqID)
		got, want := body["error"].(map[string]any), sample501["error"].(map[string]any)
		if got["code"] != want["code"] || got["message"] != want["message"] {
			t.Errorf("%s: %v / %v, sample %v / %v", path, got["code"], got["message"], want["code"], want["message"])
		}
	}

	// 429 with a fractional Retry-After, as the throttling sample. Last:
	// the app stays throttled until Retry-After has passed.
	if err := em.ThrottleNext(graphemu.SampleSourceTenant, 1, 2128*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	status, body, hdr = c.do("GET", "/groups", nil)
	if status != 429 {
		t.Fatalf("throttled: %d %s", status, jsonText(body))
	}
	sample429 := loadSample(t, "error-429-throttled.json")
	checkShape(t, "429 error", sample429, body, clientReqID)
	if ra := hdr.Get("Retry-After"); ra != "2.128" {
		t.Errorf("Retry-After %q, want 2.128", ra)
	}
	got, want := body["error"].(map[string]any), sample429["error"].(map[string]any)
	gi, wi := got["innerError"].(map[string]any), want["innerError"].(map[string]any)
	if got["code"] != want["code"] || got["message"] != want["message"] || gi["code"] != wi["code"] || gi["status"] != wi["status"] || gi["message"] != wi["message"] {
		t.Errorf("429 body %s, sample %s", jsonText(got), jsonText(want))
	}
	// Still inside the window: throttled again, for what remains of it.
	status, _, hdr = c.do("GET", "/groups", nil)
	ra, err := strconv.ParseFloat(hdr.Get("Retry-After"), 64)
	if status != 429 || err != nil || ra <= 0 || ra > 2.128 {
		t.Errorf("second request: %d, Retry-After %q", status, hdr.Get("Retry-After"))
	}
}

// ---------------------------------------------------------------------------
// Subscriptions and notifications.

// fidRequest is one request the emulator sent to a webhook.
type fidRequest struct {
	method, path, contentType string
	query                     url.Values
	body                      []byte
}

// fidHook is a webhook receiver: it answers validation requests by echoing
// the token as text/plain (except on /reject, which refuses them) and
// records everything it receives.
type fidHook struct {
	srv         *httptest.Server
	mu          sync.Mutex
	validations []fidRequest
	posts       []fidRequest
}

func newFidHook(t *testing.T) *fidHook {
	h := &fidHook{}
	h.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		rec := fidRequest{method: r.Method, path: r.URL.Path, contentType: r.Header.Get("Content-Type"), query: r.URL.Query(), body: b}
		h.mu.Lock()
		defer h.mu.Unlock()
		if tok := r.URL.Query().Get("validationToken"); tok != "" {
			h.validations = append(h.validations, rec)
			if r.URL.Path == "/reject" {
				w.WriteHeader(http.StatusForbidden)
				return
			}
			w.Header().Set("Content-Type", "text/plain")
			_, _ = io.WriteString(w, tok)
			return
		}
		h.posts = append(h.posts, rec)
		w.WriteHeader(http.StatusAccepted)
	}))
	t.Cleanup(h.srv.Close)
	return h
}

// postsTo returns the recorded non-validation posts to path.
func (h *fidHook) postsTo(path string) []fidRequest {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []fidRequest
	for _, p := range h.posts {
		if p.path == path {
			out = append(out, p)
		}
	}
	return out
}

func (h *fidHook) validationCount() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.validations)
}

// readValidationSample parses validation-request.http: a header line and
// the request line "POST https://{notificationUrl}?validationToken={...}".
func readValidationSample(t *testing.T) (method, contentType, tokenParam string) {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", "graph-samples", "validation-request.http"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if v, found := strings.CutPrefix(line, "Content-Type:"); found {
			contentType = strings.TrimSpace(v)
		} else if m, rest, found := strings.Cut(line, " "); found && m == strings.ToUpper(m) {
			method = m
			_, q, _ := strings.Cut(rest, "?")
			tokenParam, _, _ = strings.Cut(q, "=")
		}
	}
	if method == "" || contentType == "" || tokenParam == "" {
		t.Fatalf("validation-request.http: method %q content type %q token parameter %q", method, contentType, tokenParam)
	}
	return method, contentType, tokenParam
}

func TestFidelitySubscriptionAndNotifications(t *testing.T) {
	em := startSample(t, graphemu.Options{AllowHTTPNotifications: true})
	h := newFidHook(t)
	c := closing(t, sourceClient(t, em))
	eng := fidGroup(t, em, "engineering")

	// The documented request (and its lifecycle variant), adapted to what
	// groups support.
	req := loadSample(t, "subscription-create-request.json")
	withLifecycle := loadSample(t, "subscription-create-with-lifecycle-request.json")
	expiry := time.Now().Add(4230 * time.Minute).UTC().Format("2006-01-02T15:04:05.0000000Z")
	req["changeType"] = "updated,deleted"
	req["resource"] = "/groups"
	req["notificationUrl"] = h.srv.URL + "/notify"
	req["lifecycleNotificationUrl"] = h.srv.URL + "/lifecycle"
	req["expirationDateTime"] = expiry
	if _, has := withLifecycle["lifecycleNotificationUrl"]; !has {
		t.Fatal("lifecycle sample lacks lifecycleNotificationUrl")
	}
	status, sub, _ := c.do("POST", "/subscriptions", req)
	if status != 201 {
		t.Fatalf("subscribe: %d %s", status, jsonText(sub))
	}
	sample := loadSample(t, "subscription-create-response.json")
	// The doc sample is abbreviated: a v1.0 subscription also carries these
	// properties (null or false when unused); lifecycleNotificationUrl is
	// set because this request sets it.
	checkShape(t, "POST /subscriptions", sample, sub,
		"$.encryptionCertificate: unexpected",
		"$.encryptionCertificateId: unexpected",
		"$.includeResourceData: unexpected",
		"$.lifecycleNotificationUrl: unexpected",
		"$.notificationQueryOptions: unexpected",
		"$.notificationUrlAppId: unexpected",
	)
	if got, want := afterVersion(sub["@odata.context"].(string)), afterVersion(sample["@odata.context"].(string)); got != want {
		t.Errorf("@odata.context ends %q, sample %q", got, want)
	}
	for k, want := range map[string]any{
		"changeType": "updated,deleted", "resource": "/groups", "clientState": "secretClientValue",
		"notificationUrl": h.srv.URL + "/notify", "lifecycleNotificationUrl": h.srv.URL + "/lifecycle",
		"expirationDateTime": expiry, "applicationId": graphemu.SampleSourceClientID,
		"latestSupportedTlsVersion": "v1_2", "notificationContentType": "application/json",
	} {
		if sub[k] != want {
			t.Errorf("subscription %s = %v, want %v", k, sub[k], want)
		}
	}
	subID, _ := sub["id"].(string)
	if !fidGUID.MatchString(subID) {
		t.Fatalf("subscription id %q", subID)
	}

	// The validation requests, as validation-request.http shows them.
	method, contentType, tokenParam := readValidationSample(t)
	h.mu.Lock()
	validations := slices.Clone(h.validations)
	h.mu.Unlock()
	if len(validations) != 2 {
		t.Fatalf("%d validation requests, want 2 (notification and lifecycle URLs)", len(validations))
	}
	for i, v := range validations {
		if v.method != method || v.contentType != contentType || v.query.Get(tokenParam) == "" || len(v.body) != 0 {
			t.Errorf("validation %d: %s %s Content-Type %q query %v body %q; sample: %s, %q, token in %s", i, v.method, v.path, v.contentType, v.query, v.body, method, contentType, tokenParam)
		}
		if want := []string{"/notify", "/lifecycle"}[i]; v.path != want {
			t.Errorf("validation %d went to %s, want %s", i, v.path, want)
		}
	}

	// A membership change: one notification, as Graph sends for groups.
	var newMember string
	for _, u := range sampleUserIDs(t, em) {
		if !slices.Contains(eng.Members, u) {
			newMember = u
			break
		}
	}
	if err := em.AddMember(graphemu.SampleSourceTenant, eng.ID, newMember); err != nil {
		t.Fatal(err)
	}
	waitfor.WaitFor(t, 10*time.Second, "the change notification", func() bool { return len(h.postsTo("/notify")) > 0 })
	post := h.postsTo("/notify")[0]
	if post.method != "POST" || !strings.HasPrefix(post.contentType, "application/json") {
		t.Errorf("notification: %s Content-Type %q", post.method, post.contentType)
	}
	var note map[string]any
	if err := json.Unmarshal(post.body, &note); err != nil {
		t.Fatalf("notification body %q: %v", post.body, err)
	}
	// The doc sample is an Outlook message notification: its item id (an
	// Outlook notification id) and resourceData @odata.etag have no
	// counterpart for directory objects, whose resourceData carries
	// organizationId, eventTime and sequenceNumber instead (the real group
	// notification quoted in microsoftgraph/microsoft-graph-docs#3457).
	checkShape(t, "change notification", loadSample(t, "change-notification-webhook-message.json"), note,
		"$.value[].id: missing",
		"$.value[].resourceData.@odata.etag: missing",
		"$.value[].resourceData.eventTime: unexpected",
		"$.value[].resourceData.organizationId: unexpected",
		"$.value[].resourceData.sequenceNumber: unexpected",
	)
	items := fidValues(t, note)
	if len(items) != 1 {
		t.Fatalf("%d notification items, want 1: %s", len(items), post.body)
	}
	item := items[0].(map[string]any)
	for k, want := range map[string]any{
		"changeType": "updated", "clientState": "secretClientValue", "resource": "Groups/" + eng.ID,
		"subscriptionExpirationDateTime": expiry, "subscriptionId": subID, "tenantId": graphemu.SampleSourceTenant,
	} {
		if item[k] != want {
			t.Errorf("notification %s = %v, want %v", k, item[k], want)
		}
	}
	rd, _ := item["resourceData"].(map[string]any)
	for k, want := range map[string]any{
		"@odata.type": "#Microsoft.Graph.Group", "@odata.id": "Groups/" + eng.ID, "id": eng.ID, "organizationId": graphemu.SampleSourceTenant,
	} {
		if rd[k] != want {
			t.Errorf("notification resourceData %s = %v, want %v", k, rd[k], want)
		}
	}
	// eventTime as Graph writes it ("2018-11-22T01:47:00.2455823Z"), and
	// sequenceNumber in .NET ticks of about that time (636784480202455800
	// in the issue).
	at, err := time.Parse("2006-01-02T15:04:05.0000000Z", fmt.Sprint(rd["eventTime"]))
	if err != nil || time.Since(at) > time.Minute || time.Since(at) < -time.Second {
		t.Errorf("resourceData.eventTime %v: %v", rd["eventTime"], err)
	}
	if seq, _ := rd["sequenceNumber"].(float64); seq < 6.3e17 {
		t.Errorf("resourceData.sequenceNumber %v: want .NET ticks", rd["sequenceNumber"])
	}

	// A lifecycle notification.
	if err := em.FireLifecycle(graphemu.SampleSourceTenant, subID, "reauthorizationRequired"); err != nil {
		t.Fatal(err)
	}
	waitfor.WaitFor(t, 10*time.Second, "the lifecycle notification", func() bool { return len(h.postsTo("/lifecycle")) > 0 })
	var life map[string]any
	if err := json.Unmarshal(h.postsTo("/lifecycle")[0].body, &life); err != nil {
		t.Fatal(err)
	}
	checkShape(t, "lifecycle notification", loadSample(t, "lifecycle-notification.json"), life)
	if items := fidValues(t, life); len(items) == 1 {
		item := items[0].(map[string]any)
		for k, want := range map[string]any{
			"lifecycleEvent": "reauthorizationRequired", "subscriptionId": subID, "tenantId": graphemu.SampleSourceTenant,
			"clientState": "secretClientValue", "subscriptionExpirationDateTime": expiry,
		} {
			if item[k] != want {
				t.Errorf("lifecycle %s = %v, want %v", k, item[k], want)
			}
		}
	} else {
		t.Errorf("%d lifecycle items, want 1", len(items))
	}
	if n := len(h.postsTo("/notify")); n != 1 {
		t.Errorf("%d notification posts, want 1", n)
	}
}
