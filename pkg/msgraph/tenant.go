package msgraph

import (
	"context"
	"fmt"

	"github.com/xtsync/xtsync/pkg/engine"
)

// Tenant is a whole-tenant read for an overview (`xtsync demo`): the
// organization, every user and every group with its direct members.
type Tenant struct {
	// ID, Name and Domain are the organization's id, display name and
	// default verified domain.
	ID, Name, Domain string
	// Users are every user, read with id and userType only.
	Users  []engine.User
	Groups []TenantGroup
}

// TenantGroup is a group of a Tenant with its direct members (users,
// groups and other objects).
type TenantGroup struct {
	engine.Group
	Members []engine.Member
}

// ReadTenant reads the organization, the users, the groups and each
// group's direct members, 999 a page: one request per page, and one member
// list per group.
func (c *Client) ReadTenant(ctx context.Context) (Tenant, error) {
	var t Tenant
	orgs, err := c.sdk.Organization().Get(ctx, nil)
	if err != nil {
		return t, wrap(err, "read the organization")
	}
	if n := len(orgs.GetValue()); n != 1 {
		return t, fmt.Errorf("read the organization: %d organizations, want 1", n)
	}
	org := orgs.GetValue()[0]
	t.ID, t.Name = str(org.GetId()), str(org.GetDisplayName())
	for _, d := range org.GetVerifiedDomains() {
		if isDefault := d.GetIsDefault(); (isDefault != nil && *isDefault) || t.Domain == "" {
			t.Domain = str(d.GetName())
		}
	}
	users, err := c.listUsers(ctx, "", []string{"id", "userType"}, false)
	if err != nil {
		return t, err
	}
	for _, u := range users {
		t.Users = append(t.Users, toUser(u))
	}
	groups, err := c.listGroups(ctx, "")
	if err != nil {
		return t, err
	}
	for _, g := range groups {
		members, err := c.members(ctx, g.ID, false, UserSchema{}, false)
		if err != nil {
			return t, err
		}
		t.Groups = append(t.Groups, TenantGroup{Group: g, Members: members})
	}
	return t, nil
}
