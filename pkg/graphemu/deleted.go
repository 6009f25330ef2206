package graphemu

import (
	"slices"
	"strings"
	"time"
)

// softDeleteGroup moves g to deleted items (restorable for 30 days), drops
// it from the groups it belonged to, and records the change. Call with e.mu
// held.
func (e *Emulator) softDeleteGroup(t *Tenant, g *Group) {
	for _, other := range t.groups {
		if other.removeMember(g.ID) {
			e.record(t, other.ID, chMemberRemove, g.ID)
		}
	}
	delete(t.groups, g.ID)
	g.Deleted = e.now()
	t.deletedGroups[g.ID] = g
	t.compact()
	e.record(t, g.ID, chSoftDeleted, "")
}

// softDeleteUser moves u to deleted items (restorable for 30 days) and out
// of every group: a deleted user is in no member list, and each group's
// delta reports it as a member removed (members@delta with @removed) and
// its subscriptions are notified. The user's own change is recorded for
// user delta ("@removed": {"reason": "changed"}) and notified as updated
// (https://learn.microsoft.com/en-us/graph/delta-query-users;
// https://learn.microsoft.com/en-us/graph/change-notifications-overview).
// Call with e.mu held.
func (e *Emulator) softDeleteUser(t *Tenant, u *User) {
	u.memberOf = nil
	for _, g := range t.liveGroups() {
		if g.removeMember(u.ID) {
			u.memberOf = append(u.memberOf, g.ID)
			e.record(t, g.ID, chMemberRemove, u.ID)
		}
	}
	delete(t.users, u.ID)
	u.Deleted = e.now()
	t.deletedUsers[u.ID] = u
	t.compact()
	e.recordUser(t, u.ID, uchSoftDeleted, nil)
}

// restoreUser brings a soft-deleted user back with its properties and its
// memberships of the groups its deletion removed it from that still live:
// "the user account can be restored, along with all its properties" and
// "All of the account's organization information is preserved. When you
// restore a user, this organization information is also restored"
// (https://learn.microsoft.com/en-us/entra/fundamentals/users-restore;
// https://learn.microsoft.com/en-us/graph/api/directory-deleteditems-restore:
// "you can fully restore the item"). Each membership restored is a member
// addition in that group's delta and notifications; the user itself shows
// in user delta with no annotation, as a created one. Call with e.mu held.
func (e *Emulator) restoreUser(t *Tenant, u *User) {
	delete(t.deletedUsers, u.ID)
	u.Deleted = time.Time{}
	t.addUser(u)
	e.recordUser(t, u.ID, uchRestored, nil)
	for _, gid := range u.memberOf {
		if g, live := t.groups[gid]; live && !g.hasMember(u.ID) {
			g.Members = append(g.Members, u.ID)
			e.record(t, g.ID, chMemberAdd, u.ID)
		}
	}
	u.memberOf = nil
}

// purgeUser removes a soft-deleted user for good: user delta reports
// "@removed": {"reason": "deleted"}, user subscriptions get deleted. Call
// with e.mu held.
func (e *Emulator) purgeUser(t *Tenant, u *User) {
	delete(t.deletedUsers, u.ID)
	e.recordUser(t, u.ID, uchPurged, nil)
}

// restoreGroup brings a soft-deleted group back with its members (those
// still live).
func (e *Emulator) restoreGroup(t *Tenant, g *Group) {
	delete(t.deletedGroups, g.ID)
	g.Deleted = time.Time{}
	kept := g.Members[:0]
	for _, m := range g.Members {
		if _, live := t.object(m); live {
			kept = append(kept, m)
		}
	}
	g.Members = kept
	t.addGroup(g)
	e.record(t, g.ID, chRestored, "")
}

func listDeletedItems(c *call) *response {
	sel := c.selectList()
	var items []map[string]any
	if lower(c.seg(2)) == "microsoft.graph.group" {
		for _, g := range c.t.deletedGroups {
			items = append(items, renderGroup(g, sel))
		}
	} else {
		for _, u := range c.t.deletedUsers {
			items = append(items, renderUser(u, sel))
		}
	}
	sortByID(items)
	return c.pageCounted(items, "directoryObjects", "/directory/deletedItems/"+c.seg(2))
}

func getDeletedItem(c *call) *response {
	id := c.seg(2)
	if !IsGUID(id) {
		return errResponse(errBadID(id))
	}
	sel := c.selectList()
	if g, found := c.t.deletedGroups[id]; found {
		body := renderGroup(g, sel)
		body["@odata.type"] = "#microsoft.graph.group"
		return ok(body)
	}
	if u, found := c.t.deletedUsers[id]; found {
		body := renderUser(u, sel)
		body["@odata.type"] = "#microsoft.graph.user"
		return ok(body)
	}
	return errResponse(errNotFound(id))
}

func restoreDeletedItem(c *call) *response {
	id := c.seg(2)
	if !IsGUID(id) {
		return errResponse(errBadID(id))
	}
	if g, found := c.t.deletedGroups[id]; found {
		c.e.restoreGroup(c.t, g)
		body := renderGroup(g, nil)
		body["@odata.context"] = c.link("/$metadata#directoryObjects/$entity")
		body["@odata.type"] = "#microsoft.graph.group"
		return ok(body)
	}
	if u, found := c.t.deletedUsers[id]; found {
		c.e.restoreUser(c.t, u)
		body := renderUser(u, nil)
		body["@odata.context"] = c.link("/$metadata#directoryObjects/$entity")
		body["@odata.type"] = "#microsoft.graph.user"
		return ok(body)
	}
	return errResponse(errNotFound(id))
}

func purgeDeletedItem(c *call) *response {
	id := c.seg(2)
	if !IsGUID(id) {
		return errResponse(errBadID(id))
	}
	if _, found := c.t.deletedGroups[id]; found {
		delete(c.t.deletedGroups, id)
		c.e.record(c.t, id, chPurged, "")
		return noContent()
	}
	if u, found := c.t.deletedUsers[id]; found {
		c.e.purgeUser(c.t, u)
		return noContent()
	}
	return errResponse(errNotFound(id))
}

func sortByID(items []map[string]any) {
	slices.SortFunc(items, func(a, b map[string]any) int { return strings.Compare(a["id"].(string), b["id"].(string)) })
}
