package graphemu_test

// User delta, user properties, user change notifications, and what a user's
// deletion and restore do to the groups it belongs to.

import (
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/xtsync/xtsync/internal/waitfor"
	"github.com/xtsync/xtsync/pkg/graphemu"
)

// userByUPN returns a sample source user.
func userByUPN(t *testing.T, em *graphemu.Emulator, upn string) graphemu.User {
	t.Helper()
	for _, u := range em.Users(src) {
		if u.UserPrincipalName == upn {
			return u
		}
	}
	t.Fatalf("sample user %s missing", upn)
	return graphemu.User{}
}

// byID indexes delta objects by id.
func byID(objs []map[string]any) map[string]map[string]any {
	out := map[string]map[string]any{}
	for _, o := range objs {
		out[o["id"].(string)] = o
	}
	return out
}

func removedReason(o map[string]any) any {
	r, _ := o["@removed"].(map[string]any)
	return r["reason"]
}

func TestUserDeltaSelectPagingAndRemovals(t *testing.T) {
	em := startSample(t, graphemu.Options{})
	must(t, em.SetFaults(src, graphemu.Faults{PageSize: 7}))
	c := closing(t, sourceClient(t, em))
	all := em.Users(src)

	// First round: every user, 7 per page, only id and the selection.
	objs, link, pages := deltaRound(t, c, "/users/delta?$select=displayName,jobTitle,companyName")
	if len(objs) != len(all) {
		t.Fatalf("initial round: %d users, want %d", len(objs), len(all))
	}
	if want := (len(all) + 6) / 7; pages != want {
		t.Errorf("initial round: %d pages, want %d at page size 7", pages, want)
	}
	for _, o := range objs {
		if got := keysOf(o); !slices.Equal(got, []string{"companyName", "displayName", "id", "jobTitle"}) {
			t.Fatalf("initial object keys %v: %s", got, jsonText(o))
		}
	}
	if !strings.HasPrefix(link, em.GraphURL()+"/users/delta?$deltatoken=") {
		t.Fatalf("deltaLink %q", link)
	}
	objs, link, _ = deltaRound(t, c, link)
	if len(objs) != 0 {
		t.Fatalf("no-change round: %s", jsonText(objs))
	}

	adele, alex := userByUPN(t, em, "adelev@contoso.onmicrosoft.com"), userByUPN(t, em, "alexw@contoso.onmicrosoft.com")
	allan, bianca := userByUPN(t, em, "alland@contoso.onmicrosoft.com"), userByUPN(t, em, "biancap@contoso.onmicrosoft.com")
	// A selected property changed: the user comes back.
	if status, body, _ := c.do("PATCH", "/users/"+adele.ID, map[string]any{"jobTitle": "Retail Manager"}); status != 204 {
		t.Fatal(status, body)
	}
	// Only unselected properties changed: the user does not come back.
	if status, body, _ := c.do("PATCH", "/users/"+alex.ID, map[string]any{"department": "Sales", "officeLocation": "18/2111"}); status != 204 {
		t.Fatal(status, body)
	}
	// Soft delete, and soft delete then purge.
	if status, _, _ := c.do("DELETE", "/users/"+allan.ID, nil); status != 204 {
		t.Fatal(status)
	}
	if status, _, _ := c.do("DELETE", "/users/"+bianca.ID, nil); status != 204 {
		t.Fatal(status)
	}
	if status, _, _ := c.do("DELETE", "/directory/deletedItems/"+bianca.ID, nil); status != 204 {
		t.Fatal(status)
	}
	// A user created after the token.
	status, body, _ := c.do("POST", "/users", map[string]any{
		"accountEnabled": true, "displayName": "New Hire", "mailNickname": "newhire", "companyName": "Contoso Ltd",
		"userPrincipalName": "newhire@contoso.onmicrosoft.com", "passwordProfile": map[string]any{"password": "xWwvJ]6NMw+bWH-d"},
	})
	if status != 201 {
		t.Fatal(status, body)
	}
	newID := body["id"].(string)

	objs, link, _ = deltaRound(t, c, link)
	got := byID(objs)
	if len(objs) != 4 {
		t.Errorf("changed round: %d objects, want 4 (adele, allan, bianca, new hire): %s", len(objs), jsonText(objs))
	}
	// Selected properties: changed and unchanged ones, never-set ones (companyName) left out.
	if a := got[adele.ID]; jsonText(a) != jsonText(map[string]any{"id": adele.ID, "displayName": "Adele Vance", "jobTitle": "Retail Manager"}) {
		t.Errorf("updated user: %s", jsonText(a))
	}
	if _, back := got[alex.ID]; back {
		t.Errorf("a change to unselected properties reported: %s", jsonText(got[alex.ID]))
	}
	if r := removedReason(got[allan.ID]); r != "changed" || len(got[allan.ID]) != 2 {
		t.Errorf("soft-deleted user: %s, want @removed reason changed", jsonText(got[allan.ID]))
	}
	if r := removedReason(got[bianca.ID]); r != "deleted" {
		t.Errorf("purged user: %s, want @removed reason deleted", jsonText(got[bianca.ID]))
	}
	if n := got[newID]; n == nil || n["displayName"] != "New Hire" || n["companyName"] != "Contoso Ltd" || n["@removed"] != nil {
		t.Errorf("created user: %s", jsonText(n))
	}

	// Prefer: return=minimal answers only id and what changed.
	if status, body, _ := c.do("PATCH", "/users/"+adele.ID, map[string]any{"displayName": "Adele V.", "jobTitle": nil}); status != 204 {
		t.Fatal(status, body)
	}
	status, body, _, _ = c.rawDo("GET", link, nil, map[string]string{"Prefer": "return=minimal"})
	if status != 200 {
		t.Fatalf("minimal round: %d %s", status, jsonText(body))
	}
	want := map[string]any{"id": adele.ID, "displayName": "Adele V.", "jobTitle": nil}
	if v := values(t, body); len(v) != 1 || jsonText(v[0]) != jsonText(want) {
		t.Errorf("minimal round: %s, want [%s]", jsonText(body["value"]), jsonText(want))
	}
	if _, has := body["@odata.deltaLink"]; !has {
		t.Errorf("minimal round without deltaLink: %s", jsonText(body))
	}
}

func TestUserDeltaDefaultsFilterLatestAndExpiry(t *testing.T) {
	em := startSample(t, graphemu.Options{})
	c := closing(t, sourceClient(t, em))
	adele, alex := userByUPN(t, em, "adelev@contoso.onmicrosoft.com"), userByUPN(t, em, "alexw@contoso.onmicrosoft.com")
	filter := url.QueryEscape(fmt.Sprintf("id eq '%s' or id eq '%s'", adele.ID, alex.ID))

	// No $select: Graph's default set (no accountEnabled); $filter by id;
	// $top is ignored, as Graph ignores it on user delta.
	objs, link, _ := deltaRound(t, c, "/users/delta?$top=1&$filter="+filter)
	if len(objs) != 2 {
		t.Fatalf("filtered round: %s", jsonText(objs))
	}
	wantKeys := []string{"businessPhones", "displayName", "givenName", "id", "jobTitle", "mail", "mobilePhone", "officeLocation", "preferredLanguage", "surname", "userPrincipalName"}
	if got := keysOf(objs[0]); !slices.Equal(got, wantKeys) {
		t.Errorf("default properties %v, want %v", got, wantKeys)
	}
	// Untracked (accountEnabled) and out of scope (another user): nothing.
	must(t, em.UpdateUser(src, adele.ID, graphemu.UserUpdate{AccountEnabled: new(bool)}))
	must(t, em.UpdateUser(src, userByUPN(t, em, "alland@contoso.onmicrosoft.com").ID, graphemu.UserUpdate{DisplayName: ptr("Allan D.")}))
	objs, link, _ = deltaRound(t, c, link)
	if len(objs) != 0 {
		t.Fatalf("untracked or filtered-out changes reported: %s", jsonText(objs))
	}
	// A default property (officeLocation) changed by an admin.
	must(t, em.UpdateUser(src, alex.ID, graphemu.UserUpdate{OfficeLocation: ptr("Remote")}))
	objs, link, _ = deltaRound(t, c, link)
	if len(objs) != 1 || objs[0]["id"] != alex.ID || objs[0]["officeLocation"] != "Remote" || objs[0]["displayName"] != "Alex Wilber" {
		t.Fatalf("officeLocation change: %s", jsonText(objs))
	}
	if _, has := objs[0]["mobilePhone"]; has {
		t.Errorf("never-set mobilePhone returned on a later round: %s", jsonText(objs[0]))
	}

	// $deltatoken=latest: no users, a deltaLink from now.
	objs, latest, _ := deltaRound(t, c, "/users/delta?$select=displayName,accountEnabled&$deltatoken=latest")
	if len(objs) != 0 {
		t.Fatalf("$deltatoken=latest returned %s", jsonText(objs))
	}
	must(t, em.UpdateUser(src, adele.ID, graphemu.UserUpdate{AccountEnabled: ptr(true)}))
	objs, latest, _ = deltaRound(t, c, latest)
	if len(objs) != 1 || objs[0]["accountEnabled"] != true {
		t.Fatalf("after latest: %s", jsonText(objs))
	}

	// A group token is not a user token, and the other way round.
	_, groupLink, _ := deltaRound(t, c, "/groups/delta?$select=displayName&$deltatoken=latest")
	_, tok, _ := strings.Cut(groupLink, "$deltatoken=")
	if status, body, _ := c.do("GET", "/users/delta?$deltatoken="+tok, nil); status != 400 || errCode(body) != "Request_BadRequest" {
		t.Errorf("group token on /users/delta: %d %s", status, jsonText(body))
	}
	_, tok, _ = strings.Cut(latest, "$deltatoken=")
	if status, body, _ := c.do("GET", "/groups/delta?$deltatoken="+tok, nil); status != 400 || errCode(body) != "Request_BadRequest" {
		t.Errorf("user token on /groups/delta: %d %s", status, jsonText(body))
	}

	// ExpireDeltaTokens expires user tokens too; a new round works.
	must(t, em.ExpireDeltaTokens(src))
	for _, l := range []string{link, latest} {
		if status, body, _ := c.do("GET", l, nil); status != 410 || errCode(body) != "syncStateNotFound" {
			t.Errorf("expired user token: %d %s", status, jsonText(body))
		}
	}
	if objs, _, _ := deltaRound(t, c, "/users/microsoft.graph.delta()?$select=id"); len(objs) != len(em.Users(src)) {
		t.Errorf("new round after expiry: %d users", len(objs))
	}
}

func ptr[T any](v T) *T { return &v }

func TestUserPatchSeveralPropertiesAtOnce(t *testing.T) {
	em := startSample(t, graphemu.Options{})
	c := closing(t, sourceClient(t, em))
	adele := userByUPN(t, em, "adelev@contoso.onmicrosoft.com")
	patch := map[string]any{
		"displayName": "Adele Vance (Retail)", "givenName": "Adèle", "jobTitle": "Retail Manager", "department": "Retail",
		"companyName": "Contoso Retail", "officeLocation": "18/2111",
		"onPremisesExtensionAttributes": map[string]any{"extensionAttribute1": "cost-1234", "extensionAttribute15": "xtsync"},
	}
	if status, body, _ := c.do("PATCH", "/users/"+adele.ID, patch); status != 204 {
		t.Fatal(status, body)
	}
	status, body, _ := c.do("GET", "/users/"+adele.ID+"?$select=displayName,givenName,jobTitle,department,companyName,officeLocation,onPremisesExtensionAttributes", nil)
	if status != 200 {
		t.Fatal(status, body)
	}
	for k, want := range patch {
		if k == "onPremisesExtensionAttributes" {
			continue
		}
		if body[k] != want {
			t.Errorf("%s = %v, want %v", k, body[k], want)
		}
	}
	ext := body["onPremisesExtensionAttributes"].(map[string]any)
	if ext["extensionAttribute1"] != "cost-1234" || ext["extensionAttribute15"] != "xtsync" || ext["extensionAttribute2"] != nil {
		t.Errorf("extension attributes: %s", jsonText(ext))
	}

	// Default properties: officeLocation yes; companyName, department and
	// accountEnabled only on $select.
	_, body, _ = c.do("GET", "/users/"+adele.ID, nil)
	if body["officeLocation"] != "18/2111" {
		t.Errorf("default officeLocation: %v", body["officeLocation"])
	}
	for _, k := range []string{"companyName", "department", "accountEnabled"} {
		if _, has := body[k]; has {
			t.Errorf("%s returned without $select: %s", k, jsonText(body))
		}
	}
	_, body, _ = c.do("GET", "/users/"+adele.ID+"?$select=id,accountEnabled", nil)
	if body["accountEnabled"] != true {
		t.Errorf("$select=accountEnabled: %s", jsonText(body))
	}

	// All or nothing: one bad value refuses the whole request.
	before, _ := em.User(src, adele.ID)
	for name, bad := range map[string]map[string]any{
		"companyName over 64": {"jobTitle": "Changed", "companyName": strings.Repeat("x", 65)},
		"bad extension":       {"jobTitle": "Changed", "onPremisesExtensionAttributes": map[string]any{"extensionAttribute16": "x"}},
		"officeLocation type": {"jobTitle": "Changed", "officeLocation": 5},
		"displayName cleared": {"jobTitle": "Changed", "displayName": nil},
		"empty displayName":   {"jobTitle": "Changed", "displayName": ""},
	} {
		status, body, _ := c.do("PATCH", "/users/"+adele.ID, bad)
		if status != 400 || errCode(body) != "Request_BadRequest" {
			t.Errorf("%s: %d %s", name, status, jsonText(body))
		}
		if after, _ := em.User(src, adele.ID); jsonText(after) != jsonText(before) {
			t.Errorf("%s: refused PATCH changed the user: %s", name, jsonText(after))
		}
	}
	_, body, _ = c.do("PATCH", "/users/"+adele.ID, map[string]any{"companyName": strings.Repeat("x", 65)})
	if _, msg := errorOf(t, body); msg != "Invalid value specified for property 'companyName' of resource 'User'." {
		t.Errorf("message %q", msg)
	}
	// null clears a clearable property.
	if status, body, _ := c.do("PATCH", "/users/"+adele.ID, map[string]any{"jobTitle": nil, "companyName": nil}); status != 204 {
		t.Fatal(status, body)
	}
	if u, _ := em.User(src, adele.ID); u.JobTitle != "" || u.CompanyName != "" || u.OfficeLocation != "18/2111" {
		t.Errorf("after clearing: %+v", u)
	}
	// The admin API takes the same properties, and refuses the same values.
	must(t, em.UpdateUser(src, adele.ID, graphemu.UserUpdate{GivenName: ptr("Adele"), Surname: ptr("V"), JobTitle: ptr("Lead"), Department: ptr("Ops"), CompanyName: ptr("Contoso"), OfficeLocation: ptr("Remote")}))
	if u, _ := em.User(src, adele.ID); u.GivenName != "Adele" || u.Surname != "V" || u.JobTitle != "Lead" || u.Department != "Ops" || u.CompanyName != "Contoso" || u.OfficeLocation != "Remote" {
		t.Errorf("admin update: %+v", u)
	}
	if err := em.UpdateUser(src, adele.ID, graphemu.UserUpdate{JobTitle: ptr("x"), CompanyName: ptr(strings.Repeat("x", 65))}); err == nil {
		t.Error("admin update with a 65-character companyName accepted")
	} else if u, _ := em.User(src, adele.ID); u.JobTitle != "Lead" {
		t.Errorf("refused admin update applied: %+v", u)
	}
}

func TestSeedAndCreateSetCompanyAndOffice(t *testing.T) {
	seed, err := graphemu.ParseSeed([]byte(`{"tenants": [{"id": "11111111-2222-4333-8444-555555555555", "domain": "t.onmicrosoft.com",
		"users": [{"userPrincipalName": "a@t.onmicrosoft.com", "companyName": "Northwind", "officeLocation": "Building 4"}]}]}`))
	if err != nil {
		t.Fatal(err)
	}
	em := graphemu.New(graphemu.Options{})
	must(t, em.Load(seed))
	us := em.Users("t.onmicrosoft.com")
	if len(us) != 1 || us[0].CompanyName != "Northwind" || us[0].OfficeLocation != "Building 4" {
		t.Fatalf("seeded user: %+v", us)
	}
}

// userNotes decodes the notification items a hook received for resource.
func userNotes(t *testing.T, h *hook, resource string) []map[string]any {
	t.Helper()
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []map[string]any
	for _, b := range h.bodies {
		var env struct {
			Value []map[string]any `json:"value"`
		}
		if err := json.Unmarshal([]byte(b), &env); err != nil {
			t.Fatalf("notification body %q: %v", b, err)
		}
		for _, it := range env.Value {
			if it["resource"] == resource {
				out = append(out, it)
			}
		}
	}
	return out
}

func sorted(v []string) []string { slices.Sort(v); return v }

func changeTypes(items []map[string]any) []string {
	var out []string
	for _, it := range items {
		out = append(out, it["changeType"].(string))
	}
	return out
}

func TestUserNotifications(t *testing.T) {
	em := startSample(t, graphemu.Options{AllowHTTPNotifications: true})
	all, one, groups := newHook(t), newHook(t), newHook(t)
	c := closing(t, sourceClient(t, em))
	adele, alex := userByUPN(t, em, "adelev@contoso.onmicrosoft.com"), userByUPN(t, em, "alexw@contoso.onmicrosoft.com")
	allSub := subscribe(t, c, all.srv.URL, "users") // no leading slash, as Graph also takes it
	subscribe(t, c, one.srv.URL, "/users/"+alex.ID)
	subscribe(t, c, groups.srv.URL, "/groups")
	if s := em.Subscriptions(src); len(s) != 3 || s[0].Resource != "users" {
		t.Fatalf("subscriptions: %+v", s)
	}

	// A PATCH, a no-op PATCH (nothing changes: no notification), an admin
	// change (an invitation's redemption), a creation, a soft delete and a
	// purge.
	if status, body, _ := c.do("PATCH", "/users/"+adele.ID, map[string]any{"jobTitle": "Lead", "companyName": "Contoso"}); status != 204 {
		t.Fatal(status, body)
	}
	if status, body, _ := c.do("PATCH", "/users/"+adele.ID, map[string]any{"jobTitle": "Lead"}); status != 204 {
		t.Fatal(status, body)
	}
	kim := userByUPN(t, em, "kim_northwind.com#EXT#@contoso.onmicrosoft.com")
	must(t, em.UpdateUser(src, kim.ID, graphemu.UserUpdate{ExternalUserState: ptr("PendingAcceptance")}))
	created, err := em.CreateUser(src, graphemu.User{UserPrincipalName: "temp@contoso.onmicrosoft.com"})
	must(t, err)
	if status, _, _ := c.do("DELETE", "/users/"+alex.ID, nil); status != 204 {
		t.Fatal(status)
	}
	must(t, em.PurgeDeleted(src, alex.ID))

	waitfor.WaitFor(t, 10*time.Second, "alex's purge", func() bool { return len(userNotes(t, all, "Users/"+alex.ID)) == 2 })
	waitfor.WaitFor(t, 10*time.Second, "the others", func() bool {
		return len(userNotes(t, all, "Users/"+adele.ID)) == 1 && len(userNotes(t, all, "Users/"+kim.ID)) == 1 && len(userNotes(t, all, "Users/"+created.ID)) == 1
	})
	// Deliveries are concurrent, so their order is not guaranteed (nor is
	// it in Graph).
	if got := changeTypes(userNotes(t, all, "Users/"+alex.ID)); !slices.Equal(sorted(got), []string{"deleted", "updated"}) {
		t.Errorf("soft delete then purge: %v, want updated and deleted", got)
	}
	for _, id := range []string{adele.ID, kim.ID, created.ID} {
		if got := changeTypes(userNotes(t, all, "Users/"+id)); !slices.Equal(got, []string{"updated"}) {
			t.Errorf("user %s: %v, want [updated]", id, got)
		}
	}
	item := userNotes(t, all, "Users/"+adele.ID)[0]
	for k, want := range map[string]any{"subscriptionId": allSub, "clientState": "s3cret", "tenantId": src, "changeType": "updated"} {
		if item[k] != want {
			t.Errorf("notification %s = %v, want %v", k, item[k], want)
		}
	}
	rd := item["resourceData"].(map[string]any)
	for k, want := range map[string]any{"@odata.type": "#Microsoft.Graph.User", "@odata.id": "Users/" + adele.ID, "id": adele.ID, "organizationId": src} {
		if rd[k] != want {
			t.Errorf("resourceData %s = %v, want %v", k, rd[k], want)
		}
	}
	// The per-user subscription saw only its user; the group subscription
	// no user, but the groups alex's deletion removed it from.
	waitfor.WaitFor(t, 10*time.Second, "alex on the per-user subscription", func() bool { return len(userNotes(t, one, "Users/"+alex.ID)) == 2 })
	if n := one.count(`"resource":"Users/` + adele.ID); n != 0 {
		t.Errorf("per-user subscription notified of another user %d times", n)
	}
	eng := sampleGroup(t, em, "engineering")
	waitfor.WaitFor(t, 10*time.Second, "engineering's member removal", func() bool { return groups.count(`"resource":"Groups/`+eng.ID+`"`) >= 1 })
	if n := groups.count(`"resource":"Users/`); n != 0 {
		t.Errorf("group subscription got %d user notifications", n)
	}
}

func TestUserSubscriptionValidationAndLifecycle(t *testing.T) {
	em := startSample(t, graphemu.Options{AllowHTTPNotifications: true, ReauthBefore: 41000 * time.Minute, LifecycleTick: 10 * time.Millisecond})
	h := newHook(t)
	c := closing(t, sourceClient(t, em))
	base := func(over map[string]any) map[string]any {
		b := map[string]any{"changeType": "updated,deleted", "notificationUrl": h.srv.URL + "/n", "lifecycleNotificationUrl": h.srv.URL + "/l", "resource": "/users",
			"expirationDateTime": time.Now().Add(41000 * time.Minute).UTC().Format(time.RFC3339), "clientState": "s3cret"}
		for k, v := range over {
			b[k] = v
		}
		return b
	}
	for name, body := range map[string]map[string]any{
		"beyond 41760 minutes": base(map[string]any{"expirationDateTime": time.Now().Add(41761 * time.Minute).UTC().Format(time.RFC3339)}),
		"changeType created":   base(map[string]any{"changeType": "created,updated"}),
		"includeResourceData":  base(map[string]any{"includeResourceData": true}),
		"user id not a GUID":   base(map[string]any{"resource": "/users/adelev@contoso.onmicrosoft.com"}),
		"users of a user":      base(map[string]any{"resource": "/users/" + userByUPN(t, em, "adelev@contoso.onmicrosoft.com").ID + "/messages"}),
	} {
		if status, body, _ := c.do("POST", "/subscriptions", body); status != 400 || errCode(body) != "ValidationError" {
			t.Errorf("%s: %d %s", name, status, jsonText(body))
		}
	}
	if n := len(em.Subscriptions(src)); n != 0 {
		t.Fatalf("%d subscriptions after refusals", n)
	}
	status, sub, _ := c.do("POST", "/subscriptions", base(nil))
	if status != 201 || sub["resource"] != "/users" {
		t.Fatalf("user subscription: %d %s", status, jsonText(sub))
	}
	id := sub["id"].(string)
	// reauthorizationRequired before expiry, renew, a control-fired missed
	// and subscriptionRemoved, as for group subscriptions.
	waitfor.WaitFor(t, 10*time.Second, "reauthorizationRequired", func() bool { return h.count(`"reauthorizationRequired"`) == 1 })
	if status, body, _ := c.do("PATCH", "/subscriptions/"+id, map[string]any{"expirationDateTime": time.Now().Add(41761 * time.Minute).UTC().Format(time.RFC3339)}); status != 400 {
		t.Errorf("renew beyond 41760 minutes: %d %s", status, jsonText(body))
	}
	if status, body, _ := c.do("PATCH", "/subscriptions/"+id, map[string]any{"expirationDateTime": time.Now().Add(41700 * time.Minute).UTC().Format(time.RFC3339)}); status != 200 {
		t.Fatal(status, body)
	}
	must(t, em.FireLifecycle(src, id, "missed"))
	must(t, em.FireLifecycle(src, id, "subscriptionRemoved"))
	waitfor.WaitFor(t, 10*time.Second, "missed and subscriptionRemoved", func() bool { return h.count(`"missed"`) == 1 && h.count(`"subscriptionRemoved"`) == 1 })
	if n := len(em.Subscriptions(src)); n != 0 {
		t.Errorf("subscriptionRemoved left %d subscriptions", n)
	}
}

func TestUserSubscriptionsCountInTheQuota(t *testing.T) {
	em := startSample(t, graphemu.Options{AllowHTTPNotifications: true})
	h := newFidHook(t)
	c := closing(t, sourceClient(t, em))
	req := func(resource string) map[string]any {
		return map[string]any{"changeType": "updated", "notificationUrl": h.srv.URL + "/notify", "resource": resource,
			"expirationDateTime": time.Now().Add(4230 * time.Minute).UTC().Format(time.RFC3339)}
	}
	for i := range graphemu.MaxSubscriptionsPerApp {
		resource := "/groups"
		if i%2 == 0 {
			resource = "/users"
		}
		if status, body, _ := c.do("POST", "/subscriptions", req(resource)); status != 201 {
			t.Fatalf("subscription %d: %d %s", i+1, status, jsonText(body))
		}
	}
	status, body, _ := c.do("POST", "/subscriptions", req("/users"))
	if status != 403 {
		t.Fatalf("101st subscription (users): %d %s", status, jsonText(body))
	}
	if code, _ := errorOf(t, body); code != "ExtensionError" {
		t.Errorf("101st subscription: %s", code)
	}
}

func TestUserDeletionLeavesGroupsAndRestoreRejoins(t *testing.T) {
	em := startSample(t, graphemu.Options{AllowHTTPNotifications: true})
	h := newHook(t)
	c := closing(t, sourceClient(t, em))
	adele := userByUPN(t, em, "adelev@contoso.onmicrosoft.com")
	eng := sampleGroup(t, em, "engineering")
	var groupsOf []string // adele's groups
	for _, g := range em.Groups(src) {
		if slices.Contains(g.Members, adele.ID) {
			groupsOf = append(groupsOf, g.ID)
		}
	}
	if len(groupsOf) < 2 {
		t.Fatalf("adele is in %d groups", len(groupsOf))
	}
	subscribe(t, c, h.srv.URL, "/groups/"+eng.ID)
	_, glink, _ := deltaRound(t, c, "/groups/delta?$select=displayName,members&$deltatoken=latest")
	_, ulink, _ := deltaRound(t, c, "/users/delta?$select=displayName&$deltatoken=latest")

	if status, _, _ := c.do("DELETE", "/users/"+adele.ID, nil); status != 204 {
		t.Fatal(status)
	}
	// In no member list.
	for _, gid := range groupsOf {
		_, body, _ := c.do("GET", "/groups/"+gid+"/members?$select=id", nil)
		for _, m := range values(t, body) {
			if m["id"] == adele.ID {
				t.Errorf("deleted user still listed in group %s", gid)
			}
		}
	}
	// Group delta: a member removal per group, typed as a user.
	objs, glink, _ := deltaRound(t, c, glink)
	for _, gid := range groupsOf {
		if _, removed := memberDelta(objs, gid); !slices.Equal(removed, []string{adele.ID}) {
			t.Errorf("group %s: removed %v", gid, removed)
		}
	}
	for _, o := range objs {
		for _, m := range o["members@delta"].([]any) {
			if mm := m.(map[string]any); mm["@odata.type"] != "#microsoft.graph.user" {
				t.Errorf("removed member typed %v", mm["@odata.type"])
			}
		}
	}
	waitfor.WaitFor(t, 10*time.Second, "engineering notified", func() bool { return h.count(`"resource":"Groups/`+eng.ID+`"`) == 1 })

	// Restore: the user and its memberships come back.
	if status, body, _ := c.do("POST", "/directory/deletedItems/"+adele.ID+"/restore", nil); status != 200 {
		t.Fatal(status, body)
	}
	for _, gid := range groupsOf {
		if g, _ := em.Group(src, gid); !slices.Contains(g.Members, adele.ID) {
			t.Errorf("restored user not back in group %s", gid)
		}
	}
	objs, _, _ = deltaRound(t, c, glink)
	for _, gid := range groupsOf {
		if added, _ := memberDelta(objs, gid); !slices.Equal(added, []string{adele.ID}) {
			t.Errorf("group %s after restore: added %v", gid, added)
		}
	}
	waitfor.WaitFor(t, 10*time.Second, "engineering notified of the restore", func() bool { return h.count(`"resource":"Groups/`+eng.ID+`"`) == 2 })
	// User delta: deleted then restored nets to the user, no annotation.
	objs, _, _ = deltaRound(t, c, ulink)
	if len(objs) != 1 || objs[0]["id"] != adele.ID || objs[0]["@removed"] != nil || objs[0]["displayName"] != "Adele Vance" {
		t.Errorf("user delta after delete and restore: %s", jsonText(objs))
	}
}

func TestFidelityUserDelta(t *testing.T) {
	em := startSample(t, graphemu.Options{})
	must(t, em.SetFaults(src, graphemu.Faults{PageSize: 2}))
	c := closing(t, sourceClient(t, em))
	ids := sampleUserIDs(t, em)[:3]
	filter := url.QueryEscape(fmt.Sprintf("id eq '%s' or id eq '%s' or id eq '%s'", ids[0], ids[1], ids[2]))
	status, first, _ := c.do("GET", "/users/delta?$select=displayName,givenName,surname&$filter="+filter, nil)
	if status != 200 {
		t.Fatal(status, first)
	}
	checkShape(t, "user delta initial page", loadSample(t, "user-delta-initial-response-nextlink.json"), first)
	if got, want := afterVersion(first["@odata.context"].(string)), "$metadata#users(displayName,givenName,surname)"; got != want {
		t.Errorf("@odata.context ends %q, want %q", got, want)
	}
	next, _ := first["@odata.nextLink"].(string)
	if !strings.HasPrefix(next, em.GraphURL()+"/users/delta?$skiptoken=") {
		t.Fatalf("nextLink %q", next)
	}
	_, last, _ := c.do("GET", next, nil)
	link, _ := last["@odata.deltaLink"].(string)
	if n := len(fidValues(t, last)); n != 1 || link == "" {
		t.Fatalf("last page: %s", jsonText(last))
	}
	must(t, em.UpdateUser(src, ids[0], graphemu.UserUpdate{DisplayName: ptr("Testuser7")}))
	must(t, em.DeleteUser(src, ids[1]))
	_, changed, _ := c.do("GET", link, nil)
	checkShape(t, "user delta changes", loadSample(t, "user-delta-deltalink-response-changes.json"), changed)
	v := fidValues(t, changed)
	if len(v) != 2 || v[0].(map[string]any)["displayName"] != "Testuser7" || removedReason(v[1].(map[string]any)) != "changed" {
		t.Errorf("changes: %s", jsonText(changed))
	}
}
