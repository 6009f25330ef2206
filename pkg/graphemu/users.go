package graphemu

import (
	"bytes"
	"encoding/json"
	"maps"
	"reflect"
	"slices"
	"strings"
	"unicode/utf8"
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
	CompanyName    *string      `json:"companyName"`
	OfficeLocation *string      `json:"officeLocation"`
	Mail           *string      `json:"mail"`
	OtherMails     *[]string    `json:"otherMails"`
	UserType       *string      `json:"userType"`
	ExtAttrs       extAttrPatch `json:"-"`
}

// userWritable are the properties POST and PATCH /users take.
var userWritable = map[string]bool{"accountEnabled": true, "displayName": true, "givenName": true, "surname": true, "jobTitle": true, "department": true, "companyName": true, "officeLocation": true, "mail": true, "otherMails": true, "userType": true, "userPrincipalName": true, "mailNickname": true, "passwordProfile": true, extAttrProp: true, "@odata.type": true}

// userMaxLen are the documented maximum lengths of the writable string
// properties (https://learn.microsoft.com/en-us/graph/api/resources/user).
var userMaxLen = map[string]int{"displayName": 256, "givenName": 64, "surname": 64, "jobTitle": 128, "department": 64, "companyName": 64, "officeLocation": 128}

// clearable returns the field of p a JSON null clears (set to ""), or nil
// for a property null does not clear.
func (p *userPatch) clearable(k string) **string {
	switch k {
	case "givenName":
		return &p.GivenName
	case "surname":
		return &p.Surname
	case "jobTitle":
		return &p.JobTitle
	case "department":
		return &p.Department
	case "companyName":
		return &p.CompanyName
	case "officeLocation":
		return &p.OfficeLocation
	case "mail":
		return &p.Mail
	}
	return nil
}

func errUserValue(k string) *graphErr {
	return errf(400, "Request_BadRequest", "Invalid value specified for property '%s' of resource 'User'.", k)
}

// decodeUser reads a user body into v (p itself, or the *userCreate that
// embeds p) and its onPremisesExtensionAttributes into p.ExtAttrs, and
// checks every value before anything is applied: a request that changes
// several properties (and extension attributes) is refused whole when one
// value is bad. A null clears a clearable string property; displayName
// "cannot be cleared during updates" (resources/user).
func (c *call) decodeUser(v any, p *userPatch) *graphErr {
	var raw map[string]json.RawMessage
	if gerr := c.decode(&raw); gerr != nil {
		return gerr
	}
	for _, k := range slices.Sorted(maps.Keys(raw)) {
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
		p.ExtAttrs = parsed
		delete(raw, extAttrProp)
	}
	b, _ := json.Marshal(raw)
	if err := json.Unmarshal(b, v); err != nil {
		for _, k := range slices.Sorted(maps.Keys(raw)) { // name the offending property
			one, _ := json.Marshal(map[string]json.RawMessage{k: raw[k]})
			var probe userCreate
			if json.Unmarshal(one, &probe) != nil {
				return errUserValue(k)
			}
		}
		return errf(400, "Request_BadRequest", "Invalid value specified for a property of resource 'User'.")
	}
	for k, rv := range raw {
		if !bytes.Equal(bytes.TrimSpace(rv), []byte("null")) {
			continue
		}
		if f := p.clearable(k); f != nil {
			empty := ""
			*f = &empty
			continue
		}
		switch k {
		case "otherMails":
			p.OtherMails = &[]string{}
		case "@odata.type", "passwordProfile":
		default: // displayName, accountEnabled, userType, ...: not clearable
			return errUserValue(k)
		}
	}
	return p.check()
}

// check refuses values Graph refuses: an empty displayName, strings longer
// than documented, a userType other than Member or Guest. The wording is
// the package's invalid-value message (Graph's for these is not
// documented).
func (p *userPatch) check() *graphErr {
	if p.DisplayName != nil && *p.DisplayName == "" {
		return errUserValue("displayName")
	}
	for _, k := range slices.Sorted(maps.Keys(userMaxLen)) {
		var v *string
		if k == "displayName" {
			v = p.DisplayName
		} else {
			v = *p.clearable(k)
		}
		if v != nil && utf8.RuneCountInString(*v) > userMaxLen[k] {
			return errUserValue(k)
		}
	}
	if p.UserType != nil && *p.UserType != "Member" && *p.UserType != "Guest" {
		return errUserValue("userType")
	}
	return nil
}

// patchUser applies PATCH /users/{id}: any of the writable properties and
// onPremisesExtensionAttributes in one request, all or nothing
// (https://learn.microsoft.com/en-us/graph/api/user-update). The change is
// recorded for user delta and notified to user subscriptions.
func patchUser(c *call) *response {
	u, gerr := c.lookupUser(c.seg(1))
	if gerr != nil {
		return errResponse(gerr)
	}
	var p userPatch
	if gerr := c.decodeUser(&p, &p); gerr != nil {
		return errResponse(gerr)
	}
	// A synced user's extension attributes are mastered on-premises and
	// read-only (resources/onpremisesextensionattributes); the whole PATCH
	// is refused, nothing applied.
	if p.ExtAttrs != nil && u.OnPremisesSyncEnabled {
		return errResponse(errSyncedUser())
	}
	before := u.clone()
	applyUserPatch(u, p)
	c.e.recordUser(c.t, u.ID, uchProps, changedUserProps(before, u))
	return noContent()
}

// changedUserProps lists, in name order, the Graph names of the user
// properties whose rendered value differs between before and after.
func changedUserProps(before, after *User) []string {
	a, b := userProps(before), userProps(after)
	var out []string
	for _, k := range slices.Sorted(maps.Keys(b)) {
		if !reflect.DeepEqual(a[k], b[k]) {
			out = append(out, k)
		}
	}
	return out
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
	set(&u.CompanyName, p.CompanyName)
	set(&u.OfficeLocation, p.OfficeLocation)
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
	if gerr := c.decodeUser(&b, &b.userPatch); gerr != nil {
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
	c.e.recordUser(c.t, u.ID, uchCreated, nil)
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
