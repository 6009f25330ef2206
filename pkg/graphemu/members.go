package graphemu

import (
	"strings"
)

func listMembers(c *call) *response {
	g, gerr := c.lookupGroup(c.seg(1))
	if gerr != nil {
		return errResponse(gerr)
	}
	return c.renderMembers(g.Members, "/groups/"+g.ID+"/members")
}

func listTransitiveMembers(c *call) *response {
	g, gerr := c.lookupGroup(c.seg(1))
	if gerr != nil {
		return errResponse(gerr)
	}
	return c.renderMembers(c.t.transitive(g), "/groups/"+g.ID+"/transitiveMembers")
}

func (c *call) renderMembers(ids []string, path string) *response {
	if gerr := c.searchQuery(); gerr != nil {
		return errResponse(gerr)
	}
	sel := c.selectList()
	items := make([]map[string]any, 0, len(ids))
	for _, id := range ids {
		items = append(items, c.t.renderObject(id, sel))
	}
	return c.pageCounted(items, "directoryObjects", path)
}

func addMemberRef(c *call) *response {
	g, gerr := c.lookupGroup(c.seg(1))
	if gerr != nil {
		return errResponse(gerr)
	}
	var body map[string]any
	if gerr := c.decode(&body); gerr != nil {
		return errResponse(gerr)
	}
	ref, isStr := body["@odata.id"].(string)
	if !isStr || len(body) != 1 {
		return errResponse(errf(400, "Request_BadRequest", "The request body must contain exactly one '@odata.id' reference."))
	}
	id, gerr := c.refID(ref)
	if gerr != nil {
		return errResponse(gerr)
	}
	if gerr := memberWritable(g); gerr != nil {
		return errResponse(gerr)
	}
	if id == g.ID {
		return errResponse(errf(400, "Request_BadRequest", "A group cannot be a member of itself."))
	}
	if g.hasMember(id) {
		return errResponse(errf(400, "Request_BadRequest", "One or more added object references already exist for the following modified properties: 'members'."))
	}
	g.Members = append(g.Members, id)
	c.e.record(c.t, g.ID, chMemberAdd, id)
	return noContent()
}

func removeMemberRef(c *call) *response {
	g, gerr := c.lookupGroup(c.seg(1))
	if gerr != nil {
		return errResponse(gerr)
	}
	id := c.seg(3)
	if !IsGUID(id) {
		return errResponse(errBadID(id))
	}
	if gerr := memberWritable(g); gerr != nil {
		return errResponse(gerr)
	}
	if !g.removeMember(strings.ToLower(id)) && !g.removeMember(id) {
		return errResponse(errNotFound(id))
	}
	c.e.record(c.t, g.ID, chMemberRemove, id)
	return noContent()
}
