package graphemu

import (
	"slices"
	"time"
)

// Delta tokens for directory objects last about 7 days; a token older than
// that, or older than the tenant's change horizon, answers 410.
const (
	deltaTokenLifetime = 7 * 24 * time.Hour
	maxDeltaIDs        = 50
	snapLifetime       = time.Hour
)

// Delta routes, for the links a round hands out.
const (
	groupsDeltaPath = "/groups/delta"
	usersDeltaPath  = "/users/delta"
)

// deltaToken is what a $deltatoken carries: where the round ended, the
// query it tracks, and (Kind) the collection: "" for groups, "users".
type deltaToken struct {
	Kind   string   `json:"c,omitempty"`
	Seq    int64    `json:"s"`
	Sel    []string `json:"sel,omitempty"`
	IDs    []string `json:"ids,omitempty"`
	Tenant string   `json:"tid"`
	Issued int64    `json:"i"`
}

// deltaSnap is one delta round's materialised result, paged by $skiptoken.
// path is the delta route it was made for (a skiptoken is refused on the
// other one), coll its @odata.context collection.
type deltaSnap struct {
	entries []map[string]any
	end     deltaToken
	created time.Time
	path    string
	coll    string
}

type skip struct {
	Key    string `json:"k"`
	Offset int    `json:"o"`
}

// deltaSelectable are the (lowercased) properties a group delta $select may name.
var deltaSelectable = func() map[string]bool {
	m := map[string]bool{"members": true}
	for _, p := range groupDefault {
		m[lower(p)] = true
	}
	return m
}()

func groupsDelta(c *call) *response {
	if st := c.q.Get("$skiptoken"); st != "" {
		return c.deltaSkip(st, groupsDeltaPath)
	}
	sel, ids, gerr := c.deltaQuery(groupDeltaName)
	if gerr != nil {
		return errResponse(gerr)
	}
	var from deltaToken
	initial := true
	if dt := c.q.Get("$deltatoken"); dt != "" {
		if dt == "latest" {
			return c.deltaRound(nil, deltaToken{Seq: c.t.seq, Sel: sel, IDs: ids}, groupsDeltaPath, "groups")
		}
		if from, gerr = c.deltaFrom(dt, ""); gerr != nil {
			return errResponse(gerr)
		}
		initial = false
	} else {
		from = deltaToken{Sel: sel, IDs: ids}
	}
	end := deltaToken{Seq: c.t.seq, Sel: from.Sel, IDs: from.IDs}
	var entries []map[string]any
	if initial {
		entries = c.deltaInitial(from)
	} else {
		entries = c.deltaChanges(from)
	}
	return c.deltaRound(entries, end, groupsDeltaPath, "groups")
}

// deltaSkip serves a further page of a round (a $skiptoken of path's
// nextLink).
func (c *call) deltaSkip(st, path string) *response {
	var sk skip
	snap, found := (*deltaSnap)(nil), false
	if decodeToken(st, &sk) {
		snap, found = c.e.snaps[sk.Key]
	}
	if !found || snap.path != path || sk.Offset < 0 || sk.Offset > len(snap.entries) {
		return errResponse(errf(400, "Request_BadRequest", "Invalid skip token '%s'.", st))
	}
	return c.deltaPage(sk.Key, snap, sk.Offset)
}

// deltaFrom checks a $deltatoken of collection kind ("" for groups,
// "users"): 400 for one that is not a token of this tenant and collection,
// 410 syncStateNotFound for one older than 7 days or than the tenant's
// change horizon (ExpireDeltaTokens). Delta tokens for directory objects
// last seven days; an expired one answers a 40x with syncStateNotFound
// (https://learn.microsoft.com/en-us/graph/delta-query-overview, "Token
// duration").
func (c *call) deltaFrom(dt, kind string) (deltaToken, *graphErr) {
	var from deltaToken
	if !decodeToken(dt, &from) || from.Tenant != c.t.ID || from.Kind != kind {
		return from, errf(400, "Request_BadRequest", "Invalid delta token '%s'.", dt)
	}
	if from.Seq < c.t.horizon || c.now().Sub(time.Unix(from.Issued, 0)) > deltaTokenLifetime || from.Seq > c.t.seq {
		return from, errf(410, "syncStateNotFound", "The sync state for this delta token was not found or has expired. Start a new round of delta with no token.")
	}
	return from, nil
}

// groupDeltaName accepts the properties a group delta $select may name,
// as given.
func groupDeltaName(s string) (string, bool) { return s, deltaSelectable[lower(s)] }

// deltaQuery parses the $select and $filter of a new delta round. name
// checks (and spells) one $select entry; a name it refuses answers 501, as
// Graph answers for properties delta does not track
// (https://learn.microsoft.com/en-us/graph/delta-query-overview,
// "Properties stored outside of the main data store"). The $filter takes
// only "id eq" clauses joined by or, at most 50 (group-delta, user-delta).
func (c *call) deltaQuery(name func(string) (string, bool)) ([]string, []string, *graphErr) {
	var sel []string
	for _, s := range c.selectList() {
		canon, known := name(s)
		if !known {
			return nil, nil, errf(501, "NotImplemented", "This operation target is not yet supported.")
		}
		sel = append(sel, canon)
	}
	var ids []string
	if f := c.q.Get("$filter"); f != "" {
		clauses, gerr := parseFilter(f, maxDeltaIDs)
		if gerr != nil {
			return nil, nil, gerr
		}
		for _, cl := range clauses {
			if lower(cl.prop) != "id" || cl.op != opEq {
				return nil, nil, errUnsupportedQuery("Unsupported filter for delta: only 'id eq' clauses joined with 'or' are supported.")
			}
			if !IsGUID(cl.value) {
				return nil, nil, errBadID(cl.value)
			}
			ids = append(ids, lower(cl.value))
		}
	}
	return sel, ids, nil
}

func (c *call) deltaRound(entries []map[string]any, end deltaToken, path, coll string) *response {
	end.Tenant, end.Issued = c.t.ID, c.now().Unix()
	for k, s := range c.e.snaps {
		if c.now().Sub(s.created) > snapLifetime {
			delete(c.e.snaps, k)
		}
	}
	key := c.e.newID()
	snap := &deltaSnap{entries: entries, end: end, created: c.now(), path: path, coll: coll}
	c.e.snaps[key] = snap
	return c.deltaPage(key, snap, 0)
}

func (c *call) deltaPage(key string, snap *deltaSnap, off int) *response {
	size := defaultPage
	if f := c.t.faults.PageSize; f > 0 && f < size {
		size = f
	}
	end := min(off+size, len(snap.entries))
	body := map[string]any{
		"@odata.context": c.link("/$metadata#" + contextFor(snap.coll, snap.end.Sel)),
		"value":          nonNil(snap.entries[off:end]),
	}
	if end < len(snap.entries) {
		body["@odata.nextLink"] = c.link(snap.path + "?$skiptoken=" + encodeToken(skip{Key: key, Offset: end}))
	} else {
		delete(c.e.snaps, key)
		body["@odata.deltaLink"] = c.link(snap.path + "?$deltatoken=" + encodeToken(snap.end))
	}
	return ok(body)
}

func selectsMembers(sel []string) (props []string, members bool) {
	for _, s := range sel {
		if lower(s) == "members" {
			members = true
			continue
		}
		props = append(props, s)
	}
	if len(sel) > 0 && !slices.ContainsFunc(props, func(s string) bool { return lower(s) == "id" }) {
		props = append(props, "id")
	}
	return props, members || len(sel) == 0
}

func inScope(ids []string, id string) bool { return len(ids) == 0 || slices.Contains(ids, id) }

// memberChunk is how many members@delta entries one group object carries;
// a larger membership continues in further objects for the same group.
func (c *call) memberChunk() int {
	if f := c.t.faults.PageSize; f > 0 {
		return f
	}
	return maxPage
}

func (c *call) deltaGroup(g *Group, props []string, members []map[string]any, withMembers bool) []map[string]any {
	first := renderGroup(g, props)
	if !withMembers {
		return []map[string]any{first}
	}
	chunk := c.memberChunk()
	var out []map[string]any
	for i := 0; i == 0 || i < len(members); i += chunk {
		e := first
		if i > 0 {
			e = map[string]any{"id": g.ID}
		}
		e["members@delta"] = nonNil(members[i:min(i+chunk, len(members))])
		out = append(out, e)
	}
	return out
}

func (c *call) memberRef(id string, removed bool) map[string]any {
	typ := "#microsoft.graph.directoryObject"
	_, isUser := c.t.users[id]
	_, deletedUser := c.t.deletedUsers[id] // removed from the group by its deletion
	_, isGroup := c.t.groups[id]
	_, deletedGroup := c.t.deletedGroups[id]
	if isUser || deletedUser {
		typ = "#microsoft.graph.user"
	} else if isGroup || deletedGroup {
		typ = "#microsoft.graph.group"
	}
	m := map[string]any{"@odata.type": typ, "id": id}
	if removed {
		m["@removed"] = map[string]any{"reason": "deleted"}
	}
	return m
}

func (c *call) deltaInitial(q deltaToken) []map[string]any {
	props, withMembers := selectsMembers(q.Sel)
	var out []map[string]any
	for _, g := range c.t.liveGroups() {
		if !inScope(q.IDs, g.ID) {
			continue
		}
		var ms []map[string]any
		for _, m := range g.Members {
			ms = append(ms, c.memberRef(m, false))
		}
		out = append(out, c.deltaGroup(g, props, ms, withMembers)...)
	}
	return out
}

// deltaChanges lists what changed after from.Seq, one object per group in
// order of first change, with the net member changes.
func (c *call) deltaChanges(from deltaToken) []map[string]any {
	props, withMembers := selectsMembers(from.Sel)
	type acc struct {
		props   bool
		full    bool
		members map[string]bool // member id -> added (true) or removed
		order   []string
	}
	var order []string
	seen := map[string]*acc{}
	i, _ := slices.BinarySearchFunc(c.t.changes, from.Seq+1, func(ch change, s int64) int { return int(ch.seq - s) })
	for _, ch := range c.t.changes[i:] {
		if !inScope(from.IDs, ch.group) {
			continue
		}
		a := seen[ch.group]
		if a == nil {
			a = &acc{members: map[string]bool{}}
			seen[ch.group] = a
			order = append(order, ch.group)
		}
		switch ch.kind {
		case chMemberAdd, chMemberRemove:
			if _, had := a.members[ch.member]; !had {
				a.order = append(a.order, ch.member)
			}
			a.members[ch.member] = ch.kind == chMemberAdd
		case chCreated, chRestored:
			a.full, a.props = true, true
		default:
			a.props = true
		}
	}
	var out []map[string]any
	for _, id := range order {
		a := seen[id]
		g, live := c.t.groups[id]
		if !live {
			reason := "deleted"
			if _, soft := c.t.deletedGroups[id]; soft {
				reason = "changed"
			}
			out = append(out, map[string]any{"id": id, "@removed": map[string]any{"reason": reason}})
			continue
		}
		if !a.props && !withMembers {
			continue
		}
		var ms []map[string]any
		if a.full {
			for _, m := range g.Members {
				ms = append(ms, c.memberRef(m, false))
			}
		} else {
			for _, m := range a.order {
				if a.members[m] == g.hasMember(m) { // net effect still holds
					ms = append(ms, c.memberRef(m, !a.members[m]))
				}
			}
		}
		out = append(out, c.deltaGroup(g, props, ms, withMembers)...)
	}
	return out
}

// ExpireDeltaTokens makes every delta token issued so far in the tenant,
// group and user delta alike, answer 410 syncStateNotFound, as after Graph
// drops its sync state.
func (e *Emulator) ExpireDeltaTokens(tenantID string) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	t, found := e.tenant(tenantID)
	if !found {
		return errTenant(tenantID)
	}
	t.seq++
	t.horizon = t.seq
	t.changes = nil
	t.userChanges = nil
	return nil
}
