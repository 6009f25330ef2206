package graphemu

import (
	"encoding/json"
	"slices"
	"strings"
)

// An app's Graph application permissions, as an administrator grants them
// (with admin consent) in the app registration. App.Permissions nil grants
// every permission (seeds without the field keep working); a list grants
// only those, and a call that needs another answers 403
// Authorization_RequestDenied "Insufficient privileges to complete the
// operation.", as Graph does.
//
// The permissions a route accepts are those its Graph API reference page
// lists for application access, least privileged first (List groups, Get
// group, group: delta, List group members, List group transitive members,
// Create group, Update group, Delete group, Add members, Remove member,
// List users, Get user, user: delta, Update user, Delete user, Create
// invitation, List deletedItems, Get deleted item, Restore deleted item,
// Create subscription: https://learn.microsoft.com/graph/api/overview,
// each page's "Permissions" section).
var (
	permReadGroups   = []string{"GroupMember.Read.All", "Group.Read.All", "Group.ReadWrite.All", "Directory.Read.All", "Directory.ReadWrite.All"}
	permCreateGroup  = []string{"Group.Create", "Group.ReadWrite.All", "Directory.ReadWrite.All"}
	permWriteGroup   = []string{"Group.ReadWrite.All", "Directory.ReadWrite.All"}
	permWriteMembers = []string{"GroupMember.ReadWrite.All", "Group.ReadWrite.All", "Directory.ReadWrite.All"}
	permReadUsers    = []string{"User.Read.All", "User.ReadWrite.All", "Directory.Read.All", "Directory.ReadWrite.All"}
	permWriteUser    = []string{"User.ReadWrite.All", "Directory.ReadWrite.All"}
	permDeleteUser   = []string{"User.DeleteRestore.All", "User.ReadWrite.All"}
	permInvite       = []string{"User.Invite.All", "User.ReadWrite.All", "Directory.ReadWrite.All"}
)

// allPermissions are the permissions the emulator knows, granted to an
// app whose seed lists none.
func allPermissions() []string {
	var out []string
	for _, set := range [][]string{permReadGroups, permCreateGroup, permWriteGroup, permWriteMembers, permReadUsers, permWriteUser, permDeleteUser, permInvite} {
		for _, p := range set {
			if !slices.Contains(out, p) {
				out = append(out, p)
			}
		}
	}
	slices.Sort(out)
	return out
}

// routePermissions are the permissions each route accepts (any one of
// them); a route not listed needs none here (the organization, the
// subscriptions' reads, renewals and deletes).
func routePermissions(c *call) []string {
	switch c.route {
	case "GET /groups", "GET /groups/{id}", "GET /groups/delta", "GET /groups/{id}/members", "GET /groups/{id}/transitiveMembers":
		return permReadGroups
	case "POST /groups":
		return permCreateGroup
	case "PATCH /groups/{id}", "DELETE /groups/{id}":
		return permWriteGroup
	case "POST /groups/{id}/members/$ref", "DELETE /groups/{id}/members/{id}/$ref":
		return permWriteMembers
	case "GET /users", "GET /users/{id}", "GET /users/delta":
		return permReadUsers
	case "POST /users", "PATCH /users/{id}":
		return permWriteUser
	case "DELETE /users/{id}":
		return permDeleteUser
	case "POST /invitations":
		return permInvite
	case "GET /directory/deletedItems/microsoft.graph.group", "GET /directory/deletedItems/{id}":
		return permReadGroups
	case "GET /directory/deletedItems/microsoft.graph.user":
		return permReadUsers
	case "POST /directory/deletedItems/{id}/restore", "DELETE /directory/deletedItems/{id}":
		return permWriteGroup
	case "POST /subscriptions":
		// A subscription needs the permission of reading its resource:
		// Group.Read.All for groups, User.Read.All for users (Create
		// subscription, "Permissions" by resource).
		if r := strings.TrimPrefix(strings.ToLower(subscriptionResource(c)), "/"); strings.HasPrefix(r, "users") {
			return permReadUsers
		}
		return []string{"Group.Read.All", "Group.ReadWrite.All", "Directory.Read.All", "Directory.ReadWrite.All"}
	}
	return nil
}

// subscriptionResource is the resource a subscription request body names
// ("" when unreadable: the handler refuses it).
func subscriptionResource(c *call) string {
	var b struct {
		Resource string `json:"resource"`
	}
	_ = json.Unmarshal(c.body, &b)
	return b.Resource
}

// permitted reports whether app may make call c. Call with e.mu held.
func permitted(app *App, c *call) bool {
	if app == nil || app.Permissions == nil {
		return true
	}
	need := routePermissions(c)
	return need == nil || slices.ContainsFunc(need, func(p string) bool {
		return slices.ContainsFunc(app.Permissions, func(g string) bool { return strings.EqualFold(g, p) })
	})
}

// errDenied is Graph's answer to a call the app has no permission for.
func errDenied() *graphErr {
	return errf(403, "Authorization_RequestDenied", "Insufficient privileges to complete the operation.")
}
