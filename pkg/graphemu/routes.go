package graphemu

import "strings"

type handlerFunc func(*call) *response

const routeBatch = "POST /$batch"

// route maps a call to its route key (the metric name, e.g.
// "GET /groups/{id}/members") and handler; a nil handler means the route is
// not implemented.
func (e *Emulator) route(c *call) (string, handlerFunc) {
	s := make([]string, len(c.segs))
	for i, v := range c.segs {
		s[i] = lower(v)
	}
	m := c.method
	key := func(p string) string { return m + " " + p }
	n := len(s)
	switch {
	case n == 1 && s[0] == "$batch":
		return pick(m, key("/$batch"), map[string]handlerFunc{"POST": nil})
	case n == 1 && s[0] == "groups":
		return pick(m, key("/groups"), map[string]handlerFunc{"GET": listGroups, "POST": createGroup})
	case n == 2 && s[0] == "groups" && (s[1] == "delta" || s[1] == "delta()" || s[1] == "microsoft.graph.delta()"):
		return pick(m, key("/groups/delta"), map[string]handlerFunc{"GET": groupsDelta})
	case n == 2 && s[0] == "groups":
		return pick(m, key("/groups/{id}"), map[string]handlerFunc{"GET": getGroup, "PATCH": patchGroup, "DELETE": deleteGroup})
	case n == 3 && s[0] == "groups" && s[2] == "members":
		return pick(m, key("/groups/{id}/members"), map[string]handlerFunc{"GET": listMembers})
	case n == 3 && s[0] == "groups" && s[2] == "transitivemembers":
		return pick(m, key("/groups/{id}/transitiveMembers"), map[string]handlerFunc{"GET": listTransitiveMembers})
	case n == 4 && s[0] == "groups" && s[2] == "members" && s[3] == "$ref":
		return pick(m, key("/groups/{id}/members/$ref"), map[string]handlerFunc{"POST": addMemberRef})
	case n == 5 && s[0] == "groups" && s[2] == "members" && s[4] == "$ref":
		return pick(m, key("/groups/{id}/members/{id}/$ref"), map[string]handlerFunc{"DELETE": removeMemberRef})
	case n == 1 && s[0] == "users":
		return pick(m, key("/users"), map[string]handlerFunc{"GET": listUsers, "POST": createUser})
	case n == 2 && s[0] == "users" && (s[1] == "delta" || s[1] == "delta()" || s[1] == "microsoft.graph.delta()"):
		return pick(m, key("/users/delta"), map[string]handlerFunc{"GET": usersDelta})
	case n == 2 && s[0] == "users":
		return pick(m, key("/users/{id}"), map[string]handlerFunc{"GET": getUser, "PATCH": patchUser, "DELETE": deleteUser})
	case n == 1 && s[0] == "invitations":
		return pick(m, key("/invitations"), map[string]handlerFunc{"POST": createInvitation})
	case n == 1 && s[0] == "organization":
		return pick(m, key("/organization"), map[string]handlerFunc{"GET": getOrganization})
	case n == 3 && s[0] == "directory" && s[1] == "deleteditems" && (s[2] == "microsoft.graph.group" || s[2] == "microsoft.graph.user"):
		return pick(m, key("/directory/deletedItems/"+c.segs[2]), map[string]handlerFunc{"GET": listDeletedItems})
	case n == 3 && s[0] == "directory" && s[1] == "deleteditems":
		return pick(m, key("/directory/deletedItems/{id}"), map[string]handlerFunc{"GET": getDeletedItem, "DELETE": purgeDeletedItem})
	case n == 4 && s[0] == "directory" && s[1] == "deleteditems" && (s[3] == "restore" || s[3] == "microsoft.graph.restore"):
		return pick(m, key("/directory/deletedItems/{id}/restore"), map[string]handlerFunc{"POST": restoreDeletedItem})
	case n == 1 && s[0] == "subscriptions":
		return pick(m, key("/subscriptions"), map[string]handlerFunc{"GET": listSubscriptions, "POST": createSubscription})
	case n == 2 && s[0] == "subscriptions":
		return pick(m, key("/subscriptions/{id}"), map[string]handlerFunc{"GET": getSubscription, "PATCH": patchSubscription, "DELETE": deleteSubscription})
	}
	return key("/" + strings.Join(c.segs, "/")), nil
}

// pick selects the handler for the method; an implemented path with another
// method answers 405.
func pick(method, key string, hs map[string]handlerFunc) (string, handlerFunc) {
	h, ok := hs[method]
	if !ok {
		return key, func(*call) *response { return errResponse(errMethod()) }
	}
	if h == nil { // served outside the lock (e.g. $batch)
		return key, func(*call) *response { return nil }
	}
	return key, h
}
