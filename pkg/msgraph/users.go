package msgraph

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"

	abstractions "github.com/microsoft/kiota-abstractions-go"
	"github.com/microsoftgraph/msgraph-sdk-go/models"
	"github.com/microsoftgraph/msgraph-sdk-go/users"

	"github.com/xtsync/xtsync/pkg/engine"
)

// userSelect is what the target side reads of a user: enough to tell who
// created it (createdDateTime, creationType, the link attribute) and to
// match it by address.
func (t *Target) userSelect() []string {
	sel := []string{"id", "displayName", "mail", "otherMails", "userPrincipalName", "userType", "accountEnabled", "creationType", "createdDateTime", "onPremisesExtensionAttributes"}
	for _, a := range t.schema.Attributes {
		if !slices.Contains(sel, a) {
			sel = append(sel, a)
		}
	}
	return sel
}

// IsLinkAttribute reports whether name is one of the properties of
// onPremisesExtensionAttributes, extensionAttribute1..15
// (resources/onpremisesextensionattributes).
func IsLinkAttribute(name string) bool {
	n, err := strconv.Atoi(strings.TrimPrefix(name, "extensionAttribute"))
	return strings.HasPrefix(name, "extensionAttribute") && err == nil && n >= 1 && n <= 15 && name == fmt.Sprintf("extensionAttribute%d", n)
}

// attrValue reads one extension attribute.
func attrValue(a models.OnPremisesExtensionAttributesable, name string) string {
	if a == nil {
		return ""
	}
	get := map[string]func() *string{
		"extensionAttribute1": a.GetExtensionAttribute1, "extensionAttribute2": a.GetExtensionAttribute2,
		"extensionAttribute3": a.GetExtensionAttribute3, "extensionAttribute4": a.GetExtensionAttribute4,
		"extensionAttribute5": a.GetExtensionAttribute5, "extensionAttribute6": a.GetExtensionAttribute6,
		"extensionAttribute7": a.GetExtensionAttribute7, "extensionAttribute8": a.GetExtensionAttribute8,
		"extensionAttribute9": a.GetExtensionAttribute9, "extensionAttribute10": a.GetExtensionAttribute10,
		"extensionAttribute11": a.GetExtensionAttribute11, "extensionAttribute12": a.GetExtensionAttribute12,
		"extensionAttribute13": a.GetExtensionAttribute13, "extensionAttribute14": a.GetExtensionAttribute14,
		"extensionAttribute15": a.GetExtensionAttribute15,
	}[name]
	if get == nil {
		return ""
	}
	return str(get())
}

// attrSet builds an onPremisesExtensionAttributes that sets one attribute.
func attrSet(name, v string) models.OnPremisesExtensionAttributesable {
	a := models.NewOnPremisesExtensionAttributes()
	set := map[string]func(*string){
		"extensionAttribute1": a.SetExtensionAttribute1, "extensionAttribute2": a.SetExtensionAttribute2,
		"extensionAttribute3": a.SetExtensionAttribute3, "extensionAttribute4": a.SetExtensionAttribute4,
		"extensionAttribute5": a.SetExtensionAttribute5, "extensionAttribute6": a.SetExtensionAttribute6,
		"extensionAttribute7": a.SetExtensionAttribute7, "extensionAttribute8": a.SetExtensionAttribute8,
		"extensionAttribute9": a.SetExtensionAttribute9, "extensionAttribute10": a.SetExtensionAttribute10,
		"extensionAttribute11": a.SetExtensionAttribute11, "extensionAttribute12": a.SetExtensionAttribute12,
		"extensionAttribute13": a.SetExtensionAttribute13, "extensionAttribute14": a.SetExtensionAttribute14,
		"extensionAttribute15": a.SetExtensionAttribute15,
	}[name]
	set(&v)
	return a
}

// targetUser converts a user read by the target side.
func (t *Target) targetUser(u models.Userable) engine.User {
	out := toUser(u)
	out.OtherMails = u.GetOtherMails()
	if c := u.GetCreatedDateTime(); c != nil {
		out.Created = *c
	}
	out.Link = attrValue(u.GetOnPremisesExtensionAttributes(), t.link)
	get := attrGetters(u)
	out.Attrs = map[string]string{}
	for _, a := range t.schema.Attributes {
		if f := get[a]; f != nil {
			out.Attrs[a] = str(f())
		}
	}
	return out
}

// listUsers reads every user matching filter (all of them when filter is
// empty), following nextLinks. An
// advanced query sends ConsistencyLevel: eventual and $count=true, which
// Graph requires for filters on onPremisesExtensionAttributes
// (aad-advanced-queries).
func (c *Client) listUsers(ctx context.Context, filter string, sel []string, advanced bool) ([]models.Userable, error) {
	top := int32(pageSize)
	cfg := &users.UsersRequestBuilderGetRequestConfiguration{
		QueryParameters: &users.UsersRequestBuilderGetQueryParameters{Filter: nonEmpty(filter), Select: sel, Top: &top},
	}
	var next *users.UsersRequestBuilderGetRequestConfiguration
	if advanced {
		h := abstractions.NewRequestHeaders()
		h.Add("ConsistencyLevel", "eventual")
		count := true
		cfg.Headers, cfg.QueryParameters.Count = h, &count
		next = &users.UsersRequestBuilderGetRequestConfiguration{Headers: h}
	}
	var out []models.Userable
	resp, err := c.sdk.Users().Get(ctx, cfg)
	for {
		if err != nil {
			return nil, wrap(err, "read users where %s", truncate(filter, 80))
		}
		out = append(out, resp.GetValue()...)
		link := resp.GetOdataNextLink()
		if link == nil {
			return out, nil
		}
		resp, err = c.sdk.Users().WithUrl(*link).Get(ctx, next)
	}
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

// Users reads users by id, 15 per request.
func (t *Target) Users(ctx context.Context, ids []string) (map[string]engine.User, error) {
	out := map[string]engine.User{}
	for _, part := range chunks(ids, maxInFilter) {
		for _, id := range part {
			if !engine.IsGUID(id) {
				return nil, fmt.Errorf("user id %q is not a GUID", id)
			}
		}
		us, err := t.c.listUsers(ctx, inFilter("id", part), t.userSelect(), false)
		if err != nil {
			return nil, err
		}
		for _, u := range us {
			eu := t.targetUser(u)
			out[eu.ID] = eu
		}
	}
	return out, nil
}

// extUPNPrefix is the start of the userPrincipalName Entra gives a user
// invited with addr: the address with "@" as "_", then "#EXT#".
func extUPNPrefix(addr string) string {
	return strings.ReplaceAll(addr, "@", "_") + "#EXT#"
}

// addressClauses are the filter clauses that find an address: mail,
// otherMails, and the #EXT# userPrincipalName an invitation gives (which
// stays when mail and otherMails are edited).
func addressClauses(addr string) []string {
	q := strings.ReplaceAll(addr, "'", "''")
	return []string{
		"mail eq '" + q + "'",
		"otherMails/any(x:x eq '" + q + "')",
		"startswith(userPrincipalName,'" + strings.ReplaceAll(extUPNPrefix(addr), "'", "''") + "')",
	}
}

// UsersByAddress finds users by address, five addresses (fifteen clauses,
// Graph's limit for or) per request.
func (t *Target) UsersByAddress(ctx context.Context, addrs []string) (map[string][]engine.User, error) {
	out := map[string][]engine.User{}
	perRequest := maxInFilter / len(addressClauses(""))
	for _, part := range chunks(addrs, perRequest) {
		lower := make([]string, len(part))
		var clauses []string
		for i, a := range part {
			lower[i] = strings.ToLower(a)
			clauses = append(clauses, addressClauses(lower[i])...)
		}
		us, err := t.c.listUsers(ctx, strings.Join(clauses, " or "), t.userSelect(), false)
		if err != nil {
			return nil, err
		}
		for _, u := range us {
			eu := t.targetUser(u)
			upn := strings.ToLower(eu.UserPrincipalName)
			for _, a := range lower {
				if strings.EqualFold(eu.Mail, a) ||
					slices.ContainsFunc(eu.OtherMails, func(o string) bool { return strings.EqualFold(o, a) }) ||
					strings.HasPrefix(upn, strings.ToLower(extUPNPrefix(a))+"@") {
					out[a] = append(out[a], eu)
				}
			}
		}
	}
	return out, nil
}

// UsersByLink finds the users whose link attribute holds one of links, 15
// per request (an advanced query: Graph filters
// onPremisesExtensionAttributes only with ConsistencyLevel: eventual).
func (t *Target) UsersByLink(ctx context.Context, links []string) (map[string]engine.User, error) {
	out := map[string]engine.User{}
	for _, part := range chunks(links, maxInFilter) {
		us, err := t.c.listUsers(ctx, inFilter("onPremisesExtensionAttributes/"+t.link, part), t.userSelect(), true)
		if err != nil {
			return nil, err
		}
		for _, u := range us {
			eu := t.targetUser(u)
			if slices.Contains(part, eu.Link) {
				out[eu.Link] = eu
			}
		}
	}
	return out, nil
}

// UpdateUser writes the link attribute and mapped attributes of a user in
// one PATCH (a cloud-only user: Graph refuses extension attributes of users
// synced from on-premises). A user created moments ago may answer 404 until
// it has replicated.
func (t *Target) UpdateUser(ctx context.Context, id string, upd engine.UserUpdate) error {
	if !engine.IsGUID(id) {
		return fmt.Errorf("user id %q is not a GUID", id)
	}
	if upd.Link == "" && len(upd.Attributes) == 0 {
		return nil
	}
	u := models.NewUser()
	if upd.Link != "" {
		u.SetOnPremisesExtensionAttributes(attrSet(t.link, upd.Link))
	}
	setAttrs(u, upd.Attributes)
	return wrap(t.replicated(ctx, func() error {
		_, err := t.c.sdk.Users().ByUserId(id).Patch(ctx, u, nil)
		return err
	}), "update user %s", id)
}
