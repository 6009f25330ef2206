package graphemu

import (
	"encoding/json"
	"slices"
	"strings"
)

// lookupUser finds a live user by id or userPrincipalName, honouring
// replication delay.
func (c *call) lookupUser(ref string) (*User, *graphErr) {
	var u *User
	if IsGUID(ref) {
		u = c.t.users[ref]
	} else if strings.Contains(ref, "@") {
		for _, cand := range c.t.users {
			if strings.EqualFold(cand.UserPrincipalName, ref) {
				u = cand
				break
			}
		}
	} else {
		return nil, errBadID(ref)
	}
	if u == nil || !c.visible(u.Created) {
		return nil, errNotFound(ref)
	}
	return u, nil
}

// userFilterRule is what $filter takes on a user property (lower-cased), the
// properties a sync matches on; Graph takes more, the emulator refuses what
// it does not evaluate rather than answer it wrongly. From resources/user:
// id, userType, creationType: eq/in; mail, userPrincipalName, displayName:
// eq/in/startsWith; otherMails/any(x:x eq ...); and
// onPremisesExtensionAttributes/extensionAttribute1-15: eq/in as an advanced
// query only, no startsWith (resources/user: "Supports $filter (eq, NOT, ge,
// le, in, and eq on null values)"; aad-advanced-queries lists startsWith on
// them as not supported).
func userFilterRule(prop string) (filterRule, bool) {
	switch prop {
	case "id", "usertype", "creationtype", "othermails/any":
		return filterRule{eq: true}, true
	case "mail", "userprincipalname", "displayname":
		return filterRule{eq: true, startsWith: true}, true
	}
	if extAttrFilterIndex(prop) > 0 {
		return filterRule{eq: true, advanced: true}, true
	}
	return filterRule{}, false
}

func listUsers(c *call) *response {
	if gerr := c.searchQuery(); gerr != nil {
		return errResponse(gerr)
	}
	sel := c.selectList()
	users := c.t.liveUsers()
	if f := c.q.Get("$filter"); f != "" {
		clauses, gerr := parseFilter(f, 15)
		if gerr != nil {
			return errResponse(gerr)
		}
		if gerr := c.checkFilter(clauses, userFilterRule, "User"); gerr != nil {
			return errResponse(gerr)
		}
		users = slices.DeleteFunc(users, func(u *User) bool { return !userMatches(u, clauses) })
	}
	items := make([]map[string]any, 0, len(users))
	for _, u := range users {
		items = append(items, renderUser(u, sel))
	}
	return c.pageCounted(items, contextFor("users", sel), "/users")
}

// userMatches reports whether u satisfies any of the clauses (they are
// joined by or).
func userMatches(u *User, clauses []filterClause) bool {
	for _, cl := range clauses {
		prop := lower(cl.prop)
		if prop == "othermails/any" {
			if slices.ContainsFunc(u.OtherMails, cl.matches) {
				return true
			}
			continue
		}
		var v string
		switch prop {
		case "id":
			v = u.ID
		case "mail":
			v = u.Mail
		case "userprincipalname":
			v = u.UserPrincipalName
		case "displayname":
			v = u.DisplayName
		case "usertype":
			v = u.UserType
		case "creationtype":
			v = u.CreationType
		default:
			if n := extAttrFilterIndex(prop); n > 0 {
				v = u.ExtensionAttributes[extAttrName(n)]
			}
		}
		if v != "" && cl.matches(v) {
			return true
		}
	}
	return false
}

func getUser(c *call) *response {
	u, gerr := c.lookupUser(c.seg(1))
	if gerr != nil {
		return errResponse(gerr)
	}
	sel := c.selectList()
	body := renderUser(u, sel)
	body["@odata.context"] = c.link("/$metadata#" + contextFor("users", sel) + "/$entity")
	return ok(body)
}

// userPatch is the writable subset of a user. ExtAttrs is
// onPremisesExtensionAttributes (only the keys given change).
type userPatch struct {
	AccountEnabled *bool        `json:"accountEnabled"`
	DisplayName    *string      `json:"displayName"`
	GivenName      *string      `json:"givenName"`
	Surname        *string      `json:"surname"`
	JobTitle       *string      `json:"jobTitle"`
	Department     *string      `json:"department"`
	Mail           *string      `json:"mail"`
	OtherMails     *[]string    `json:"otherMails"`
	UserType       *string      `json:"userType"`
	ExtAttrs       extAttrPatch `json:"-"`
}

// userWritable are the properties POST and PATCH /users take.
var userWritable = map[string]bool{"accountEnabled": true, "displayName": true, "givenName": true, "surname": true, "jobTitle": true, "department": true, "mail": true, "otherMails": true, "userType": true, "userPrincipalName": true, "mailNickname": true, "passwordProfile": true, extAttrProp: true, "@odata.type": true}

// decodeUser reads a user body into v (a *userPatch or *userCreate) and its
// onPremisesExtensionAttributes into ext.
func (c *call) decodeUser(v any, ext *extAttrPatch) *graphErr {
	var raw map[string]json.RawMessage
	if gerr := c.decode(&raw); gerr != nil {
		return gerr
	}
	for k := range raw {
		if k == "onPremisesSyncEnabled" {
			// Observed wording for this read-only property:
			// https://github.com/microsoftgraph/microsoft-graph-docs/issues/21601
			return errf(400, "Request_BadRequest", "Property 'onPremisesSyncEnabled' is read-only and cannot be set.")
		}
		if !userWritable[k] {
			return errf(400, "Request_BadRequest", "Property '%s' does not exist as a declared property or extension property.", k)
		}
	}
	if rawExt, has := raw[extAttrProp]; has {
		parsed, gerr := parseExtAttrPatch(rawExt)
		if gerr != nil {
			return gerr
		}
		*ext = parsed
		delete(raw, extAttrProp)
	}
	b, _ := json.Marshal(raw)
	if err := json.Unmarshal(b, v); err != nil {
		return errf(400, "Request_BadRequest", "Invalid value specified for a property of resource 'User'.")
	}
	return nil
}

func patchUser(c *call) *response {
	u, gerr := c.lookupUser(c.seg(1))
	if gerr != nil {
		return errResponse(gerr)
	}
	var p userPatch
	if gerr := c.decodeUser(&p, &p.ExtAttrs); gerr != nil {
		return errResponse(gerr)
	}
	if p.UserType != nil && *p.UserType != "Member" && *p.UserType != "Guest" {
		return errResponse(errf(400, "Request_BadRequest", "Invalid value specified for property 'userType' of resource 'User'."))
	}
	// A synced user's extension attributes are mastered on-premises and
	// read-only (resources/onpremisesextensionattributes); the whole PATCH
	// is refused, nothing applied.
	if p.ExtAttrs != nil && u.OnPremisesSyncEnabled {
		return errResponse(errSyncedUser())
	}
	applyUserPatch(u, p)
	return noContent()
}

func applyUserPatch(u *User, p userPatch) {
	set := func(dst *string, v *string) {
		if v != nil {
			*dst = *v
		}
	}
	if p.AccountEnabled != nil {
		u.AccountEnabled = *p.AccountEnabled
	}
	set(&u.DisplayName, p.DisplayName)
	set(&u.GivenName, p.GivenName)
	set(&u.Surname, p.Surname)
	set(&u.JobTitle, p.JobTitle)
	set(&u.Department, p.Department)
	set(&u.Mail, p.Mail)
	set(&u.UserType, p.UserType)
	if p.OtherMails != nil {
		u.OtherMails = slices.Clone(*p.OtherMails)
	}
	p.ExtAttrs.apply(u)
}

type userCreate struct {
	userPatch
	UserPrincipalName string `json:"userPrincipalName"`
	MailNickname      string `json:"mailNickname"`
	PasswordProfile   *struct {
		Password string `json:"password"`
	} `json:"passwordProfile"`
}

func createUser(c *call) *response {
	var b userCreate
	if gerr := c.decodeUser(&b, &b.ExtAttrs); gerr != nil {
		return errResponse(gerr)
	}
	switch {
	case b.AccountEnabled == nil:
		return errResponse(errf(400, "Request_BadRequest", "Invalid value specified for property 'accountEnabled' of resource 'User'."))
	case b.DisplayName == nil || *b.DisplayName == "":
		return errResponse(errf(400, "Request_BadRequest", "Invalid value specified for property 'displayName' of resource 'User'."))
	case !validNickname(b.MailNickname):
		return errResponse(errf(400, "Request_BadRequest", "Invalid value specified for property 'mailNickname' of resource 'User'."))
	case b.PasswordProfile == nil || b.PasswordProfile.Password == "":
		return errResponse(errf(400, "Request_BadRequest", "Invalid value specified for property 'passwordProfile' of resource 'User'."))
	}
	at := strings.LastIndex(b.UserPrincipalName, "@")
	if at <= 0 || !strings.EqualFold(b.UserPrincipalName[at+1:], c.t.Domain) {
		return errResponse(errf(400, "Request_BadRequest", "The domain portion of the userPrincipalName property is invalid. You must use one of the verified domain names in your organization."))
	}
	for _, o := range c.t.users {
		if strings.EqualFold(o.UserPrincipalName, b.UserPrincipalName) {
			return errResponse(errf(400, "Request_BadRequest", "Another object with the same value for property userPrincipalName already exists."))
		}
	}
	u := &User{ID: c.e.newID(), UserPrincipalName: b.UserPrincipalName, UserType: "Member", Created: c.now()}
	applyUserPatch(u, b.userPatch)
	c.t.addUser(u)
	body := renderUser(u, nil)
	body["@odata.context"] = c.link("/$metadata#users/$entity")
	return created(body)
}

func deleteUser(c *call) *response {
	u, gerr := c.lookupUser(c.seg(1))
	if gerr != nil {
		return errResponse(gerr)
	}
	c.e.softDeleteUser(c.t, u)
	return noContent()
}

func getOrganization(c *call) *response {
	return ok(map[string]any{
		"@odata.context": c.link("/$metadata#organization"),
		"value": []map[string]any{{
			"id": c.t.ID, "displayName": c.t.DisplayName,
			"verifiedDomains": []map[string]any{{"name": c.t.Domain, "isDefault": true, "isInitial": true, "type": "Managed"}},
		}},
	})
}
