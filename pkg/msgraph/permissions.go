package msgraph

import (
	"net/http"
	"strings"
)

// Required is a Microsoft Graph application permission xtsync needs in a
// tenant (docs/deploy.md's tables), what it is for, and the granted
// permissions that also cover it (Graph accepts any of them, per each
// API's reference page).
type Required struct {
	Name, Why string
	Or        []string
}

// RequiredPermissions are the permissions the source or the target app
// needs: docs/deploy.md's tables, which xtsync check checks against and
// among which NeededPermission names one (TestNeededPermission keeps them
// in step).
func RequiredPermissions(section string) []Required {
	if section == "source" {
		return []Required{
			{"Group.Read.All", "read the scoped groups, their members and /groups/delta, and subscribe to them", []string{"Group.ReadWrite.All", "Directory.Read.All", "Directory.ReadWrite.All"}},
			{"User.Read.All", "read the members' mail and attributes, /users/delta and the /users subscription", []string{"User.ReadWrite.All", "Directory.Read.All", "Directory.ReadWrite.All"}},
		}
	}
	return []Required{
		{"Group.ReadWrite.All", "create, rename, delete and restore the mirrors and change their members", []string{"Directory.ReadWrite.All"}},
		{"User.Invite.All", "invite the source members as B2B users", []string{"User.ReadWrite.All", "Directory.ReadWrite.All"}},
		{"User.Read.All", "find existing users before inviting", []string{"User.ReadWrite.All", "Directory.Read.All", "Directory.ReadWrite.All"}},
		{"User.ReadWrite.All", "write the link marker and attributes of the users xtsync invited, disable, enable and delete them", []string{"Directory.ReadWrite.All"}},
	}
}

// NeededPermission is the Microsoft Graph application permission of
// docs/deploy.md's tables that a call needs: the source app reads groups
// (Group.Read.All) and users (User.Read.All), and subscribes to them; the
// target app writes groups and members (Group.ReadWrite.All), invites
// (User.Invite.All), reads users (User.Read.All) and writes them
// (User.ReadWrite.All).
func NeededPermission(section, method, route string) string {
	write := method != http.MethodGet
	switch {
	case route == "/invitations":
		return "User.Invite.All"
	case route == "/subscriptions" || strings.HasPrefix(route, "/subscriptions/"):
		return "Group.Read.All (group subscriptions) or User.Read.All (the /users subscription)"
	case strings.HasPrefix(route, "/users"):
		if write {
			return "User.ReadWrite.All"
		}
		return "User.Read.All"
	case strings.HasPrefix(route, "/groups"), strings.HasPrefix(route, "/directory/deletedItems"):
		if write || section == "target" {
			return "Group.ReadWrite.All"
		}
		return "Group.Read.All"
	}
	return "listed in docs/deploy.md"
}
