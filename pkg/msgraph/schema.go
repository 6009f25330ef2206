package msgraph

import (
	"slices"

	"github.com/microsoftgraph/msgraph-sdk-go/models"

	"github.com/xtsync/xtsync/pkg/engine"
)

// UserSchema is what both sides read of users beyond identity: the mapped
// attributes (engine.Options.UserAttributes) and, on the target, the link
// attribute.
type UserSchema struct {
	// Attributes are user properties named as in engine.UserAttributes.
	Attributes []string
	// LinkAttribute is the onPremisesExtensionAttributes property holding
	// the link marker (engine.DefaultLinkAttribute when empty).
	LinkAttribute string
}

func (s UserSchema) link() string {
	if s.LinkAttribute == "" {
		return engine.DefaultLinkAttribute
	}
	return s.LinkAttribute
}

// memberSelect is the $select of member lists: identity, sign-in state and
// the mapped attributes, and on the target the link.
func (s UserSchema) memberSelect(target bool) []string {
	sel := []string{"id", "displayName", "mail", "userPrincipalName", "userType", "accountEnabled"}
	for _, a := range s.Attributes {
		if !slices.Contains(sel, a) {
			sel = append(sel, a)
		}
	}
	if target {
		sel = append(sel, "onPremisesExtensionAttributes")
	}
	return sel
}

// attrGetters are the readers of the mappable attributes.
func attrGetters(u models.Userable) map[string]func() *string {
	return map[string]func() *string{
		"displayName": u.GetDisplayName, "givenName": u.GetGivenName, "surname": u.GetSurname,
		"jobTitle": u.GetJobTitle, "department": u.GetDepartment, "companyName": u.GetCompanyName,
		"officeLocation": u.GetOfficeLocation,
	}
}

// setAttrs writes mappable attributes into u ("" clears one: Graph takes
// null).
func setAttrs(u models.Userable, attrs map[string]string) {
	set := map[string]func(*string){
		"displayName": u.SetDisplayName, "givenName": u.SetGivenName, "surname": u.SetSurname,
		"jobTitle": u.SetJobTitle, "department": u.SetDepartment, "companyName": u.SetCompanyName,
		"officeLocation": u.SetOfficeLocation,
	}
	for name, v := range attrs {
		if f := set[name]; f != nil {
			if v == "" {
				f(nil)
			} else {
				f(&v)
			}
		}
	}
}

// member converts a directory object of a member list read with the
// schema's select.
func (s UserSchema) member(o models.DirectoryObjectable, target bool) engine.Member {
	m := toMember(o)
	u, ok := o.(models.Userable)
	if !ok {
		return m
	}
	if v := u.GetAccountEnabled(); v != nil && !*v {
		m.Disabled = true
	}
	get := attrGetters(u)
	m.Attrs = map[string]string{}
	for _, a := range s.Attributes {
		if f := get[a]; f != nil {
			m.Attrs[a] = str(f())
		}
	}
	if target {
		m.Link = attrValue(u.GetOnPremisesExtensionAttributes(), s.link())
	}
	return m
}

// SchemaOf is the user schema of the engine's options.
func SchemaOf(opts engine.Options) UserSchema {
	return UserSchema{Attributes: opts.UserAttributes, LinkAttribute: opts.LinkAttribute}
}
