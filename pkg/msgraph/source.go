package msgraph

import (
	"context"
	"fmt"
	"strings"

	"github.com/microsoftgraph/msgraph-sdk-go/groups"
	"github.com/microsoftgraph/msgraph-sdk-go/models"

	"github.com/xtsync/xtsync/pkg/engine"
)

var _ engine.Source = (*Source)(nil)

// Source reads the source tenant for the engine.
type Source struct {
	c      *Client
	schema UserSchema
}

// NewSource wraps a signed-in client of the source tenant; users are read
// with the schema's attributes.
func NewSource(c *Client, schema UserSchema) *Source { return &Source{c: c, schema: schema} }

// Groups reads groups by id (15 per request).
func (s *Source) Groups(ctx context.Context, ids []string) (map[string]engine.Group, error) {
	return s.c.groups(ctx, ids)
}

// Members lists direct or transitive members, 999 per page.
func (s *Source) Members(ctx context.Context, groupID string, transitive bool) ([]engine.Member, error) {
	return s.c.members(ctx, groupID, transitive, s.schema, false)
}

// Users reads users by id (15 per request).
func (s *Source) Users(ctx context.Context, ids []string) (map[string]engine.Member, error) {
	for _, id := range ids {
		if !engine.IsGUID(id) {
			return nil, fmt.Errorf("user id %q is not a GUID", id)
		}
	}
	out := map[string]engine.Member{}
	for _, part := range chunks(ids, maxInFilter) {
		us, err := s.c.listUsers(ctx, inFilter("id", part), s.schema.memberSelect(false), false)
		if err != nil {
			return nil, err
		}
		for _, u := range us {
			m := s.schema.member(u, false)
			out[m.ID] = m
		}
	}
	return out, nil
}

// deltaSelect is what a delta round tracks: the properties that decide how a
// group is mirrored, and its members.
var deltaSelect = []string{"displayName", "description", "mailEnabled", "securityEnabled", "groupTypes", "members"}

func deltaFilter(ids []string) (string, error) {
	if len(ids) == 0 || len(ids) > 50 {
		return "", fmt.Errorf("group delta takes 1 to 50 ids, got %d", len(ids))
	}
	parts := make([]string, len(ids))
	for i, id := range ids {
		if !engine.IsGUID(id) {
			return "", fmt.Errorf("group id %q is not a GUID", id)
		}
		parts[i] = "id eq '" + id + "'"
	}
	return strings.Join(parts, " or "), nil
}

// LatestDeltaLink starts a delta round at the current state
// ($deltatoken=latest): one request, no data read.
func (s *Source) LatestDeltaLink(ctx context.Context, ids []string) (string, error) {
	filter, err := deltaFilter(ids)
	if err != nil {
		return "", err
	}
	info, err := s.c.sdk.Groups().Delta().ToGetRequestInformation(ctx, &groups.DeltaRequestBuilderGetRequestConfiguration{
		QueryParameters: &groups.DeltaRequestBuilderGetQueryParameters{Select: deltaSelect, Filter: &filter},
	})
	if err != nil {
		return "", err
	}
	u, err := info.GetUri()
	if err != nil {
		return "", err
	}
	q := u.Query()
	q.Set("$deltatoken", "latest")
	u.RawQuery = q.Encode()
	resp, err := s.c.sdk.Groups().Delta().WithUrl(u.String()).GetAsDeltaGetResponse(ctx, nil)
	if err != nil {
		return "", wrap(err, "start group delta")
	}
	_, link, err := s.drain(ctx, resp)
	return link, err
}

// GroupDelta runs one delta round from link (a new round when empty).
func (s *Source) GroupDelta(ctx context.Context, ids []string, link string) (engine.DeltaResult, error) {
	var resp groups.DeltaGetResponseable
	var err error
	if link == "" {
		filter, ferr := deltaFilter(ids)
		if ferr != nil {
			return engine.DeltaResult{}, ferr
		}
		resp, err = s.c.sdk.Groups().Delta().GetAsDeltaGetResponse(ctx, &groups.DeltaRequestBuilderGetRequestConfiguration{
			QueryParameters: &groups.DeltaRequestBuilderGetQueryParameters{Select: deltaSelect, Filter: &filter},
		})
	} else {
		resp, err = s.c.sdk.Groups().Delta().WithUrl(link).GetAsDeltaGetResponse(ctx, nil)
	}
	if err != nil {
		if statusOf(err) == 410 {
			return engine.DeltaResult{}, fmt.Errorf("group delta: %w", engine.ErrDeltaExpired)
		}
		return engine.DeltaResult{}, wrap(err, "group delta")
	}
	changes, next, err := s.drain(ctx, resp)
	return engine.DeltaResult{Changes: changes, Link: next}, err
}

// drain follows nextLinks to the deltaLink, merging the objects of one group
// (Graph may split a large membership over several).
func (s *Source) drain(ctx context.Context, resp groups.DeltaGetResponseable) ([]engine.GroupChange, string, error) {
	var order []string
	byID := map[string]*engine.GroupChange{}
	for {
		for _, g := range resp.GetValue() {
			id := strings.ToLower(str(g.GetId()))
			ch := byID[id]
			if ch == nil {
				ch = &engine.GroupChange{ID: id}
				byID[id] = ch
				order = append(order, id)
			}
			mergeDelta(ch, g)
		}
		if d := resp.GetOdataDeltaLink(); d != nil {
			out := make([]engine.GroupChange, len(order))
			for i, id := range order {
				out[i] = *byID[id]
			}
			return out, *d, nil
		}
		next := resp.GetOdataNextLink()
		if next == nil {
			return nil, "", fmt.Errorf("group delta page has neither nextLink nor deltaLink")
		}
		var err error
		if resp, err = s.c.sdk.Groups().Delta().WithUrl(*next).GetAsDeltaGetResponse(ctx, nil); err != nil {
			if statusOf(err) == 410 {
				return nil, "", fmt.Errorf("group delta: %w", engine.ErrDeltaExpired)
			}
			return nil, "", wrap(err, "group delta page")
		}
	}
}

// mergeDelta folds one delta object into a group change.
func mergeDelta(ch *engine.GroupChange, g models.Groupable) {
	extra := g.GetAdditionalData()
	if _, removed := extra["@removed"]; removed {
		ch.Removed = true
		return
	}
	if g.GetDisplayName() != nil {
		eg := toGroup(g)
		ch.Group = &eg
	}
	list, _ := extra["members@delta"].([]any)
	for _, item := range list {
		m, ok := item.(map[string]any)
		if !ok {
			continue
		}
		id, _ := m["id"].(*string)
		typ, _ := m["@odata.type"].(*string)
		mem := engine.Member{ID: strings.ToLower(str(id)), Type: engine.TypeOther}
		switch str(typ) {
		case "#microsoft.graph.user":
			mem.Type = engine.TypeUser
		case "#microsoft.graph.group":
			mem.Type = engine.TypeGroup
		}
		_, removed := m["@removed"]
		ch.Members = append(ch.Members, engine.MemberChange{Member: mem, Removed: removed})
	}
}
