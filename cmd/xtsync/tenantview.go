package main

import (
	"context"
	"fmt"
	"net/url"
	"slices"
)

// tenantView is what the demo reads of one tenant over Graph.
type tenantView struct {
	ID      string
	Name    string
	Domain  string
	Members int // users of type Member
	Guests  int // users of type Guest
	Groups  []groupView
}

// groupView is one group of a tenantView with its direct members.
type groupView struct {
	ID      string
	Name    string
	Kind    string
	Members int      // direct members, users and groups
	Nested  []string // display names of the groups among the members
	Guests  int      // guest users among the members
}

type graphOrg struct {
	ID              string `json:"id"`
	DisplayName     string `json:"displayName"`
	VerifiedDomains []struct {
		Name      string `json:"name"`
		IsDefault bool   `json:"isDefault"`
	} `json:"verifiedDomains"`
}

type graphUser struct {
	ID       string `json:"id"`
	UserType string `json:"userType"`
}

type graphGroup struct {
	ID              string   `json:"id"`
	DisplayName     string   `json:"displayName"`
	GroupTypes      []string `json:"groupTypes"`
	MailEnabled     bool     `json:"mailEnabled"`
	SecurityEnabled bool     `json:"securityEnabled"`
}

type graphMember struct {
	Type        string `json:"@odata.type"`
	ID          string `json:"id"`
	DisplayName string `json:"displayName"`
	UserType    string `json:"userType"`
}

// readTenant reads the organization, users, groups and each group's direct
// members, as the sync engine will.
func readTenant(ctx context.Context, c *graphClient) (tenantView, error) {
	var tv tenantView
	orgs, err := list[graphOrg](ctx, c, "organization")
	if err != nil {
		return tv, err
	}
	if len(orgs) != 1 {
		return tv, fmt.Errorf("GET /organization: %d organizations, want 1", len(orgs))
	}
	tv.ID, tv.Name = orgs[0].ID, orgs[0].DisplayName
	for _, d := range orgs[0].VerifiedDomains {
		if d.IsDefault || tv.Domain == "" {
			tv.Domain = d.Name
		}
	}
	users, err := list[graphUser](ctx, c, "users?"+query("$select", "id,userType", "$top", "999"))
	if err != nil {
		return tv, err
	}
	for _, u := range users {
		if u.UserType == "Guest" {
			tv.Guests++
		} else {
			tv.Members++
		}
	}
	groups, err := list[graphGroup](ctx, c, "groups?"+query("$select", "id,displayName,groupTypes,mailEnabled,securityEnabled", "$top", "999"))
	if err != nil {
		return tv, err
	}
	for _, g := range groups {
		members, err := list[graphMember](ctx, c, "groups/"+url.PathEscape(g.ID)+"/members?"+query("$select", "id,displayName,userType", "$top", "999"))
		if err != nil {
			return tv, err
		}
		gv := groupView{ID: g.ID, Name: g.DisplayName, Kind: groupKind(g), Members: len(members)}
		for _, m := range members {
			switch {
			case m.Type == "#microsoft.graph.group":
				gv.Nested = append(gv.Nested, m.DisplayName)
			case m.UserType == "Guest":
				gv.Guests++
			}
		}
		tv.Groups = append(tv.Groups, gv)
	}
	return tv, nil
}

// groupKind names a group's kind as the Entra admin center does.
func groupKind(g graphGroup) string {
	unified := slices.Contains(g.GroupTypes, "Unified")
	dynamic := slices.Contains(g.GroupTypes, "DynamicMembership")
	switch {
	case unified && dynamic:
		return "Microsoft 365, dynamic"
	case unified:
		return "Microsoft 365"
	case g.MailEnabled && g.SecurityEnabled:
		return "mail-enabled security"
	case g.MailEnabled:
		return "distribution list"
	case dynamic:
		return "dynamic security"
	case g.SecurityEnabled:
		return "security"
	default:
		return "other"
	}
}

// query encodes name/value pairs as a query string.
func query(kv ...string) string {
	q := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		q.Set(kv[i], kv[i+1])
	}
	return q.Encode()
}
