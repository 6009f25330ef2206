package msgraph

import (
	"bytes"
	"context"
	"fmt"
	"strings"

	abstractions "github.com/microsoft/kiota-abstractions-go"
	"github.com/microsoftgraph/msgraph-sdk-go/groups"
	"github.com/microsoftgraph/msgraph-sdk-go/models"

	"github.com/xtsync/xtsync/pkg/engine"
)

// Graph's limits this adapter pages and batches by.
const (
	pageSize    = 999 // directory collections take $top up to 999
	maxInFilter = 15  // "in" / "or" clauses on normal directory queries
)

var (
	groupSelect = []string{"id", "displayName", "description", "mailNickname", "mailEnabled", "securityEnabled", "groupTypes", "createdDateTime"}
)

func str(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

// nonEmpty is a pointer to s, nil when s is empty (a query parameter left
// out).
func nonEmpty(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func toGroup(g models.Groupable) engine.Group {
	out := engine.Group{
		ID: strings.ToLower(str(g.GetId())), DisplayName: str(g.GetDisplayName()), Description: str(g.GetDescription()),
		MailNickname: str(g.GetMailNickname()), GroupTypes: g.GetGroupTypes(),
	}
	if v := g.GetMailEnabled(); v != nil {
		out.MailEnabled = *v
	}
	if v := g.GetSecurityEnabled(); v != nil {
		out.SecurityEnabled = *v
	}
	if v := g.GetCreatedDateTime(); v != nil {
		out.Created = *v
	}
	return out
}

func toMember(o models.DirectoryObjectable) engine.Member {
	m := engine.Member{ID: strings.ToLower(str(o.GetId())), Type: engine.TypeOther}
	switch v := o.(type) {
	case models.Userable:
		m.Type = engine.TypeUser
		m.DisplayName, m.Mail, m.UserPrincipalName, m.UserType = str(v.GetDisplayName()), str(v.GetMail()), str(v.GetUserPrincipalName()), str(v.GetUserType())
	case models.Groupable:
		m.Type = engine.TypeGroup
		m.DisplayName = str(v.GetDisplayName())
	}
	return m
}

func toUser(u models.Userable) engine.User {
	out := engine.User{
		ID: strings.ToLower(str(u.GetId())), DisplayName: str(u.GetDisplayName()), Mail: str(u.GetMail()),
		UserPrincipalName: str(u.GetUserPrincipalName()), UserType: str(u.GetUserType()), CreationType: str(u.GetCreationType()),
	}
	if v := u.GetAccountEnabled(); v != nil {
		out.AccountEnabled = *v
	}
	return out
}

// inFilter builds "prop in ('a','b')" for up to maxInFilter values.
func inFilter(prop string, values []string) string {
	quoted := make([]string, len(values))
	for i, v := range values {
		quoted[i] = "'" + strings.ReplaceAll(v, "'", "''") + "'"
	}
	return prop + " in (" + strings.Join(quoted, ",") + ")"
}

func chunks(ids []string, n int) [][]string {
	var out [][]string
	for len(ids) > 0 {
		k := min(n, len(ids))
		out = append(out, ids[:k])
		ids = ids[k:]
	}
	return out
}

// groups reads groups by id, 15 per request with an id filter.
func (c *Client) groups(ctx context.Context, ids []string) (map[string]engine.Group, error) {
	out := map[string]engine.Group{}
	for _, part := range chunks(ids, maxInFilter) {
		for _, id := range part {
			if !engine.IsGUID(id) {
				return nil, fmt.Errorf("group id %q is not a GUID", id)
			}
		}
		gs, err := c.listGroups(ctx, inFilter("id", part))
		if err != nil {
			return nil, err
		}
		for _, g := range gs {
			out[g.ID] = g
		}
	}
	return out, nil
}

// listGroups reads every group matching filter (all of them when filter
// is empty), 999 per page, decoding the pages' JSON (members.go).
func (c *Client) listGroups(ctx context.Context, filter string) ([]engine.Group, error) {
	top := int32(pageSize)
	info, err := c.sdk.Groups().ToGetRequestInformation(ctx, &groups.GroupsRequestBuilderGetRequestConfiguration{
		QueryParameters: &groups.GroupsRequestBuilderGetQueryParameters{Filter: nonEmpty(filter), Select: groupSelect, Top: &top},
	})
	var out []engine.Group
	for {
		if err != nil {
			return nil, wrap(err, "read groups")
		}
		var body []byte
		if body, err = c.getJSON(ctx, info); err != nil {
			return nil, wrap(err, "read groups")
		}
		var next string
		if out, next, err = decodeGroupPage(bytes.NewReader(body), out); err != nil {
			return nil, fmt.Errorf("read groups: bad page: %w", err)
		}
		if next == "" {
			return out, nil
		}
		info, err = c.sdk.Groups().WithUrl(next).ToGetRequestInformation(ctx, nil)
	}
}

// members lists a group's direct or transitive members, 999 a page, read
// with the schema's select (target: the target side's), decoding the
// pages' JSON (members.go).
func (c *Client) members(ctx context.Context, groupID string, transitive bool, schema UserSchema, target bool) ([]engine.Member, error) {
	if !engine.IsGUID(groupID) {
		return nil, fmt.Errorf("group id %q is not a GUID", groupID)
	}
	memberSelect := schema.memberSelect(target)
	top := int32(pageSize)
	item := c.sdk.Groups().ByGroupId(groupID)
	var info *abstractions.RequestInformation
	var err error
	if transitive {
		info, err = item.TransitiveMembers().ToGetRequestInformation(ctx, &groups.ItemTransitiveMembersRequestBuilderGetRequestConfiguration{
			QueryParameters: &groups.ItemTransitiveMembersRequestBuilderGetQueryParameters{Select: memberSelect, Top: &top},
		})
	} else {
		info, err = item.Members().ToGetRequestInformation(ctx, &groups.ItemMembersRequestBuilderGetRequestConfiguration{
			QueryParameters: &groups.ItemMembersRequestBuilderGetQueryParameters{Select: memberSelect, Top: &top},
		})
	}
	var out []engine.Member
	for {
		if err != nil {
			return nil, wrap(err, "list members of %s", groupID)
		}
		var body []byte
		if body, err = c.getJSON(ctx, info); err != nil {
			return nil, wrap(err, "list members of %s", groupID)
		}
		var next string
		if out, next, err = schema.decodeMemberPage(bytes.NewReader(body), target, out); err != nil {
			return nil, fmt.Errorf("list members of %s: bad page: %w", groupID, err)
		}
		if next == "" {
			return out, nil
		}
		// The next link is followed as is.
		info, err = item.Members().WithUrl(next).ToGetRequestInformation(ctx, nil)
	}
}
