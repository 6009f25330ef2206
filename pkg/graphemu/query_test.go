package graphemu_test

import (
	"fmt"
	"net/url"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/xtsync/xtsync/pkg/graphemu"
)

// listAll follows @odata.nextLink from path with the given headers and
// returns every item and each page's size and @odata.count.
func listAll(t *testing.T, c *client, path string, hdr map[string]string) (items []map[string]any, sizes []int, counts []any) {
	t.Helper()
	for path != "" {
		status, body, _, _ := c.rawDo("GET", path, nil, hdr)
		if status != 200 {
			t.Fatalf("GET %s: %d %s", path, status, jsonText(body))
		}
		page := values(t, body)
		items = append(items, page...)
		sizes = append(sizes, len(page))
		counts = append(counts, body["@odata.count"])
		path, _ = body["@odata.nextLink"].(string)
	}
	return items, sizes, counts
}

func keysOf(m map[string]any) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// TestGroupMailNicknameFilters covers the group mailNickname filters Graph
// takes as standard queries (eq, in, startsWith) and the paging of a large
// startswith list at $top=999 and at the default 100.
func TestGroupMailNicknameFilters(t *testing.T) {
	em := startSample(t, graphemu.Options{})
	c := closing(t, targetClient(t, em))
	var want []string
	for i := range 250 {
		nick := fmt.Sprintf("xts-%03d", i)
		if i%10 == 0 {
			nick = strings.ToUpper(nick) // startswith is case-insensitive
		}
		g, err := em.CreateGroup(dst, graphemu.Group{DisplayName: "Mirror " + nick, MailNickname: nick, SecurityEnabled: true})
		must(t, err)
		want = append(want, g.ID)
	}
	for i := range 5 {
		_, err := em.CreateGroup(dst, graphemu.Group{DisplayName: "Other", MailNickname: fmt.Sprintf("other-xts-%d", i), SecurityEnabled: true})
		must(t, err)
	}
	startsWith := "/groups?$filter=" + url.QueryEscape("startswith(mailNickname,'xts-')") + "&$select=id,mailNickname,createdDateTime"
	ids := func(items []map[string]any) []string {
		var out []string
		for _, it := range items {
			out = append(out, it["id"].(string))
		}
		return out
	}

	items, sizes, _ := listAll(t, c, startsWith+"&$top=999", nil)
	if !slices.Equal(sizes, []int{250}) || !slices.Equal(ids(items), want) {
		t.Fatalf("$top=999: pages %v, %d groups", sizes, len(items))
	}
	if got := keysOf(items[0]); !slices.Equal(got, []string{"createdDateTime", "id", "mailNickname"}) {
		t.Errorf("$select=id,mailNickname,createdDateTime gave %v", got)
	}
	if !strings.HasSuffix(items[0]["createdDateTime"].(string), "Z") {
		t.Errorf("createdDateTime %v", items[0]["createdDateTime"])
	}

	items, sizes, counts := listAll(t, c, startsWith, nil)
	if !slices.Equal(sizes, []int{100, 100, 50}) || !slices.Equal(ids(items), want) {
		t.Fatalf("default page size: pages %v, %d groups", sizes, len(items))
	}
	if slices.ContainsFunc(counts, func(v any) bool { return v != nil }) {
		t.Errorf("@odata.count without the advanced query parameters: %v", counts)
	}
	// As an advanced query every page carries the total before paging.
	_, sizes, counts = listAll(t, c, startsWith+"&$count=true", eventual)
	if !slices.Equal(sizes, []int{100, 100, 50}) || !slices.Equal(counts, []any{250.0, 250.0, 250.0}) {
		t.Errorf("advanced: pages %v, counts %v", sizes, counts)
	}

	for f, n := range map[string]int{
		"mailNickname eq 'xts-007'":                                          1,
		"mailNickname eq 'XTS-007'":                                          1,
		"mailNickname in ('xts-001','xts-002','nope')":                       2,
		"startswith(displayName,'mirror xts-00')":                            10,
		"startswith(mailNickname,'xts-00') or mailNickname eq 'other-xts-1'": 11,
	} {
		items, _, _ := listAll(t, c, "/groups?$select=id&$filter="+url.QueryEscape(f), nil)
		if len(items) != n {
			t.Errorf("%s: %d groups, want %d", f, len(items), n)
		}
	}
	// startswith joins the 15-clause limit like the others.
	var clauses []string
	for i := range 16 {
		clauses = append(clauses, fmt.Sprintf("startswith(mailNickname,'xts-%02d')", i))
	}
	status, body, _ := c.do("GET", "/groups?$filter="+url.QueryEscape(strings.Join(clauses, " or ")), nil)
	if status != 400 || errCode(body) != "Request_UnsupportedQuery" {
		t.Errorf("16 startswith clauses: %d %s", status, jsonText(body))
	}
	items, _, _ = listAll(t, c, "/groups?$select=id&$filter="+url.QueryEscape(strings.Join(clauses[:15], " or ")), nil)
	if len(items) != 150 {
		t.Errorf("15 startswith clauses: %d groups, want 150", len(items))
	}

	// Mail: only mail-enabled groups have one (the source's Microsoft 365 groups).
	sc := closing(t, sourceClient(t, em))
	items, _, _ = listAll(t, sc, "/groups?$select=id,mail&$filter="+url.QueryEscape("startswith(mail,'ALLCOMPANY@')"), nil)
	if len(items) != 1 || items[0]["mail"] != "allcompany@contoso.onmicrosoft.com" {
		t.Errorf("startswith(mail,...): %s", jsonText(items))
	}
}

// TestUserStartsWithAndSelect covers startswith on users (a guest's
// userPrincipalName with its # sent as %23) and the user properties that
// need $select.
func TestUserStartsWithAndSelect(t *testing.T) {
	em := startSample(t, graphemu.Options{})
	c := closing(t, targetClient(t, em))
	status, body, _ := c.do("POST", "/invitations", map[string]any{"invitedUserEmailAddress": "alice@fabrikam.com", "inviteRedirectUrl": "https://myapps.microsoft.com"})
	if status != 201 {
		t.Fatal(status, jsonText(body))
	}
	uid := body["invitedUser"].(map[string]any)["id"].(string)

	for _, f := range []string{
		"startswith(userPrincipalName,'alice_fabrikam.com#EXT#')",
		"startswith(userPrincipalName,'ALICE_')",
		"startswith(mail,'alice@')",
		"startswith(displayName,'ali') or mail eq 'nobody@example.com'",
	} {
		q := "/users?$select=id&$filter=" + url.QueryEscape(f)
		if !strings.Contains(q, "%23") && strings.Contains(f, "#") {
			t.Fatalf("# not escaped in %s", q)
		}
		items, _, _ := listAll(t, c, q, nil)
		if len(items) != 1 || items[0]["id"] != uid {
			t.Errorf("%s: %s", f, jsonText(items))
		}
	}

	status, body, _ = c.do("GET", "/users/"+uid+"?$select=id,createdDateTime,creationType,otherMails,onPremisesSyncEnabled", nil)
	if status != 200 {
		t.Fatal(status, jsonText(body))
	}
	delete(body, "@odata.context")
	if got := keysOf(body); !slices.Equal(got, []string{"createdDateTime", "creationType", "id", "onPremisesSyncEnabled", "otherMails"}) {
		t.Errorf("selected keys %v", got)
	}
	if body["creationType"] != "Invitation" || body["onPremisesSyncEnabled"] != nil || jsonText(body["otherMails"]) != `["alice@fabrikam.com"]` {
		t.Errorf("selected values: %s", jsonText(body))
	}
	// The same selection on the list and on a members list.
	status, body, _ = c.do("POST", "/groups", map[string]any{"displayName": "G", "mailNickname": "g", "mailEnabled": false, "securityEnabled": true,
		"members@odata.bind": []string{em.GraphURL() + "/directoryObjects/" + uid}})
	if status != 201 {
		t.Fatal(status, jsonText(body))
	}
	for _, path := range []string{"/users", "/groups/" + body["id"].(string) + "/members"} {
		items, _, _ := listAll(t, c, path+"?$select=id,createdDateTime,creationType,otherMails,onPremisesSyncEnabled", nil)
		delete(items[0], "@odata.type")
		if len(items) != 1 || !slices.Equal(keysOf(items[0]), []string{"createdDateTime", "creationType", "id", "onPremisesSyncEnabled", "otherMails"}) {
			t.Errorf("%s: %s", path, jsonText(items))
		}
	}
}
