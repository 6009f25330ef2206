package graphemu_test

import (
	"encoding/json"
	"maps"
	"net/url"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/xtsync/xtsync/pkg/graphemu"
)

// eventual is the header of Graph's advanced queries.
var eventual = map[string]string{"ConsistencyLevel": "eventual"}

// extAttrs returns the onPremisesExtensionAttributes object of a rendered
// user, failing t when it is not the fifteen-key object Graph returns.
func extAttrs(t *testing.T, user map[string]any) map[string]any {
	t.Helper()
	obj, ok := user["onPremisesExtensionAttributes"].(map[string]any)
	if !ok {
		t.Fatalf("no onPremisesExtensionAttributes object in %s", jsonText(user))
	}
	if len(obj) != 15 {
		t.Fatalf("onPremisesExtensionAttributes has %d keys, want 15: %s", len(obj), jsonText(obj))
	}
	for i := 1; i <= 15; i++ {
		if _, has := obj["extensionAttribute"+strconv.Itoa(i)]; !has {
			t.Fatalf("extensionAttribute%d missing: %s", i, jsonText(obj))
		}
	}
	return obj
}

// nonNull keeps the attributes that have a value.
func nonNull(obj map[string]any) map[string]any {
	out := map[string]any{}
	for k, v := range obj {
		if v != nil {
			out[k] = v
		}
	}
	return out
}

func TestExtensionAttributesSelectPatchAndFilter(t *testing.T) {
	em := startSample(t, graphemu.Options{})
	c := closing(t, sourceClient(t, em))
	eng := sampleGroup(t, em, "engineering")
	uid := eng.Members[0]

	// Not a default property; $select returns all fifteen keys, null when unset.
	status, body, _ := c.do("GET", "/users/"+uid, nil)
	if _, has := body["onPremisesExtensionAttributes"]; status != 200 || has {
		t.Fatalf("default GET: %d, onPremisesExtensionAttributes present: %v", status, has)
	}
	status, body, _ = c.do("GET", "/users/"+uid+"?$select=id,onPremisesExtensionAttributes,onPremisesSyncEnabled", nil)
	if status != 200 {
		t.Fatal(status, jsonText(body))
	}
	if got := nonNull(extAttrs(t, body)); len(got) != 0 {
		t.Errorf("unset attributes not null: %v", got)
	}
	if v, has := body["onPremisesSyncEnabled"]; !has || v != nil {
		t.Errorf("onPremisesSyncEnabled of a cloud-only user: %v (present %v), want null", v, has)
	}

	// PATCH changes only the keys given; null clears one.
	patch := func(attrs map[string]any) {
		t.Helper()
		if status, body, _ := c.do("PATCH", "/users/"+uid, map[string]any{"onPremisesExtensionAttributes": attrs}); status != 204 {
			t.Fatalf("PATCH %v: %d %s", attrs, status, jsonText(body))
		}
	}
	patch(map[string]any{"extensionAttribute15": "src:1234", "extensionAttribute1": "a"})
	patch(map[string]any{"extensionAttribute2": "b"})
	patch(map[string]any{"extensionAttribute1": nil})
	_, body, _ = c.do("GET", "/users/"+uid+"?$select=onPremisesExtensionAttributes", nil)
	if got, want := nonNull(extAttrs(t, body)), map[string]any{"extensionAttribute15": "src:1234", "extensionAttribute2": "b"}; !maps.Equal(got, want) {
		t.Errorf("after the PATCHes: %v, want %v", got, want)
	}
	if u, _ := em.User(src, uid); !maps.Equal(u.ExtensionAttributes, map[string]string{"extensionAttribute15": "src:1234", "extensionAttribute2": "b"}) {
		t.Errorf("stored: %v", u.ExtensionAttributes)
	}

	// GET /users and the members list honour $select too.
	_, body, _ = c.do("GET", "/users?$select=id,onPremisesExtensionAttributes&$top=999", nil)
	for _, u := range values(t, body) {
		attrs := extAttrs(t, u)
		if (u["id"] == uid) != (attrs["extensionAttribute15"] == "src:1234") {
			t.Errorf("user %v: extensionAttribute15 %v", u["id"], attrs["extensionAttribute15"])
		}
	}
	_, body, _ = c.do("GET", "/groups/"+eng.ID+"/members?$select=id,onPremisesExtensionAttributes", nil)
	members := values(t, body)
	if members[0]["id"] != uid || extAttrs(t, members[0])["extensionAttribute15"] != "src:1234" {
		t.Errorf("members list: %s", jsonText(members[0]))
	}

	// Filter: an advanced query only (eq, in; case-insensitive), with @odata.count.
	ids := func(path string) ([]any, any) {
		t.Helper()
		status, body, _, _ := c.rawDo("GET", path, nil, eventual)
		if status != 200 {
			t.Fatalf("%s: %d %s", path, status, jsonText(body))
		}
		var out []any
		for _, v := range values(t, body) {
			out = append(out, v["id"])
		}
		return out, body["@odata.count"]
	}
	for _, f := range []string{
		"onPremisesExtensionAttributes/extensionAttribute15 eq 'SRC:1234'",
		"onPremisesExtensionAttributes/extensionAttribute15 in ('nope','src:1234')",
		"onPremisesExtensionAttributes/extensionAttribute2 eq 'x' or onPremisesExtensionAttributes/extensionAttribute15 eq 'src:1234'",
	} {
		got, count := ids("/users?$count=true&$select=id&$filter=" + url.QueryEscape(f))
		if !slices.Equal(got, []any{uid}) || count != float64(1) {
			t.Errorf("%s: %v, @odata.count %v", f, got, count)
		}
	}
	if status, body, _, _ := c.rawDo("GET", "/users?$filter="+url.QueryEscape("onPremisesExtensionAttributes/extensionAttribute15 eq 'src:1234'"), nil, nil); status != 400 || errCode(body) != "Request_UnsupportedQuery" {
		t.Errorf("as a standard query: %d %s", status, jsonText(body))
	}

	// POST /users takes them too (a new user is cloud-only).
	status, body, _ = c.do("POST", "/users", map[string]any{"accountEnabled": true, "displayName": "New", "mailNickname": "new",
		"userPrincipalName": "new@contoso.onmicrosoft.com", "passwordProfile": map[string]any{"password": "x-Pa55word"},
		"onPremisesExtensionAttributes": map[string]any{"extensionAttribute7": "seven"}})
	if status != 201 {
		t.Fatal(status, jsonText(body))
	}
	if u, _ := em.User(src, body["id"].(string)); !maps.Equal(u.ExtensionAttributes, map[string]string{"extensionAttribute7": "seven"}) || u.OnPremisesSyncEnabled {
		t.Errorf("created user: %+v", u)
	}
}

func TestSyncedUserExtensionAttributesAreReadOnly(t *testing.T) {
	em := startSample(t, graphemu.Options{})
	c := closing(t, sourceClient(t, em))
	u, err := em.CreateUser(src, graphemu.User{UserPrincipalName: "onprem@contoso.onmicrosoft.com", DisplayName: "On Prem", AccountEnabled: true,
		OnPremisesSyncEnabled: true, ExtensionAttributes: map[string]string{"extensionAttribute3": "from AD"}})
	must(t, err)

	status, body, _ := c.do("GET", "/users/"+u.ID+"?$select=onPremisesSyncEnabled,onPremisesExtensionAttributes", nil)
	if status != 200 || body["onPremisesSyncEnabled"] != true || extAttrs(t, body)["extensionAttribute3"] != "from AD" {
		t.Fatalf("synced user: %d %s", status, jsonText(body))
	}
	status, body, _ = c.do("PATCH", "/users/"+u.ID, map[string]any{"onPremisesExtensionAttributes": map[string]any{"extensionAttribute3": "cloud"}})
	if status != 400 || errCode(body) != "Request_BadRequest" {
		t.Fatalf("PATCH of a synced user's extension attributes: %d %s", status, jsonText(body))
	}
	// Its other writable properties stay writable in the emulator.
	if status, body, _ := c.do("PATCH", "/users/"+u.ID, map[string]any{"jobTitle": "Engineer"}); status != 204 {
		t.Fatalf("PATCH jobTitle: %d %s", status, jsonText(body))
	}
	// The admin (the on-premises sync) may change them.
	must(t, em.UpdateUser(src, u.ID, graphemu.UserUpdate{ExtensionAttributes: map[string]string{"extensionAttribute3": "", "extensionAttribute4": "new"}}))
	if got, _ := em.User(src, u.ID); !maps.Equal(got.ExtensionAttributes, map[string]string{"extensionAttribute4": "new"}) || got.JobTitle != "Engineer" {
		t.Errorf("after the admin update: %+v", got)
	}
	if err := em.UpdateUser(src, u.ID, graphemu.UserUpdate{ExtensionAttributes: map[string]string{"extensionAttribute0": "x"}}); err == nil {
		t.Error("admin update with extensionAttribute0 accepted")
	}
}

// TestSeedSetsUserCreatedAndExtensionAttributes loads a seed from JSON with
// a guest invited a year ago, synced and extension-attribute fields, and
// checks that invitations get the emulator's clock.
func TestSeedSetsUserCreatedAndExtensionAttributes(t *testing.T) {
	now := time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)
	seed := graphemu.SampleSeed()
	var guest graphemu.User
	must(t, json.Unmarshal([]byte(`{
		"id": "5b0c7e2a-1d3f-4a6b-9c8d-7e6f5a4b3c21",
		"displayName": "Old Guest", "userPrincipalName": "old_partner.com#EXT#@fabrikam.onmicrosoft.com",
		"mail": "old@partner.com", "otherMails": ["old@partner.com"], "userType": "Guest", "accountEnabled": true,
		"creationType": "Invitation", "externalUserState": "Accepted",
		"createdDateTime": "2025-11-28T12:00:00Z",
		"onPremisesExtensionAttributes": {"extensionAttribute15": "xtsync:src-1"}
	}`), &guest))
	seed.Tenants[1].Users = append(seed.Tenants[1].Users, guest)
	raw, err := json.Marshal(seed)
	must(t, err)
	parsed, err := graphemu.ParseSeed(raw) // strict: every field is a known one
	must(t, err)

	em := graphemu.New(graphemu.Options{Now: func() time.Time { return now }, Logger: testLogger(t)})
	must(t, em.Load(parsed))
	must(t, em.Start("127.0.0.1:0"))
	t.Cleanup(func() { em.Close() })
	c := closing(t, targetClient(t, em))

	stored, _ := em.User(dst, guest.ID)
	if !stored.Created.Equal(now.AddDate(-1, 0, 0)) || stored.ExtensionAttributes["extensionAttribute15"] != "xtsync:src-1" {
		t.Fatalf("seeded guest: %+v", stored)
	}
	status, body, _ := c.do("GET", "/users/"+guest.ID+"?$select=createdDateTime,onPremisesExtensionAttributes", nil)
	if status != 200 || body["createdDateTime"] != "2025-11-28T12:00:00Z" || extAttrs(t, body)["extensionAttribute15"] != "xtsync:src-1" {
		t.Fatalf("GET the seeded guest: %d %s", status, jsonText(body))
	}

	status, body, _ = c.do("POST", "/invitations", map[string]any{"invitedUserEmailAddress": "new@partner.com", "inviteRedirectUrl": "https://myapps.microsoft.com"})
	if status != 201 {
		t.Fatal(status, jsonText(body))
	}
	invited, _ := em.User(dst, body["invitedUser"].(map[string]any)["id"].(string))
	if !invited.Created.Equal(now) {
		t.Errorf("invited user created %v, want the emulator's now %v", invited.Created, now)
	}

	// The state dump carries the new fields.
	hc := em.HTTPClient()
	t.Cleanup(hc.CloseIdleConnections)
	resp, err := hc.Get(em.URL() + "/_emulator/tenants/" + dst)
	must(t, err)
	defer resp.Body.Close()
	var state graphemu.TenantState
	must(t, json.NewDecoder(resp.Body).Decode(&state))
	i := slices.IndexFunc(state.Users, func(u graphemu.User) bool { return u.ID == guest.ID })
	if i < 0 || state.Users[i].ExtensionAttributes["extensionAttribute15"] != "xtsync:src-1" || !state.Users[i].Created.Equal(stored.Created) {
		t.Errorf("state dump: %+v", state.Users)
	}
}

func TestSeedRefusesBadExtensionAttributes(t *testing.T) {
	for name, attrs := range map[string]map[string]string{
		"unknown name": {"extensionAttribute16": "x"},
		"wrong case":   {"ExtensionAttribute1": "x"},
		"too long":     {"extensionAttribute1": string(make([]byte, 1025))},
	} {
		t.Run(name, func(t *testing.T) {
			seed := graphemu.SampleSeed()
			seed.Tenants[1].Users = []graphemu.User{{UserPrincipalName: "x@fabrikam.onmicrosoft.com", ExtensionAttributes: attrs}}
			em := graphemu.New(graphemu.Options{})
			if err := em.Load(seed); err == nil {
				t.Fatal("loaded")
			}
			if ids := em.TenantIDs(); len(ids) != 0 {
				t.Errorf("a bad seed added tenants %v", ids)
			}
		})
	}
}
