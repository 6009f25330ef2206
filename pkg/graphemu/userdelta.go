package graphemu

import (
	"slices"
	"strings"
)

// User delta, GET /users/delta, after Graph's:
//   https://learn.microsoft.com/en-us/graph/api/user-delta
//   https://learn.microsoft.com/en-us/graph/delta-query-users
//   https://learn.microsoft.com/en-us/graph/delta-query-overview
//
// - The first round returns every live user (or those of $filter=id eq
//   '...' or ..., at most 50 ids) with the $select properties (the default
//   property set without $select; id always), paged by @odata.nextLink, the
//   last page carrying an @odata.deltaLink. $deltatoken=latest answers no
//   users and a deltaLink from now ("sync from now": users and groups
//   support it, delta-query-overview).
// - A later round (the deltaLink) returns the users changed since:
//   created or restored ones in their standard representation; updated ones
//   with the selected properties, the new value of the changed ones and the
//   current value of the others, leaving out those never set (null), as
//   user-delta's "Default: return the same properties as initial delta
//   request" says; with "Prefer: return=minimal" only id and the changed
//   properties ("Alternative: return only the changed properties").
//   A change to a property that is not tracked (not in $select, or not in
//   the default set without $select) does not make the user appear:
//   "If a change occurs to a property that is not selected, the resource
//   for which that property changed does not appear in the delta response"
//   (delta-query-overview, "Optional query parameters").
// - A soft-deleted user is {"id", "@removed": {"reason": "changed"}}, a
//   permanently deleted one "reason": "deleted" (delta-query-users).
// - $top is not supported for user delta (delta-query-overview) and, as
//   Graph does, ignored (microsoftgraph/microsoft-graph-docs#17516); pages
//   hold 100 users, or the tenant's pageSize fault.
// - A $select name that is not a user property the emulator holds answers
//   501 NotImplemented, Graph's answer for a property delta does not track
//   (delta-query-overview, "Properties stored outside of the main data
//   store"), as the group delta does.

// userDeltaKind marks a user delta token (deltaToken.Kind).
const userDeltaKind = "users"

// userPropNames maps lower-cased user property names to their spelling.
var userPropNames = func() map[string]string {
	m := map[string]string{}
	for k := range userProps(&User{}) {
		m[lower(k)] = k
	}
	return m
}()

// userDeltaName accepts (and spells) a user property for a delta $select.
func userDeltaName(s string) (string, bool) {
	v, ok := userPropNames[lower(s)]
	return v, ok
}

// userTracked is the property set a user delta round tracks and returns:
// the selection plus id, or Graph's default set.
func userTracked(sel []string) []string {
	if len(sel) == 0 {
		return userDefault
	}
	if !slices.Contains(sel, "id") {
		sel = append(slices.Clone(sel), "id")
	}
	return sel
}

func usersDelta(c *call) *response {
	if st := c.q.Get("$skiptoken"); st != "" {
		return c.deltaSkip(st, usersDeltaPath)
	}
	sel, ids, gerr := c.deltaQuery(userDeltaName)
	if gerr != nil {
		return errResponse(gerr)
	}
	switch dt := c.q.Get("$deltatoken"); dt {
	case "":
		end := deltaToken{Kind: userDeltaKind, Seq: c.t.seq, Sel: sel, IDs: ids}
		return c.deltaRound(c.userDeltaInitial(sel, ids), end, usersDeltaPath, "users")
	case "latest":
		return c.deltaRound(nil, deltaToken{Kind: userDeltaKind, Seq: c.t.seq, Sel: sel, IDs: ids}, usersDeltaPath, "users")
	default:
		from, gerr := c.deltaFrom(dt, userDeltaKind)
		if gerr != nil {
			return errResponse(gerr)
		}
		end := deltaToken{Kind: userDeltaKind, Seq: c.t.seq, Sel: from.Sel, IDs: from.IDs}
		return c.deltaRound(c.userDeltaChanges(from, c.preferMinimal()), end, usersDeltaPath, "users")
	}
}

// preferMinimal reports whether the request carries "Prefer:
// return=minimal" (user-delta, "Request headers").
func (c *call) preferMinimal() bool {
	for _, v := range c.header.Values("Prefer") {
		for _, p := range strings.Split(v, ",") {
			if strings.EqualFold(strings.ReplaceAll(strings.TrimSpace(p), " ", ""), "return=minimal") {
				return true
			}
		}
	}
	return false
}

func (c *call) userDeltaInitial(sel, ids []string) []map[string]any {
	tracked := userTracked(sel)
	var out []map[string]any
	for _, u := range c.t.liveUsers() {
		if inScope(ids, u.ID) {
			out = append(out, renderUser(u, tracked))
		}
	}
	return out
}

// userDeltaChanges lists what changed after from.Seq, one object per user
// in order of first change, by the user's state now.
func (c *call) userDeltaChanges(from deltaToken, minimal bool) []map[string]any {
	tracked := userTracked(from.Sel)
	type acc struct {
		full    bool            // created or restored: the standard representation
		changed map[string]bool // tracked properties changed
	}
	var order []string
	seen := map[string]*acc{}
	i, _ := slices.BinarySearchFunc(c.t.userChanges, from.Seq+1, func(ch userChange, s int64) int { return int(ch.seq - s) })
	for _, ch := range c.t.userChanges[i:] {
		if !inScope(from.IDs, ch.user) {
			continue
		}
		a := seen[ch.user]
		if a == nil {
			a = &acc{changed: map[string]bool{}}
			seen[ch.user] = a
			order = append(order, ch.user)
		}
		switch ch.kind {
		case uchCreated, uchRestored:
			a.full = true
		case uchProps:
			for _, p := range ch.props {
				if slices.Contains(tracked, p) {
					a.changed[p] = true
				}
			}
		}
	}
	var out []map[string]any
	for _, id := range order {
		a := seen[id]
		u, live := c.t.users[id]
		switch {
		case !live:
			reason := "deleted"
			if _, soft := c.t.deletedUsers[id]; soft {
				reason = "changed"
			}
			out = append(out, map[string]any{"id": id, "@removed": map[string]any{"reason": reason}})
		case a.full:
			out = append(out, renderUser(u, tracked))
		case len(a.changed) > 0:
			all := userProps(u)
			e := map[string]any{"id": u.ID}
			for _, p := range tracked {
				v := all[p]
				switch {
				case a.changed[p]: // new value, null included
					e[p] = v
				case minimal, v == nil: // unchanged (minimal) or never set
				default:
					e[p] = v
				}
			}
			out = append(out, e)
		}
	}
	return out
}
