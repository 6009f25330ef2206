package main

import (
	"context"
	"slices"

	"github.com/xtsync/xtsync/pkg/engine"
	"github.com/xtsync/xtsync/pkg/msgraph"
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

// readTenant reads the organization, users, groups and each group's direct
// members, as the sync engine will.
func readTenant(ctx context.Context, c *msgraph.Client) (tenantView, error) {
	t, err := c.ReadTenant(ctx)
	if err != nil {
		return tenantView{}, err
	}
	tv := tenantView{ID: t.ID, Name: t.Name, Domain: t.Domain}
	for _, u := range t.Users {
		if u.UserType == "Guest" {
			tv.Guests++
		} else {
			tv.Members++
		}
	}
	for _, g := range t.Groups {
		gv := groupView{ID: g.ID, Name: g.DisplayName, Kind: groupKind(g.Group), Members: len(g.Members)}
		for _, m := range g.Members {
			switch {
			case m.Type == engine.TypeGroup:
				gv.Nested = append(gv.Nested, m.DisplayName)
			case m.IsGuest():
				gv.Guests++
			}
		}
		tv.Groups = append(tv.Groups, gv)
	}
	return tv, nil
}

// groupKind names a group's kind as the Entra admin center does.
func groupKind(g engine.Group) string {
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
