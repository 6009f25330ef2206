package graphemu_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/xtsync/xtsync/internal/waitfor"
	"github.com/xtsync/xtsync/pkg/graphemu"
)

const (
	src = graphemu.SampleSourceTenant
	dst = graphemu.SampleTargetTenant
)

func sampleGroup(t *testing.T, em *graphemu.Emulator, nick string) graphemu.Group {
	t.Helper()
	for _, g := range em.Groups(src) {
		if g.MailNickname == nick {
			return g
		}
	}
	t.Fatalf("sample group %s missing", nick)
	return graphemu.Group{}
}

func values(t *testing.T, body map[string]any) []map[string]any {
	t.Helper()
	raw, ok := body["value"].([]any)
	if !ok {
		t.Fatalf("no value array in %v", body)
	}
	out := make([]map[string]any, len(raw))
	for i, v := range raw {
		out[i] = v.(map[string]any)
	}
	return out
}

// deltaRound follows nextLinks from path to the deltaLink and returns every
// object seen and the deltaLink.
func deltaRound(t *testing.T, c *client, path string) ([]map[string]any, string, int) {
	t.Helper()
	var all []map[string]any
	pages := 0
	for {
		status, body, _ := c.do("GET", path, nil)
		if status != 200 {
			t.Fatalf("delta %s: %d %v", path, status, body)
		}
		pages++
		all = append(all, values(t, body)...)
		if next, ok := body["@odata.nextLink"].(string); ok {
			path = next
			continue
		}
		link, ok := body["@odata.deltaLink"].(string)
		if !ok {
			t.Fatalf("last page has neither nextLink nor deltaLink: %v", body)
		}
		return all, link, pages
	}
}

// memberDelta folds members@delta of every object for group id into
// added and removed ids.
func memberDelta(objs []map[string]any, id string) (added, removed []string) {
	for _, o := range objs {
		if o["id"] != id {
			continue
		}
		ms, _ := o["members@delta"].([]any)
		for _, m := range ms {
			mm := m.(map[string]any)
			if _, gone := mm["@removed"]; gone {
				removed = append(removed, mm["id"].(string))
			} else {
				added = append(added, mm["id"].(string))
			}
		}
	}
	return added, removed
}

func TestDeltaTracksMembershipAndProperties(t *testing.T) {
	em := startSample(t, graphemu.Options{})
	c := sourceClient(t, em)
	eng, sales := sampleGroup(t, em, "engineering"), sampleGroup(t, em, "sales")
	q := fmt.Sprintf("/groups/delta?$select=displayName,members&$filter=id eq '%s' or id eq '%s'", eng.ID, sales.ID)
	objs, link, _ := deltaRound(t, c, q)
	added, _ := memberDelta(objs, eng.ID)
	if got, want := len(added), len(eng.Members); got != want {
		t.Fatalf("initial round: got %d engineering members, want %d", got, want)
	}
	if len(objs) != 2 {
		t.Fatalf("initial round: got %d objects, want 2 (filtered)", len(objs))
	}

	// Nothing changed: an empty page with a new deltaLink.
	objs, link, _ = deltaRound(t, c, link)
	if len(objs) != 0 {
		t.Fatalf("no-change round returned %v", objs)
	}

	newcomer := sales.Members[0]
	gone := eng.Members[1]
	must(t, em.AddMember(src, eng.ID, newcomer))
	must(t, em.RemoveMember(src, eng.ID, gone))
	must(t, em.UpdateGroup(src, eng.ID, func(g *graphemu.Group) { g.DisplayName = "Engineering (renamed)" }))
	// A change outside the filter is not reported.
	must(t, em.AddMember(src, sampleGroup(t, em, "finance").ID, newcomer))

	objs, link, _ = deltaRound(t, c, link)
	if len(objs) != 1 || objs[0]["id"] != eng.ID {
		t.Fatalf("changed round: got %v, want only engineering", objs)
	}
	if got := objs[0]["displayName"]; got != "Engineering (renamed)" {
		t.Errorf("displayName: got %v", got)
	}
	added, removed := memberDelta(objs, eng.ID)
	if !slices.Equal(added, []string{newcomer}) || !slices.Equal(removed, []string{gone}) {
		t.Errorf("members@delta: added %v removed %v, want [%s] [%s]", added, removed, newcomer, gone)
	}

	// Add then remove within one round nets to a no-op for that member.
	must(t, em.AddMember(src, sales.ID, eng.Members[0]))
	must(t, em.RemoveMember(src, sales.ID, eng.Members[0]))
	objs, link, _ = deltaRound(t, c, link)
	added, removed = memberDelta(objs, sales.ID)
	if len(added) != 0 {
		t.Errorf("add+remove reported as added: %v", added)
	}
	_ = removed

	// Soft delete: @removed reason "changed".
	must(t, em.DeleteGroup(src, sales.ID))
	objs, _, _ = deltaRound(t, c, link)
	if len(objs) != 1 || objs[0]["id"] != sales.ID {
		t.Fatalf("delete round: %v", objs)
	}
	if r, _ := objs[0]["@removed"].(map[string]any); r["reason"] != "changed" {
		t.Errorf("soft delete @removed: got %v, want reason changed", objs[0]["@removed"])
	}
}

func TestDeltaPagesAndSplitsLargeMemberships(t *testing.T) {
	em := startSample(t, graphemu.Options{})
	must(t, em.SetFaults(src, graphemu.Faults{PageSize: 7}))
	c := sourceClient(t, em)
	eng := sampleGroup(t, em, "engineering") // 16 members: 3 objects of 7, 7, 2
	objs, _, pages := deltaRound(t, c, "/groups/delta?$select=displayName,members")
	added, _ := memberDelta(objs, eng.ID)
	slices.Sort(added)
	want := slices.Clone(eng.Members)
	slices.Sort(want)
	if !slices.Equal(added, want) {
		t.Fatalf("split members: got %d, want %d", len(added), len(want))
	}
	if pages < 3 {
		t.Errorf("page size 7 over 11 groups: got %d pages", pages)
	}
}

func TestDeltaLatestAndExpiry(t *testing.T) {
	em := startSample(t, graphemu.Options{})
	c := sourceClient(t, em)
	objs, link, _ := deltaRound(t, c, "/groups/delta?$select=displayName,members&$deltatoken=latest")
	if len(objs) != 0 {
		t.Fatalf("$deltatoken=latest returned %d objects", len(objs))
	}
	eng := sampleGroup(t, em, "engineering")
	must(t, em.RemoveMember(src, eng.ID, eng.Members[0]))
	objs, link, _ = deltaRound(t, c, link)
	if _, removed := memberDelta(objs, eng.ID); !slices.Equal(removed, eng.Members[:1]) {
		t.Fatalf("after latest: removed %v", removed)
	}
	must(t, em.ExpireDeltaTokens(src))
	status, body, _ := c.do("GET", link, nil)
	if status != 410 || errCode(body) != "syncStateNotFound" {
		t.Fatalf("expired token: %d %v", status, body)
	}
	// A new round works again.
	deltaRound(t, c, "/groups/delta?$select=members")
}

func errCode(body map[string]any) string {
	e, _ := body["error"].(map[string]any)
	s, _ := e["code"].(string)
	return s
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func TestTransitiveMembers(t *testing.T) {
	em := startSample(t, graphemu.Options{})
	c := sourceClient(t, em)
	platform, sre := sampleGroup(t, em, "platform"), sampleGroup(t, em, "sre")
	status, body, _ := c.do("GET", "/groups/"+platform.ID+"/transitiveMembers?$select=id", nil)
	if status != 200 {
		t.Fatal(status, body)
	}
	var got []string
	for _, v := range values(t, body) {
		got = append(got, v["id"].(string))
	}
	want := append(slices.Clone(platform.Members), sre.Members...)
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("transitive: got %v, want %v", got, want)
	}
	status, body, _ = c.do("GET", "/groups/"+platform.ID+"/members", nil)
	if status != 200 {
		t.Fatalf("members: %d %v", status, body)
	}
	types := map[string]int{}
	for _, v := range values(t, body) {
		types[v["@odata.type"].(string)]++
	}
	if types["#microsoft.graph.group"] != 1 || types["#microsoft.graph.user"] != 3 {
		t.Errorf("direct member types: %v", types)
	}
}

func TestReplicationDelay(t *testing.T) {
	now := time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)
	var mu sync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	em := startSample(t, graphemu.Options{Now: clock})
	must(t, em.SetFaults(dst, graphemu.Faults{ReplicationDelay: graphemu.Duration(2 * time.Second)}))
	c := targetClient(t, em)
	status, body, _ := c.do("POST", "/groups", map[string]any{"displayName": "X", "mailNickname": "x", "mailEnabled": false, "securityEnabled": true})
	if status != 201 {
		t.Fatal(status, body)
	}
	id := body["id"].(string)
	if status, _, _ := c.do("GET", "/groups/"+id, nil); status != 404 {
		t.Fatalf("read right after create: got %d, want 404", status)
	}
	mu.Lock()
	now = now.Add(2 * time.Second)
	mu.Unlock()
	if status, _, _ := c.do("GET", "/groups/"+id, nil); status != 200 {
		t.Fatalf("read after the delay: got %d, want 200", status)
	}
}

func TestWriteBudgetThrottles(t *testing.T) {
	now := time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)
	em := startSample(t, graphemu.Options{Now: func() time.Time { return now }})
	must(t, em.SetFaults(src, graphemu.Faults{WriteRate: 20, WriteBurst: 20}))
	c := sourceClient(t, em)
	eng := sampleGroup(t, em, "engineering")
	ok, throttled := 0, 0
	var last http.Header
	for i := 0; i < 25; i++ {
		status, _, h := c.do("DELETE", "/groups/"+eng.ID+"/members/"+eng.Members[i%len(eng.Members)]+"/$ref", nil)
		switch status {
		case 204, 404:
			ok++
		case 429:
			throttled++
			last = h
		default:
			t.Fatalf("status %d", status)
		}
	}
	if ok != 20 || throttled != 5 {
		t.Fatalf("burst 20 at a frozen clock: ok %d throttled %d, want 20 and 5", ok, throttled)
	}
	if got := last.Get("Retry-After"); got == "" || got == "0" {
		t.Errorf("Retry-After %q", got)
	}
	// A budget's 429 names it, as Graph's identity and access service does.
	if got, want := last.Get("x-ms-throttle-scope"), "Tenant_Application/Write/"+graphemu.SampleSourceClientID+"/"+src; got != want {
		t.Errorf("x-ms-throttle-scope: got %q, want %q", got, want)
	}
	if got, want := last.Get("x-ms-throttle-information"), "WriteLimitExceeded"; got != want {
		t.Errorf("x-ms-throttle-information: got %q, want %q", got, want)
	}
	// The app's writes stay throttled until Retry-After passes; its reads,
	// under their own budget, go on.
	if status, _, _ := c.do("PATCH", "/groups/"+eng.ID, map[string]any{"description": "x"}); status != 429 {
		t.Errorf("write while throttled: got %d, want 429", status)
	}
	if status, _, _ := c.do("GET", "/groups/"+eng.ID, nil); status != 200 {
		t.Errorf("read while writes are throttled: got %d, want 200", status)
	}
}

// TestRandomThrottleIsPerRequest: a random 429 names no limit and holds
// only the request that drew it; the app's next requests are served.
func TestRandomThrottleIsPerRequest(t *testing.T) {
	em := startSample(t, graphemu.Options{Seed: 7})
	must(t, em.SetFaults(src, graphemu.Faults{ThrottleRate: 0.5, RetryAfterMin: graphemu.Duration(time.Hour), RetryAfterMax: graphemu.Duration(time.Hour)}))
	c := sourceClient(t, em)
	ok, throttled := 0, 0
	for range 40 {
		status, _, h := c.do("GET", "/organization", nil)
		switch status {
		case 200:
			ok++
		case 429:
			throttled++
			if h.Get("x-ms-throttle-scope") != "" || h.Get("Retry-After") != "3600" {
				t.Errorf("random 429: scope %q, Retry-After %q; want none and 3600", h.Get("x-ms-throttle-scope"), h.Get("Retry-After"))
			}
		default:
			t.Fatalf("status %d", status)
		}
	}
	// With an hour's Retry-After, a 429 that blocked the app would leave
	// every later request throttled.
	if ok < 10 || throttled < 10 {
		t.Errorf("at a rate of 0.5: %d served, %d throttled; want both at least 10", ok, throttled)
	}
}

func TestRandomFaultsAreDeterministic(t *testing.T) {
	run := func() []int {
		em := startSample(t, graphemu.Options{Seed: 42})
		must(t, em.SetFaults(src, graphemu.Faults{ServerErrorRate: 0.3}))
		c := sourceClient(t, em)
		var out []int
		for i := 0; i < 30; i++ {
			status, _, _ := c.do("GET", "/organization", nil)
			out = append(out, status)
		}
		return out
	}
	a, b := run(), run()
	if !slices.Equal(a, b) {
		t.Fatalf("same seed, different faults:\n%v\n%v", a, b)
	}
	if !slices.Contains(a, 503) || !slices.Contains(a, 200) {
		t.Fatalf("30%% 503s over 30 calls: %v", a)
	}
}

func TestInvitationAndRestore(t *testing.T) {
	em := startSample(t, graphemu.Options{})
	c := targetClient(t, em)
	status, body, _ := c.do("POST", "/invitations", map[string]any{
		"invitedUserEmailAddress": "adelev@contoso.com", "inviteRedirectUrl": "https://myapps.microsoft.com",
		"sendInvitationMessage": false, "invitedUserType": "Member",
	})
	if status != 201 {
		t.Fatal(status, body)
	}
	uid := body["invitedUser"].(map[string]any)["id"].(string)
	u, ok := em.User(dst, uid)
	if !ok || u.UserType != "Member" || u.CreationType != "Invitation" || !strings.Contains(u.UserPrincipalName, "#EXT#@fabrikam.onmicrosoft.com") {
		t.Fatalf("invited user: %+v", u)
	}
	status, body, _ = c.do("GET", "/users?$filter=mail eq 'adelev@contoso.com'&$select=id,userType,creationType,externalUserState", nil)
	if v := values(t, body); status != 200 || len(v) != 1 || v[0]["creationType"] != "Invitation" || v[0]["externalUserState"] != "PendingAcceptance" {
		t.Fatalf("filter by mail: %d %v", status, body)
	}
	// A group deleted and restored keeps its members.
	status, body, _ = c.do("POST", "/groups", map[string]any{"displayName": "G", "mailNickname": "g", "mailEnabled": false, "securityEnabled": true,
		"members@odata.bind": []string{em.GraphURL() + "/directoryObjects/" + uid}})
	if status != 201 {
		t.Fatal(status, body)
	}
	gid := body["id"].(string)
	if status, _, _ := c.do("DELETE", "/groups/"+gid, nil); status != 204 {
		t.Fatal(status)
	}
	if status, _, _ := c.do("GET", "/groups/"+gid, nil); status != 404 {
		t.Fatalf("deleted group readable: %d", status)
	}
	status, body, _ = c.do("GET", "/directory/deletedItems/microsoft.graph.group", nil)
	if v := values(t, body); status != 200 || len(v) != 1 || v[0]["id"] != gid {
		t.Fatalf("deleted items: %v", body)
	}
	if status, body, _ = c.do("POST", "/directory/deletedItems/"+gid+"/restore", nil); status != 200 {
		t.Fatal(status, body)
	}
	g, ok := em.Group(dst, gid)
	if !ok || !slices.Equal(g.Members, []string{uid}) {
		t.Fatalf("restored group: %+v", g)
	}
}

// hook is a webhook endpoint recording what the emulator posts.
type hook struct {
	mu       sync.Mutex
	bodies   []string
	fail     int // answer 500 to this many notification posts
	failed   int
	srv      *httptest.Server
	requests int
}

func newHook(t *testing.T) *hook {
	h := &hook{}
	h.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if tok := r.URL.Query().Get("validationToken"); tok != "" {
			w.Header().Set("Content-Type", "text/plain")
			io.WriteString(w, tok)
			return
		}
		b, _ := io.ReadAll(r.Body)
		h.mu.Lock()
		defer h.mu.Unlock()
		h.requests++
		if h.failed < h.fail {
			h.failed++
			w.WriteHeader(500)
			return
		}
		h.bodies = append(h.bodies, string(b))
		w.WriteHeader(202)
	}))
	t.Cleanup(h.srv.Close)
	return h
}

// count returns how many notification items mention s.
func (h *hook) count(s string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	n := 0
	for _, b := range h.bodies {
		n += strings.Count(b, s)
	}
	return n
}

func subscribe(t *testing.T, c *client, url, resource string) string {
	t.Helper()
	status, body, _ := c.do("POST", "/subscriptions", map[string]any{
		"changeType": "updated,deleted", "notificationUrl": url + "/notifications", "lifecycleNotificationUrl": url + "/lifecycle",
		"resource": resource, "expirationDateTime": time.Now().Add(40000 * time.Minute).UTC().Format(time.RFC3339), "clientState": "s3cret",
	})
	if status != 201 {
		t.Fatalf("subscribe: %d %v", status, body)
	}
	return body["id"].(string)
}

func TestNotificationsRetriedUntilDelivered(t *testing.T) {
	em := startSample(t, graphemu.Options{AllowHTTPNotifications: true, NotifyRetryBase: 20 * time.Millisecond})
	h := newHook(t)
	h.fail = 2
	c := sourceClient(t, em)
	subscribe(t, c, h.srv.URL, "/groups")
	eng := sampleGroup(t, em, "engineering")
	must(t, em.RemoveMember(src, eng.ID, eng.Members[0]))
	waitfor.WaitFor(t, 10*time.Second, "delivery after two failures", func() bool { return h.count(`"resource":"Groups/`+eng.ID+`"`) == 1 })
	waitfor.WaitFor(t, 10*time.Second, "delivered count", func() bool { return em.DeliveryStats().Delivered == 1 })
	if st := em.DeliveryStats(); st.Retried != 2 {
		t.Errorf("stats %+v, want 2 retries", st)
	}
}

func TestSlowEndpointIsRetried(t *testing.T) {
	em := startSample(t, graphemu.Options{AllowHTTPNotifications: true, NotifyTimeout: 100 * time.Millisecond, NotifyRetryBase: 20 * time.Millisecond})
	var mu sync.Mutex
	calls := 0
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if tok := r.URL.Query().Get("validationToken"); tok != "" {
			io.WriteString(w, tok)
			return
		}
		mu.Lock()
		calls++
		n := calls
		mu.Unlock()
		if n == 1 {
			time.Sleep(300 * time.Millisecond) // beyond the endpoint timeout
		}
		w.WriteHeader(202)
	}))
	t.Cleanup(slow.Close)
	c := sourceClient(t, em)
	subscribe(t, c, slow.URL, "/groups")
	eng := sampleGroup(t, em, "engineering")
	must(t, em.RemoveMember(src, eng.ID, eng.Members[0]))
	waitfor.WaitFor(t, 10*time.Second, "a redelivery after the slow answer", func() bool { return em.DeliveryStats().Delivered == 1 })
	mu.Lock()
	defer mu.Unlock()
	if calls != 2 || em.DeliveryStats().Retried != 1 {
		t.Errorf("calls %d, stats %+v: want the slow delivery retried once", calls, em.DeliveryStats())
	}
}

func TestNotificationsOnlyForSubscribedGroup(t *testing.T) {
	em := startSample(t, graphemu.Options{AllowHTTPNotifications: true})
	h := newHook(t)
	c := sourceClient(t, em)
	eng, sales := sampleGroup(t, em, "engineering"), sampleGroup(t, em, "sales")
	subscribe(t, c, h.srv.URL, "/groups/"+eng.ID)
	must(t, em.RemoveMember(src, sales.ID, sales.Members[0]))
	must(t, em.DeleteGroup(src, eng.ID))
	waitfor.WaitFor(t, 10*time.Second, "the engineering notification", func() bool { return h.count(`"resource":"Groups/`+eng.ID+`"`) >= 1 })
	if n := h.count(`"resource":"Groups/` + sales.ID + `"`); n != 0 {
		t.Errorf("sales notified %d times under a per-group subscription", n)
	}
	if n := h.count(`"changeType":"updated"`); n < 1 {
		t.Errorf("soft delete must be notified as updated")
	}
}

func TestNotificationDropAndDuplicate(t *testing.T) {
	em := startSample(t, graphemu.Options{AllowHTTPNotifications: true, Seed: 7})
	must(t, em.SetFaults(src, graphemu.Faults{NotifyDropRate: 0.3, NotifyDuplicateRate: 0.3}))
	h := newHook(t)
	c := sourceClient(t, em)
	subscribe(t, c, h.srv.URL, "/groups")
	eng := sampleGroup(t, em, "engineering")
	for _, m := range eng.Members {
		must(t, em.RemoveMember(src, eng.ID, m))
	}
	st := em.DeliveryStats()
	if st.Dropped == 0 || st.Duplicated == 0 {
		t.Fatalf("30%% drop/dup over %d changes: %+v", len(eng.Members), st)
	}
	want := len(eng.Members) - st.Dropped + st.Duplicated
	waitfor.WaitFor(t, 10*time.Second, "all surviving notifications", func() bool { return h.count(`"resource":"Groups/`+eng.ID+`"`) == want })
}

func TestReauthorizationLifecycle(t *testing.T) {
	em := startSample(t, graphemu.Options{AllowHTTPNotifications: true, ReauthBefore: 41000 * time.Minute, LifecycleTick: 10 * time.Millisecond})
	h := newHook(t)
	c := sourceClient(t, em)
	id := subscribe(t, c, h.srv.URL, "/groups")
	waitfor.WaitFor(t, 10*time.Second, "reauthorizationRequired", func() bool { return h.count(`"reauthorizationRequired"`) == 1 })
	if h.count(id) < 1 {
		t.Errorf("lifecycle event does not name subscription %s", id)
	}
	// Renewing resets it; a missed event can be fired by the control API.
	status, body, _ := c.do("PATCH", "/subscriptions/"+id, map[string]any{"expirationDateTime": time.Now().Add(41700 * time.Minute).UTC().Format(time.RFC3339)})
	if status != 200 {
		t.Fatal(status, body)
	}
	must(t, em.FireLifecycle(src, id, "missed"))
	waitfor.WaitFor(t, 10*time.Second, "missed", func() bool { return h.count(`"missed"`) == 1 })
}
