package msgraph_test

// These tests drive the real msgraph-sdk-go + azidentity stack, built by
// msgraph.New, against the in-process Graph emulator: only the Graph base
// URL, the allowed host and the authority host differ from production.

import (
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	abstractions "github.com/microsoft/kiota-abstractions-go"
	msgraphcore "github.com/microsoftgraph/msgraph-sdk-go-core"
	"github.com/microsoftgraph/msgraph-sdk-go/groups"
	"github.com/microsoftgraph/msgraph-sdk-go/models"

	"github.com/xtsync/xtsync/pkg/graphemu"
	"github.com/xtsync/xtsync/pkg/msgraph"
)

const src = graphemu.SampleSourceTenant

func TestSDKListsGroupsWithSelect(t *testing.T) {
	t.Parallel()
	em := startEmulator(t)
	c := newClient(t, sourceConfig(em))

	resp, err := c.SDK().Groups().Get(t.Context(), &groups.GroupsRequestBuilderGetRequestConfiguration{
		QueryParameters: &groups.GroupsRequestBuilderGetQueryParameters{Select: []string{"id", "displayName"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, g := range resp.GetValue() {
		if !graphemu.IsGUID(deref(g.GetId())) {
			t.Errorf("group id %q is not a GUID", deref(g.GetId()))
		}
		if g.GetDescription() != nil || g.GetMailNickname() != nil {
			t.Errorf("group %s: unselected properties came back", deref(g.GetDisplayName()))
		}
		names = append(names, deref(g.GetDisplayName()))
	}
	if len(names) != 11 {
		t.Fatalf("groups: got %d %v, want 11", len(names), names)
	}
	for _, want := range []string{"Engineering", "Sales", "All Company", "Announcements", "Executives"} {
		if !slices.Contains(names, want) {
			t.Errorf("group %q missing from %v", want, names)
		}
	}
	if resp.GetOdataNextLink() != nil {
		t.Errorf("unexpected nextLink %s", *resp.GetOdataNextLink())
	}
	if got := em.Stats(src).Routes; got["GET /groups"] != 1 || len(got) != 1 {
		t.Errorf("emulator routes: %v, want one GET /groups", got)
	}
	if got := c.Counter().Snapshot(); got["GET /groups"] != 1 || len(got) != 1 {
		t.Errorf("client counter: %v, want one GET /groups", got)
	}
}

func TestSDKPagesMembersPast999(t *testing.T) {
	t.Parallel()
	em := startEmulator(t)
	ids := createUsers(t, em, "bulk", 2500)
	g, err := em.CreateGroup(src, graphemu.Group{DisplayName: "Big", MailNickname: "big", SecurityEnabled: true, Members: slices.Clone(ids)})
	if err != nil {
		t.Fatal(err)
	}
	c := newClient(t, sourceConfig(em))
	ctx := t.Context()

	top := int32(999)
	first, err := c.SDK().Groups().ByGroupId(g.ID).Members().Get(ctx, &groups.ItemMembersRequestBuilderGetRequestConfiguration{
		QueryParameters: &groups.ItemMembersRequestBuilderGetQueryParameters{Top: &top, Select: []string{"id"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if n := len(first.GetValue()); n != 999 {
		t.Fatalf("first page: %d members, want 999", n)
	}
	it, err := msgraphcore.NewPageIterator[models.DirectoryObjectable](first, c.Adapter(), models.CreateDirectoryObjectCollectionResponseFromDiscriminatorValue)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	if err := it.Iterate(ctx, func(o models.DirectoryObjectable) bool {
		if _, isUser := o.(models.Userable); !isUser {
			t.Errorf("member %s is a %T, want a user", deref(o.GetId()), o)
		}
		got = append(got, deref(o.GetId()))
		return true
	}); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, ids) {
		t.Fatalf("members: got %d, want the %d created, in order", len(got), len(ids))
	}
	if n := em.Stats(src).Routes["GET /groups/{id}/members"]; n != 3 {
		t.Errorf("member page requests: %d, want 3 (999 + 999 + 502)", n)
	}
	if n := c.Counter().Snapshot()["GET /groups/{id}/members"]; n != 3 {
		t.Errorf("client counter: %d member page requests, want 3", n)
	}
}

// bindRefs are members@odata.bind references for ids.
func bindRefs(c *msgraph.Client, ids []string) []string {
	refs := make([]string, 0, len(ids))
	for _, id := range ids {
		refs = append(refs, c.Endpoints().Graph+"/v1.0/directoryObjects/"+id)
	}
	return refs
}

// patchMembers adds ids to a group in one PATCH with members@odata.bind.
func patchMembers(t *testing.T, c *msgraph.Client, groupID string, ids []string) error {
	t.Helper()
	body := models.NewGroup()
	body.SetAdditionalData(map[string]any{"members@odata.bind": bindRefs(c, ids)})
	_, err := c.SDK().Groups().ByGroupId(groupID).Patch(t.Context(), body, nil)
	return err
}

func TestSDKAddsMembersWithOdataBind(t *testing.T) {
	t.Parallel()
	em := startEmulator(t)
	c := newClient(t, sourceConfig(em))
	g, err := em.CreateGroup(src, graphemu.Group{DisplayName: "Bind", MailNickname: "bind", SecurityEnabled: true})
	if err != nil {
		t.Fatal(err)
	}
	users := createUsers(t, em, "bind", 43)

	// 20 references: the most one write may carry.
	if err := patchMembers(t, c, g.ID, users[:20]); err != nil {
		t.Fatalf("20-member PATCH: %v", err)
	}
	after, _ := em.Group(src, g.ID)
	if !slices.Equal(after.Members, users[:20]) {
		t.Fatalf("members after the PATCH: %d %v, want the 20 added", len(after.Members), after.Members)
	}
	if n := em.Stats(src).Routes["PATCH /groups/{id}"]; n != 1 {
		t.Fatalf("PATCH requests: %d, want exactly 1", n)
	}

	// 21 references: refused whole.
	err = patchMembers(t, c, g.ID, users[20:41])
	if err == nil {
		t.Fatal("21-member PATCH succeeded, want 400")
	}
	oe := odataError(t, err)
	if oe.ResponseStatusCode != http.StatusBadRequest || errCode(oe) != "Request_BadRequest" {
		t.Errorf("21-member PATCH: status %d code %q (%s), want 400 Request_BadRequest", oe.ResponseStatusCode, errCode(oe), errMessage(oe))
	}
	if after, _ := em.Group(src, g.ID); len(after.Members) != 20 {
		t.Errorf("21-member PATCH added members: now %d, want 20", len(after.Members))
	}

	// One reference already a member: the whole write fails, nothing added.
	err = patchMembers(t, c, g.ID, []string{users[41], users[42], users[0]})
	if err == nil {
		t.Fatal("PATCH with an existing member succeeded, want 400")
	}
	oe = odataError(t, err)
	if oe.ResponseStatusCode != http.StatusBadRequest || !strings.Contains(errMessage(oe), "One or more added object references already exist") {
		t.Errorf("existing member: status %d message %q", oe.ResponseStatusCode, errMessage(oe))
	}
	after, _ = em.Group(src, g.ID)
	if len(after.Members) != 20 || slices.Contains(after.Members, users[41]) || slices.Contains(after.Members, users[42]) {
		t.Errorf("failed PATCH was not all-or-nothing: members now %d", len(after.Members))
	}
	if n := em.Stats(src).Routes["PATCH /groups/{id}"]; n != 3 {
		t.Errorf("PATCH requests: %d, want 3 (errors are not retried)", n)
	}
}

// deltaRound follows a delta round from its first page to the deltaLink and
// returns the group objects seen and the deltaLink.
func deltaRound(t *testing.T, c *msgraph.Client, first groups.DeltaGetResponseable) ([]models.Groupable, string) {
	t.Helper()
	var out []models.Groupable
	page := first
	for {
		out = append(out, page.GetValue()...)
		if dl := page.GetOdataDeltaLink(); dl != nil {
			return out, *dl
		}
		next := page.GetOdataNextLink()
		if next == nil {
			t.Fatal("delta page has neither nextLink nor deltaLink")
		}
		var err error
		if page, err = c.SDK().Groups().Delta().WithUrl(*next).GetAsDeltaGetResponse(t.Context(), nil); err != nil {
			t.Fatal(err)
		}
	}
}

// deltaMember is one members@delta entry.
type deltaMember struct {
	id      string
	removed bool
}

// membersDelta reads a delta group's members@delta from its additional data.
func membersDelta(t *testing.T, g models.Groupable) []deltaMember {
	t.Helper()
	raw, found := g.GetAdditionalData()["members@delta"]
	if !found {
		return nil
	}
	list, isList := raw.([]any)
	if !isList {
		t.Fatalf("members@delta is a %T", raw)
	}
	var out []deltaMember
	for _, item := range list {
		m, isMap := item.(map[string]any)
		if !isMap {
			t.Fatalf("members@delta item is a %T", item)
		}
		id, _ := m["id"].(*string)
		_, removed := m["@removed"]
		out = append(out, deltaMember{id: deref(id), removed: removed})
	}
	return out
}

func TestSDKReadsDeltaAfterChanges(t *testing.T) {
	t.Parallel()
	em := startEmulator(t)
	c := newClient(t, sourceConfig(em))
	ctx := t.Context()
	eng, sales, finance := sampleGroup(t, em, "Engineering"), sampleGroup(t, em, "Sales"), sampleGroup(t, em, "Finance")

	filter := "id eq '" + eng.ID + "' or id eq '" + sales.ID + "'"
	first, err := c.SDK().Groups().Delta().GetAsDeltaGetResponse(ctx, &groups.DeltaRequestBuilderGetRequestConfiguration{
		QueryParameters: &groups.DeltaRequestBuilderGetQueryParameters{Select: []string{"displayName", "members"}, Filter: &filter},
	})
	if err != nil {
		t.Fatal(err)
	}
	initial, deltaLink := deltaRound(t, c, first)
	seen := map[string]int{}
	for _, g := range initial {
		seen[deref(g.GetId())] += len(membersDelta(t, g))
	}
	if len(seen) != 2 || seen[eng.ID] != len(eng.Members) || seen[sales.ID] != len(sales.Members) {
		t.Fatalf("initial round: members per group %v, want %s:%d %s:%d", seen, eng.ID, len(eng.Members), sales.ID, len(sales.Members))
	}
	if !strings.Contains(deltaLink, "$deltatoken=") {
		t.Fatalf("deltaLink %q has no $deltatoken", deltaLink)
	}

	added, removed := sampleUserID(t, em, "raulr"), eng.Members[0]
	if err := em.AddMember(src, eng.ID, added); err != nil {
		t.Fatal(err)
	}
	if err := em.RemoveMember(src, eng.ID, removed); err != nil {
		t.Fatal(err)
	}
	if err := em.UpdateGroup(src, sales.ID, func(g *graphemu.Group) { g.DisplayName = "Sales EMEA" }); err != nil {
		t.Fatal(err)
	}
	if err := em.AddMember(src, finance.ID, added); err != nil { // outside the filter
		t.Fatal(err)
	}

	page, err := c.SDK().Groups().Delta().WithUrl(deltaLink).GetAsDeltaGetResponse(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	changes, nextDelta := deltaRound(t, c, page)
	var engDelta []deltaMember
	salesName := ""
	for _, g := range changes {
		switch deref(g.GetId()) {
		case eng.ID:
			engDelta = append(engDelta, membersDelta(t, g)...)
		case sales.ID:
			salesName = deref(g.GetDisplayName())
		default:
			t.Errorf("delta returned group %s outside the filter", deref(g.GetId()))
		}
	}
	want := []deltaMember{{id: added}, {id: removed, removed: true}}
	if !slices.Equal(engDelta, want) {
		t.Errorf("Engineering members@delta: %+v, want %+v", engDelta, want)
	}
	if salesName != "Sales EMEA" {
		t.Errorf("Sales displayName in delta: %q, want %q", salesName, "Sales EMEA")
	}

	// After Graph drops the sync state the deltaLink answers 410.
	if err := em.ExpireDeltaTokens(src); err != nil {
		t.Fatal(err)
	}
	_, err = c.SDK().Groups().Delta().WithUrl(nextDelta).GetAsDeltaGetResponse(ctx, nil)
	if err == nil {
		t.Fatal("expired deltaLink succeeded, want 410")
	}
	oe := odataError(t, err)
	if oe.ResponseStatusCode != http.StatusGone || errCode(oe) != "syncStateNotFound" {
		t.Errorf("expired deltaLink: status %d code %q, want 410 syncStateNotFound", oe.ResponseStatusCode, errCode(oe))
	}
	if n := em.Stats(src).Routes["GET /groups/delta"]; n != c.Counter().Snapshot()["GET /groups/delta"] || n < 3 {
		t.Errorf("delta requests: emulator %d, client %v", n, c.Counter().Snapshot())
	}
}

func TestSDKBatchRemovesMembers(t *testing.T) {
	t.Parallel()
	em := startEmulator(t)
	c := newClient(t, sourceConfig(em))
	ctx := t.Context()
	users := createUsers(t, em, "batch", 20)
	g, err := em.CreateGroup(src, graphemu.Group{DisplayName: "Batch", MailNickname: "batch", SecurityEnabled: true, Members: slices.Clone(users)})
	if err != nil {
		t.Fatal(err)
	}

	batch := msgraphcore.NewBatchRequest(c.Adapter())
	for _, m := range users {
		info, err := c.SDK().Groups().ByGroupId(g.ID).Members().ByDirectoryObjectId(m).Ref().ToDeleteRequestInformation(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := batch.AddBatchRequestStep(*info); err != nil {
			t.Fatal(err)
		}
	}
	// The SDK itself refuses a 21st item.
	extra, _ := c.SDK().Groups().ByGroupId(g.ID).ToGetRequestInformation(ctx, nil)
	if _, err := batch.AddBatchRequestStep(*extra); err == nil {
		t.Error("the SDK accepted a 21st batch item")
	}
	resp, err := batch.Send(ctx, c.Adapter())
	if err != nil {
		t.Fatal(err)
	}
	codes := resp.GetStatusCodes()
	if len(codes) != 20 {
		t.Fatalf("batch answers: %d, want 20", len(codes))
	}
	for id, code := range codes {
		if code != http.StatusNoContent {
			t.Errorf("batch item %s: status %d, want 204", id, code)
		}
	}
	if after, _ := em.Group(src, g.ID); len(after.Members) != 0 {
		t.Errorf("members left after the batch: %v", after.Members)
	}
	routes := em.Stats(src).Routes
	if routes["DELETE /groups/{id}/members/{id}/$ref"] != 20 || routes["POST /$batch"] != 1 || len(routes) != 2 {
		t.Errorf("emulator routes: %v, want 20 member deletes and one $batch", routes)
	}
	if got := c.Counter().Snapshot(); got["POST /$batch"] != 1 || len(got) != 1 {
		t.Errorf("client counter: %v, want one POST /$batch", got)
	}
}

func TestSDKHonoursFractionalRetryAfter(t *testing.T) {
	t.Parallel()
	em := startEmulator(t)
	c := newClient(t, sourceConfig(em))
	eng := sampleGroup(t, em, "Engineering")
	// Sign in first so the wait measured is the retry's alone.
	if _, err := c.SDK().Groups().ByGroupId(eng.ID).Get(t.Context(), nil); err != nil {
		t.Fatal(err)
	}
	if err := em.ResetStats(src); err != nil {
		t.Fatal(err)
	}
	if err := em.ThrottleNext(src, 1, 1250*time.Millisecond); err != nil {
		t.Fatal(err)
	}

	start := time.Now()
	g, err := c.SDK().Groups().ByGroupId(eng.ID).Get(t.Context(), nil)
	elapsed := time.Since(start)
	if err != nil {
		t.Fatal(err)
	}
	if deref(g.GetDisplayName()) != "Engineering" {
		t.Errorf("group: %q", deref(g.GetDisplayName()))
	}
	st := em.Stats(src)
	if st.Throttled != 1 {
		t.Errorf("throttled answers: %d, want exactly 1 (a retry before 1.25 s draws another 429)", st.Throttled)
	}
	if n := st.Routes["GET /groups/{id}"]; n != 2 {
		t.Errorf("GET /groups/{id}: %d, want 2 (the 429 and the retry)", n)
	}
	if elapsed < 1250*time.Millisecond {
		t.Errorf("elapsed %s, want at least 1.25 s", elapsed)
	}
	if n := c.Counter().Snapshot()["GET /groups/{id}"]; n != 3 {
		t.Errorf("client counter: %d GET /groups/{id}, want 3 (one before, the 429, the retry)", n)
	}
}

func TestSDKRetryIsOurs(t *testing.T) {
	t.Parallel()
	em := startEmulator(t)
	cfg := sourceConfig(em)
	cfg.Retry = msgraph.RetryPolicy{MaxAttempts: 1} // no retries of ours
	c := newClient(t, cfg)
	if err := em.ThrottleNext(src, 1, 100*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	_, err := c.SDK().Groups().Get(t.Context(), nil)
	if err == nil {
		t.Fatal("a 429 was retried although our retry layer is off: kiota's RetryHandler is still in the pipeline")
	}
	if oe := odataError(t, err); oe.ResponseStatusCode != http.StatusTooManyRequests {
		t.Errorf("status %d, want 429", oe.ResponseStatusCode)
	}
	if st := em.Stats(src); st.Throttled != 1 || st.Routes["GET /groups"] != 1 {
		t.Errorf("emulator: %d throttled, routes %v; want one request", st.Throttled, st.Routes)
	}
}

func TestSDKBadSecret(t *testing.T) {
	t.Parallel()
	em := startEmulator(t)
	cfg := sourceConfig(em)
	cfg.ClientSecret = "not-the-secret"
	c := newClient(t, cfg)
	_, err := c.SDK().Groups().Get(t.Context(), nil)
	if err == nil {
		t.Fatal("signed in with a wrong secret")
	}
	var se *msgraph.SignInError
	if msg := err.Error(); !strings.Contains(msg, "AADSTS7000215") || !strings.Contains(msg, "client_secret") || !errors.As(err, &se) || !strings.Contains(errors.Unwrap(se).Error(), "invalid_client") {
		t.Errorf("error does not name AADSTS7000215 and client_secret (with Entra's invalid_client underneath): %v", err)
	}
	if routes := em.Stats(src).Routes; len(routes) != 0 {
		t.Errorf("Graph was called without a token: %v", routes)
	}
}

func TestSDKSendsTokenOnlyToGraphHost(t *testing.T) {
	t.Parallel()
	em := startEmulator(t)
	rec := &recorder{next: em.HTTPClient().Transport}
	cfg := sourceConfig(em)
	cfg.HTTPClient = &http.Client{Transport: rec, Timeout: 30 * time.Second}
	c := newClient(t, cfg)
	ctx := t.Context()

	if _, err := c.SDK().Groups().Get(ctx, nil); err != nil {
		t.Fatal(err)
	}
	// The same emulator under another name (its certificate covers
	// localhost): not an allowed host, so no token goes with the request,
	// and the emulator refuses it.
	u, _ := url.Parse(em.URL())
	other := "https://localhost:" + u.Port() + "/v1.0/groups"
	_, err := c.SDK().Groups().WithUrl(other).Get(ctx, nil)
	if err == nil {
		t.Fatal("request to a host outside the allowed hosts succeeded")
	}
	if oe := odataError(t, err); oe.ResponseStatusCode != http.StatusUnauthorized || errMessage(oe) != "Access token is empty." {
		t.Errorf("other host: status %d %q, want 401 with an empty token", oe.ResponseStatusCode, errMessage(oe))
	}
	var graph, otherHost, login int
	for _, s := range rec.requests() {
		switch {
		case !strings.HasPrefix(s.path, "/v1.0/"): // OpenID discovery and token
			login++
			if s.bearer {
				t.Errorf("a token was sent to the sign-in endpoint %s", s.path)
			}
		case strings.HasPrefix(s.host, "localhost:"):
			otherHost++
			if s.bearer {
				t.Errorf("a token was sent to %s%s", s.host, s.path)
			}
		default:
			graph++
			if !s.bearer {
				t.Errorf("no token sent to the Graph host %s%s", s.host, s.path)
			}
		}
	}
	if graph != 1 || otherHost != 1 || login == 0 {
		t.Errorf("requests: %d Graph, %d other host, %d sign-in; want 1, 1 and some (%+v)", graph, otherHost, login, rec.requests())
	}
}

func TestClientBaseURL(t *testing.T) {
	t.Parallel()
	// Request builders (and the batch built from their request
	// information) carry the base URL the client was built with.
	em := startEmulator(t)
	c := newClient(t, sourceConfig(em))
	if got, want := c.Adapter().GetBaseUrl(), em.GraphURL(); got != want {
		t.Errorf("base URL %q, want %q", got, want)
	}
	info, err := c.SDK().Groups().ToGetRequestInformation(t.Context(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if info.Method != abstractions.GET {
		t.Errorf("method %v", info.Method)
	}
	u, err := info.GetUri()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(u.String(), em.GraphURL()+"/groups") {
		t.Errorf("request URL %s is not under %s", u, em.GraphURL())
	}
}
