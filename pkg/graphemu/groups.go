package graphemu

import (
	"encoding/json"
	"slices"
	"strings"
	"time"
)

// maxLinkChanges is how many member/owner references one group write may
// carry ("A resource cannot contain more than 20 link changes").
const maxLinkChanges = 20

// visible reports whether an object created at created can be read by id yet
// under the tenant's replication-delay fault.
func (c *call) visible(created time.Time) bool {
	d := c.t.faults.ReplicationDelay.D()
	return d <= 0 || !c.now().Before(created.Add(d))
}

// lookupGroup finds a live group by id, honouring replication delay.
func (c *call) lookupGroup(id string) (*Group, *graphErr) {
	if !IsGUID(id) {
		return nil, errBadID(id)
	}
	g, found := c.t.groups[id]
	if !found || !c.visible(g.Created) {
		return nil, errNotFound(id)
	}
	return g, nil
}

// groupFilterRule is what $filter takes on a group property (lower-cased):
// id eq/in; displayName, mailNickname, mail eq/in/startsWith, all standard
// queries (https://learn.microsoft.com/en-us/graph/api/resources/group and
// the group table of aad-advanced-queries).
func groupFilterRule(prop string) (filterRule, bool) {
	switch prop {
	case "id":
		return filterRule{eq: true}, true
	case "displayname", "mailnickname", "mail":
		return filterRule{eq: true, startsWith: true}, true
	}
	return filterRule{}, false
}

func listGroups(c *call) *response {
	if gerr := c.searchQuery(); gerr != nil {
		return errResponse(gerr)
	}
	sel := c.selectList()
	groups := c.t.liveGroups()
	if f := c.q.Get("$filter"); f != "" {
		clauses, gerr := parseFilter(f, 15)
		if gerr != nil {
			return errResponse(gerr)
		}
		if gerr := c.checkFilter(clauses, groupFilterRule, "Group"); gerr != nil {
			return errResponse(gerr)
		}
		groups = slices.DeleteFunc(groups, func(g *Group) bool { return !groupMatches(g, clauses) })
	}
	items := make([]map[string]any, 0, len(groups))
	for _, g := range groups {
		items = append(items, renderGroup(g, sel))
	}
	return c.pageCounted(items, contextFor("groups", sel), "/groups")
}

// groupMatches reports whether g satisfies any of the clauses (joined by or).
func groupMatches(g *Group, clauses []filterClause) bool {
	for _, cl := range clauses {
		var v string
		switch lower(cl.prop) {
		case "id":
			v = g.ID
		case "displayname":
			v = g.DisplayName
		case "mailnickname":
			v = g.MailNickname
		case "mail":
			v = g.Mail
		}
		if v != "" && cl.matches(v) {
			return true
		}
	}
	return false
}

func getGroup(c *call) *response {
	g, gerr := c.lookupGroup(c.seg(1))
	if gerr != nil {
		return errResponse(gerr)
	}
	sel := c.selectList()
	body := renderGroup(g, sel)
	body["@odata.context"] = c.link("/$metadata#" + contextFor("groups", sel) + "/$entity")
	return ok(body)
}

// groupWrite is the writable subset of a group in POST and PATCH bodies.
type groupWrite struct {
	raw map[string]json.RawMessage
}

var groupWritable = map[string]bool{
	"displayName": true, "description": true, "mailNickname": true, "mailEnabled": true,
	"securityEnabled": true, "groupTypes": true, "membershipRule": true,
	"membershipRuleProcessingState": true, "visibility": true, "isAssignableToRole": true,
	"members@odata.bind": true, "owners@odata.bind": true, "@odata.type": true,
}

func (c *call) groupBody() (*groupWrite, *graphErr) {
	var raw map[string]json.RawMessage
	if gerr := c.decode(&raw); gerr != nil {
		return nil, gerr
	}
	for k := range raw {
		if !groupWritable[k] {
			return nil, errf(400, "Request_BadRequest", "Property '%s' does not exist as a declared property or extension property.", k)
		}
	}
	return &groupWrite{raw: raw}, nil
}

func (w *groupWrite) has(k string) bool { _, ok := w.raw[k]; return ok }

func (w *groupWrite) str(k string) (string, *graphErr) {
	var s *string
	if err := json.Unmarshal(w.raw[k], &s); err != nil {
		return "", errf(400, "Request_BadRequest", "Invalid value specified for property '%s' of resource 'Group'.", k)
	}
	if s == nil {
		return "", nil
	}
	return *s, nil
}

func (w *groupWrite) boolean(k string) (bool, *graphErr) {
	var b bool
	if err := json.Unmarshal(w.raw[k], &b); err != nil {
		return false, errf(400, "Request_BadRequest", "Invalid value specified for property '%s' of resource 'Group'.", k)
	}
	return b, nil
}

func (w *groupWrite) list(k string) ([]string, *graphErr) {
	var v []string
	if err := json.Unmarshal(w.raw[k], &v); err != nil {
		return nil, errf(400, "Request_BadRequest", "Invalid value specified for property '%s' of resource 'Group'.", k)
	}
	return v, nil
}

// bindIDs resolves the directory object ids of an @odata.bind list.
func (c *call) bindIDs(w *groupWrite, k string) ([]string, *graphErr) {
	if !w.has(k) {
		return nil, nil
	}
	refs, gerr := w.list(k)
	if gerr != nil {
		return nil, gerr
	}
	ids := make([]string, 0, len(refs))
	for _, ref := range refs {
		id, gerr := c.refID(ref)
		if gerr != nil {
			return nil, gerr
		}
		if slices.Contains(ids, id) {
			return nil, errf(400, "Request_BadRequest", "One or more added object references already exist for the following modified properties: '%s'.", strings.TrimSuffix(k, "@odata.bind"))
		}
		ids = append(ids, id)
	}
	return ids, nil
}

// refID checks a reference URL (".../directoryObjects/{id}", ".../users/{id}",
// ".../groups/{id}") and returns the id of the live object it names.
func (c *call) refID(ref string) (string, *graphErr) {
	ref = strings.TrimRight(ref, "/")
	i := strings.LastIndex(ref, "/")
	if i < 0 || !strings.HasPrefix(ref, "http") {
		return "", errf(400, "Request_BadRequest", "Invalid URL format specified in @odata.bind for members.")
	}
	coll := ref[:i]
	coll = lower(coll[strings.LastIndex(coll, "/")+1:])
	if coll != "directoryobjects" && coll != "users" && coll != "groups" {
		return "", errf(400, "Request_BadRequest", "Invalid URL format specified in @odata.bind for members.")
	}
	id := ref[i+1:]
	if !IsGUID(id) {
		return "", errBadID(id)
	}
	kind, found := c.t.object(id)
	if !found || (coll == "users" && kind != "user") || (coll == "groups" && kind != "group") {
		return "", errNotFound(id)
	}
	created := time.Time{}
	if kind == "user" {
		created = c.t.users[id].Created
	} else {
		created = c.t.groups[id].Created
	}
	if !c.visible(created) {
		return "", errNotFound(id)
	}
	return id, nil
}

func validNickname(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for _, r := range s {
		if r > 127 || r <= 32 || strings.ContainsRune(`@()\[]";:<>,`, r) {
			return false
		}
	}
	return true
}

func createGroup(c *call) *response {
	w, gerr := c.groupBody()
	if gerr != nil {
		return errResponse(gerr)
	}
	for _, k := range []string{"displayName", "mailEnabled", "mailNickname", "securityEnabled"} {
		if !w.has(k) {
			return errResponse(errf(400, "Request_BadRequest", "Invalid value specified for property '%s' of resource 'Group'.", k))
		}
	}
	g := &Group{Created: c.now()}
	var errs []*graphErr
	var e1, e2, e3, e4, e5 *graphErr
	g.DisplayName, e1 = w.str("displayName")
	g.MailNickname, e2 = w.str("mailNickname")
	g.MailEnabled, e3 = w.boolean("mailEnabled")
	g.SecurityEnabled, e4 = w.boolean("securityEnabled")
	if w.has("description") {
		g.Description, e5 = w.str("description")
	}
	errs = append(errs, e1, e2, e3, e4, e5)
	if w.has("groupTypes") {
		var e *graphErr
		g.GroupTypes, e = w.list("groupTypes")
		errs = append(errs, e)
	}
	if w.has("membershipRule") {
		var e *graphErr
		g.MembershipRule, e = w.str("membershipRule")
		errs = append(errs, e)
	}
	if w.has("visibility") {
		var e *graphErr
		g.Visibility, e = w.str("visibility")
		errs = append(errs, e)
	}
	for _, e := range errs {
		if e != nil {
			return errResponse(e)
		}
	}
	if g.DisplayName == "" || len(g.DisplayName) > 256 {
		return errResponse(errf(400, "Request_BadRequest", "Invalid value specified for property 'displayName' of resource 'Group'."))
	}
	if !validNickname(g.MailNickname) {
		return errResponse(errf(400, "Request_BadRequest", "Invalid value specified for property 'mailNickname' of resource 'Group'."))
	}
	for _, gt := range g.GroupTypes {
		if gt != "Unified" && gt != "DynamicMembership" {
			return errResponse(errf(400, "Request_BadRequest", "Invalid value specified for property 'groupTypes' of resource 'Group'."))
		}
	}
	if g.MailEnabled && !g.IsUnified() {
		return errResponse(errf(400, "Request_BadRequest", "Creating mail-enabled security groups or distribution lists is not supported through Microsoft Graph."))
	}
	if g.IsUnified() && !g.MailEnabled {
		return errResponse(errf(400, "Request_BadRequest", "Microsoft 365 groups must be mail-enabled."))
	}
	if g.IsDynamic() != (g.MembershipRule != "") {
		return errResponse(errf(400, "Request_BadRequest", "Invalid value specified for property 'membershipRule' of resource 'Group'."))
	}
	if g.MailEnabled {
		for _, o := range c.t.groups {
			if strings.EqualFold(o.MailNickname, g.MailNickname) && o.MailEnabled {
				return errResponse(errf(400, "Request_BadRequest", "Another object with the same value for property mailNickname already exists."))
			}
		}
		g.Mail = g.MailNickname + "@" + c.t.Domain
	}
	members, gerr := c.bindIDs(w, "members@odata.bind")
	if gerr != nil {
		return errResponse(gerr)
	}
	owners, gerr := c.bindIDs(w, "owners@odata.bind")
	if gerr != nil {
		return errResponse(gerr)
	}
	if len(members)+len(owners) > maxLinkChanges {
		return errResponse(errf(400, "Request_BadRequest", "A resource cannot contain more than %d link changes.", maxLinkChanges))
	}
	if g.IsDynamic() && len(members) > 0 {
		return errResponse(errf(400, "Request_BadRequest", "Members of a group with dynamic membership cannot be changed."))
	}
	g.ID = c.e.newID()
	g.Owners = owners
	c.t.addGroup(g)
	c.e.record(c.t, g.ID, chCreated, "")
	for _, m := range members {
		g.Members = append(g.Members, m)
		c.e.record(c.t, g.ID, chMemberAdd, m)
	}
	body := renderGroup(g, nil)
	body["@odata.context"] = c.link("/$metadata#groups/$entity")
	body["@odata.id"] = c.base[:strings.LastIndex(c.base, "/")] + "/v2/" + c.t.ID + "/directoryObjects/" + g.ID + "/Microsoft.DirectoryServices.Group"
	res := created(body)
	res.header = map[string][]string{"Location": {c.link("/groups/" + g.ID)}}
	return res
}

func patchGroup(c *call) *response {
	g, gerr := c.lookupGroup(c.seg(1))
	if gerr != nil {
		return errResponse(gerr)
	}
	w, gerr := c.groupBody()
	if gerr != nil {
		return errResponse(gerr)
	}
	for _, k := range []string{"mailEnabled", "securityEnabled", "groupTypes", "membershipRule", "membershipRuleProcessingState", "isAssignableToRole", "owners@odata.bind"} {
		if w.has(k) {
			return errResponse(errf(400, "Request_BadRequest", "Updating property '%s' is not supported by this emulator.", k))
		}
	}
	next := g.clone()
	if w.has("displayName") {
		if next.DisplayName, gerr = w.str("displayName"); gerr != nil || next.DisplayName == "" || len(next.DisplayName) > 256 {
			return errResponse(errf(400, "Request_BadRequest", "Invalid value specified for property 'displayName' of resource 'Group'."))
		}
	}
	if w.has("description") {
		if next.Description, gerr = w.str("description"); gerr != nil {
			return errResponse(gerr)
		}
	}
	if w.has("mailNickname") {
		if next.MailNickname, gerr = w.str("mailNickname"); gerr != nil || !validNickname(next.MailNickname) {
			return errResponse(errf(400, "Request_BadRequest", "Invalid value specified for property 'mailNickname' of resource 'Group'."))
		}
	}
	if w.has("visibility") {
		if next.Visibility, gerr = w.str("visibility"); gerr != nil {
			return errResponse(gerr)
		}
	}
	add, gerr := c.bindIDs(w, "members@odata.bind")
	if gerr != nil {
		return errResponse(gerr)
	}
	if len(add) > maxLinkChanges {
		return errResponse(errf(400, "Request_BadRequest", "A resource cannot contain more than %d link changes.", maxLinkChanges))
	}
	if len(add) > 0 {
		if gerr := memberWritable(g); gerr != nil {
			return errResponse(gerr)
		}
	}
	for _, m := range add { // all-or-nothing: check every reference first
		if g.hasMember(m) {
			return errResponse(errf(400, "Request_BadRequest", "One or more added object references already exist for the following modified properties: 'members'."))
		}
		if m == g.ID {
			return errResponse(errf(400, "Request_BadRequest", "A group cannot be a member of itself."))
		}
	}
	propsChanged := next.DisplayName != g.DisplayName || next.Description != g.Description || next.MailNickname != g.MailNickname || next.Visibility != g.Visibility
	g.DisplayName, g.Description, g.MailNickname, g.Visibility = next.DisplayName, next.Description, next.MailNickname, next.Visibility
	if propsChanged {
		c.e.record(c.t, g.ID, chProps, "")
	}
	for _, m := range add {
		g.Members = append(g.Members, m)
		c.e.record(c.t, g.ID, chMemberAdd, m)
	}
	return noContent()
}

// memberWritable refuses member changes Graph refuses: rule-based groups
// and mail-enabled security groups / distribution lists (Exchange owns them).
func memberWritable(g *Group) *graphErr {
	if g.IsDynamic() {
		return errf(400, "Request_BadRequest", "Members of a group with dynamic membership cannot be changed.")
	}
	if g.IsDistributionList() {
		return errf(400, "Request_BadRequest", "Cannot Update a mail-enabled security groups and or distribution list.")
	}
	return nil
}

func deleteGroup(c *call) *response {
	g, gerr := c.lookupGroup(c.seg(1))
	if gerr != nil {
		return errResponse(gerr)
	}
	c.e.softDeleteGroup(c.t, g)
	return noContent()
}
