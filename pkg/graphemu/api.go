package graphemu

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"
)

// This file is the Go control API: what tests and the control HTTP API use to
// act as a tenant admin and to read the emulator's state. Admin changes are
// recorded like Graph writes (delta, notifications) but skip Graph's
// restrictions (an admin may edit a distribution list in Exchange).

func errTenant(id string) error { return fmt.Errorf("tenant %s: %w", id, ErrNotFound) }

// withTenant runs f on a tenant with the lock held.
func (e *Emulator) withTenant(id string, f func(*Tenant) error) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	t, found := e.tenant(id)
	if !found {
		return errTenant(id)
	}
	return f(t)
}

// AddTenant adds an empty tenant with a GUID id and a domain such as
// contoso.onmicrosoft.com.
func (e *Emulator) AddTenant(id, domain, displayName string) error {
	if !IsGUID(id) {
		return fmt.Errorf("tenant id %q is not a GUID", id)
	}
	if domain == "" || !strings.Contains(domain, ".") {
		return fmt.Errorf("tenant %s: domain %q is not a domain name", id, domain)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	id = lower(id)
	if _, dup := e.tenants[id]; dup {
		return fmt.Errorf("tenant %s already exists", id)
	}
	if _, dup := e.domains[lower(domain)]; dup {
		return fmt.Errorf("domain %s already belongs to a tenant", domain)
	}
	e.tenants[id] = newTenant(id, lower(domain), displayName)
	e.domains[lower(domain)] = id
	return nil
}

// AddApp registers an app (client id and secret) in a tenant.
func (e *Emulator) AddApp(tenantID string, app App) error {
	if !IsGUID(app.ClientID) {
		return fmt.Errorf("app client id %q is not a GUID", app.ClientID)
	}
	if app.Secret == "" {
		return fmt.Errorf("app %s: empty client secret", app.ClientID)
	}
	return e.withTenant(tenantID, func(t *Tenant) error {
		app.ClientID = lower(app.ClientID)
		t.apps[app.ClientID] = &app
		return nil
	})
}

// CreateUser adds a user; an empty ID gets a generated one, a zero Created
// the emulator's clock (a past Created, such as a guest invited a year ago,
// is kept). ExtensionAttributes take extensionAttribute1 to 15, at most 1,024
// characters each; OnPremisesSyncEnabled makes them read-only through Graph.
// It returns the stored copy.
func (e *Emulator) CreateUser(tenantID string, u User) (User, error) {
	err := e.withTenant(tenantID, func(t *Tenant) error {
		if u.ID == "" {
			u.ID = e.newID()
		}
		u.ID = lower(u.ID)
		if !IsGUID(u.ID) {
			return fmt.Errorf("user id %q is not a GUID", u.ID)
		}
		if u.UserPrincipalName == "" || !strings.Contains(u.UserPrincipalName, "@") {
			return fmt.Errorf("user %s: userPrincipalName %q is not name@domain", u.ID, u.UserPrincipalName)
		}
		if _, dup := t.object(u.ID); dup {
			return fmt.Errorf("object %s already exists", u.ID)
		}
		for _, o := range t.users {
			if strings.EqualFold(o.UserPrincipalName, u.UserPrincipalName) {
				return fmt.Errorf("user %s: userPrincipalName %s already exists", u.ID, u.UserPrincipalName)
			}
		}
		if u.UserType == "" {
			u.UserType = "Member"
		}
		if u.UserType != "Member" && u.UserType != "Guest" {
			return fmt.Errorf("user %s: userType %q is not Member or Guest", u.ID, u.UserType)
		}
		if err := checkExtAttrs(u.ExtensionAttributes); err != nil {
			return fmt.Errorf("user %s: %w", u.ID, err)
		}
		u.ExtensionAttributes = maps.Clone(u.ExtensionAttributes) // "" is unset
		maps.DeleteFunc(u.ExtensionAttributes, func(_, v string) bool { return v == "" })
		if len(u.ExtensionAttributes) == 0 {
			u.ExtensionAttributes = nil
		}
		if u.Created.IsZero() {
			u.Created = e.now()
		}
		if u.DisplayName == "" {
			u.DisplayName = u.UserPrincipalName[:strings.Index(u.UserPrincipalName, "@")]
		}
		t.addUser(u.clone())
		e.recordUser(t, u.ID, uchCreated, nil)
		return nil
	})
	return u, err
}

// UserUpdate is an admin's change to a user (control API PATCH
// /_emulator/tenants/{tenant}/users/{id}): the fields given change; "" clears
// a string property (not displayName). In ExtensionAttributes a "" value
// clears one attribute. As an admin (or the on-premises sync) it may change
// the extension attributes of a synced user. Setting ExternalUserState to
// "Accepted" stands for an invitation's redemption. The change shows in user
// delta and is notified to user subscriptions, as a Graph write.
type UserUpdate struct {
	DisplayName           *string           `json:"displayName,omitempty"`
	GivenName             *string           `json:"givenName,omitempty"`
	Surname               *string           `json:"surname,omitempty"`
	JobTitle              *string           `json:"jobTitle,omitempty"`
	Department            *string           `json:"department,omitempty"`
	CompanyName           *string           `json:"companyName,omitempty"`
	OfficeLocation        *string           `json:"officeLocation,omitempty"`
	Mail                  *string           `json:"mail,omitempty"`
	OtherMails            *[]string         `json:"otherMails,omitempty"`
	AccountEnabled        *bool             `json:"accountEnabled,omitempty"`
	ExternalUserState     *string           `json:"externalUserState,omitempty"`
	OnPremisesSyncEnabled *bool             `json:"onPremisesSyncEnabled,omitempty"`
	ExtensionAttributes   map[string]string `json:"onPremisesExtensionAttributes,omitempty"`
}

// UpdateUser changes a live user as an admin would. Values are checked
// first (an empty displayName, lengths above Graph's limits, bad extension
// attributes): a refused update changes nothing.
func (e *Emulator) UpdateUser(tenantID, userID string, up UserUpdate) error {
	if err := checkExtAttrs(up.ExtensionAttributes); err != nil {
		return err
	}
	if gerr := (&userPatch{DisplayName: up.DisplayName, GivenName: up.GivenName, Surname: up.Surname, JobTitle: up.JobTitle,
		Department: up.Department, CompanyName: up.CompanyName, OfficeLocation: up.OfficeLocation}).check(); gerr != nil {
		return fmt.Errorf("user %s: %s", userID, gerr.message)
	}
	return e.withTenant(tenantID, func(t *Tenant) error {
		u, found := t.users[lower(userID)]
		if !found {
			return fmt.Errorf("user %s: %w", userID, ErrNotFound)
		}
		before := u.clone()
		defer func() { e.recordUser(t, u.ID, uchProps, changedUserProps(before, u)) }()
		setStr := func(dst, v *string) {
			if v != nil {
				*dst = *v
			}
		}
		setStr(&u.DisplayName, up.DisplayName)
		setStr(&u.GivenName, up.GivenName)
		setStr(&u.Surname, up.Surname)
		setStr(&u.JobTitle, up.JobTitle)
		setStr(&u.Department, up.Department)
		setStr(&u.CompanyName, up.CompanyName)
		setStr(&u.OfficeLocation, up.OfficeLocation)
		setStr(&u.Mail, up.Mail)
		setStr(&u.ExternalUserState, up.ExternalUserState)
		if up.OtherMails != nil {
			u.OtherMails = slices.Clone(*up.OtherMails)
		}
		if up.AccountEnabled != nil {
			u.AccountEnabled = *up.AccountEnabled
		}
		if up.OnPremisesSyncEnabled != nil {
			u.OnPremisesSyncEnabled = *up.OnPremisesSyncEnabled
		}
		p := extAttrPatch{}
		for k, v := range up.ExtensionAttributes {
			p[k] = &v
		}
		p.apply(u)
		return nil
	})
}

// CreateGroup adds a group with its members (ids of live users or groups);
// an empty ID gets a generated one.
func (e *Emulator) CreateGroup(tenantID string, g Group) (Group, error) {
	err := e.withTenant(tenantID, func(t *Tenant) error {
		if g.ID == "" {
			g.ID = e.newID()
		}
		g.ID = lower(g.ID)
		if !IsGUID(g.ID) {
			return fmt.Errorf("group id %q is not a GUID", g.ID)
		}
		if _, dup := t.object(g.ID); dup {
			return fmt.Errorf("object %s already exists", g.ID)
		}
		if g.DisplayName == "" {
			return fmt.Errorf("group %s: empty displayName", g.ID)
		}
		if !validNickname(g.MailNickname) {
			return fmt.Errorf("group %s: mailNickname %q is not valid", g.ID, g.MailNickname)
		}
		if g.GroupTypes == nil {
			g.GroupTypes = []string{}
		}
		if g.MailEnabled && g.Mail == "" {
			g.Mail = g.MailNickname + "@" + t.Domain
		}
		for i, m := range g.Members {
			g.Members[i] = lower(m)
			if _, live := t.object(g.Members[i]); !live {
				return fmt.Errorf("group %s: member %s does not exist", g.ID, m)
			}
		}
		if g.Created.IsZero() {
			g.Created = e.now()
		}
		stored := g.clone()
		stored.Members = nil
		t.addGroup(stored)
		e.record(t, g.ID, chCreated, "")
		for _, m := range g.Members {
			if !stored.hasMember(m) {
				stored.Members = append(stored.Members, m)
				e.record(t, g.ID, chMemberAdd, m)
			}
		}
		return nil
	})
	return g, err
}

// UpdateGroup changes a group's properties as an admin would (f may change
// DisplayName, Description, MailNickname, Visibility; not members).
func (e *Emulator) UpdateGroup(tenantID, groupID string, f func(*Group)) error {
	return e.withTenant(tenantID, func(t *Tenant) error {
		g, found := t.groups[lower(groupID)]
		if !found {
			return fmt.Errorf("group %s: %w", groupID, ErrNotFound)
		}
		next := g.clone()
		f(next)
		g.DisplayName, g.Description, g.MailNickname, g.Visibility = next.DisplayName, next.Description, next.MailNickname, next.Visibility
		e.record(t, g.ID, chProps, "")
		return nil
	})
}

// AddMember adds a user or group to a group.
func (e *Emulator) AddMember(tenantID, groupID, memberID string) error {
	return e.withTenant(tenantID, func(t *Tenant) error {
		g, found := t.groups[lower(groupID)]
		if !found {
			return fmt.Errorf("group %s: %w", groupID, ErrNotFound)
		}
		memberID = lower(memberID)
		if _, live := t.object(memberID); !live || memberID == g.ID {
			return fmt.Errorf("member %s: %w", memberID, ErrNotFound)
		}
		if g.hasMember(memberID) {
			return nil
		}
		g.Members = append(g.Members, memberID)
		e.record(t, g.ID, chMemberAdd, memberID)
		return nil
	})
}

// RemoveMember removes a member from a group; absent members are ignored.
func (e *Emulator) RemoveMember(tenantID, groupID, memberID string) error {
	return e.withTenant(tenantID, func(t *Tenant) error {
		g, found := t.groups[lower(groupID)]
		if !found {
			return fmt.Errorf("group %s: %w", groupID, ErrNotFound)
		}
		if g.removeMember(lower(memberID)) {
			e.record(t, g.ID, chMemberRemove, lower(memberID))
		}
		return nil
	})
}

// DeleteGroup soft-deletes a group (restorable from deleted items).
func (e *Emulator) DeleteGroup(tenantID, groupID string) error {
	return e.withTenant(tenantID, func(t *Tenant) error {
		g, found := t.groups[lower(groupID)]
		if !found {
			return fmt.Errorf("group %s: %w", groupID, ErrNotFound)
		}
		e.softDeleteGroup(t, g)
		return nil
	})
}

// DeleteUser soft-deletes a user and removes it from every group (each
// group's delta and subscriptions see the member removed).
func (e *Emulator) DeleteUser(tenantID, userID string) error {
	return e.withTenant(tenantID, func(t *Tenant) error {
		u, found := t.users[lower(userID)]
		if !found {
			return fmt.Errorf("user %s: %w", userID, ErrNotFound)
		}
		e.softDeleteUser(t, u)
		return nil
	})
}

// Group returns a copy of a live group.
func (e *Emulator) Group(tenantID, groupID string) (Group, bool) {
	var out Group
	found := false
	_ = e.withTenant(tenantID, func(t *Tenant) error {
		if g, ok := t.groups[lower(groupID)]; ok {
			out, found = *g.clone(), true
		}
		return nil
	})
	return out, found
}

// Groups returns copies of the tenant's live groups.
func (e *Emulator) Groups(tenantID string) []Group {
	var out []Group
	_ = e.withTenant(tenantID, func(t *Tenant) error {
		for _, g := range t.liveGroups() {
			out = append(out, *g.clone())
		}
		return nil
	})
	return out
}

// DeletedGroups returns copies of the tenant's soft-deleted groups.
func (e *Emulator) DeletedGroups(tenantID string) []Group {
	var out []Group
	_ = e.withTenant(tenantID, func(t *Tenant) error {
		for _, g := range t.deletedGroups {
			out = append(out, *g.clone())
		}
		return nil
	})
	slices.SortFunc(out, func(a, b Group) int { return strings.Compare(a.ID, b.ID) })
	return out
}

// User returns a copy of a live user.
func (e *Emulator) User(tenantID, userID string) (User, bool) {
	var out User
	found := false
	_ = e.withTenant(tenantID, func(t *Tenant) error {
		if u, ok := t.users[lower(userID)]; ok {
			out, found = *u.clone(), true
		}
		return nil
	})
	return out, found
}

// Users returns copies of the tenant's live users.
func (e *Emulator) Users(tenantID string) []User {
	var out []User
	_ = e.withTenant(tenantID, func(t *Tenant) error {
		for _, u := range t.liveUsers() {
			out = append(out, *u.clone())
		}
		return nil
	})
	return out
}

// Subscriptions returns copies of the tenant's subscriptions.
func (e *Emulator) Subscriptions(tenantID string) []Subscription {
	var out []Subscription
	_ = e.withTenant(tenantID, func(t *Tenant) error {
		for _, id := range t.subOrder {
			out = append(out, *t.subs[id])
		}
		return nil
	})
	return out
}

// SetFaults replaces a tenant's faults.
func (e *Emulator) SetFaults(tenantID string, f Faults) error {
	if err := f.Validate(); err != nil {
		return err
	}
	return e.withTenant(tenantID, func(t *Tenant) error {
		t.faults = f
		t.lim = limiter{}
		return nil
	})
}

// ThrottleNext makes the tenant's next n Graph requests (any app) answer 429
// with Retry-After d; the app that drew one stays throttled until d passes.
func (e *Emulator) ThrottleNext(tenantID string, n int, d time.Duration) error {
	return e.withTenant(tenantID, func(t *Tenant) error {
		t.lim.forced, t.lim.forcedAfter = n, d
		return nil
	})
}

// Faults returns a tenant's faults.
func (e *Emulator) Faults(tenantID string) (Faults, error) {
	var f Faults
	err := e.withTenant(tenantID, func(t *Tenant) error { f = t.faults; return nil })
	return f, err
}

// Stats are a tenant's request counts: by route (e.g.
// "GET /groups/{id}/members"), each request inside a $batch counted as its
// own, and the $batch envelopes under "POST /$batch".
type Stats struct {
	Routes       map[string]int `json:"routes"`
	Throttled    int            `json:"throttled"`
	ServerErrors int            `json:"serverErrors"`
}

// Ops is the number of Graph operations: every request except $batch
// envelopes (Graph throttles the requests inside a batch one by one).
func (s Stats) Ops() int {
	n := 0
	for k, v := range s.Routes {
		if k != routeBatch {
			n += v
		}
	}
	return n
}

// Writes is the number of write operations (POST, PATCH, DELETE, PUT),
// $batch envelopes excluded.
func (s Stats) Writes() int {
	n := 0
	for k, v := range s.Routes {
		if k != routeBatch && !strings.HasPrefix(k, "GET ") {
			n += v
		}
	}
	return n
}

// ObjectWrites is the number of writes to the tenant's objects (groups,
// members, users, invitations): Writes without the /subscriptions
// requests.
func (s Stats) ObjectWrites() int {
	n := 0
	for k, v := range s.Routes {
		if k != routeBatch && !strings.HasPrefix(k, "GET ") && !strings.Contains(k, " /subscriptions") {
			n += v
		}
	}
	return n
}

// Stats returns a tenant's request counts.
func (e *Emulator) Stats(tenantID string) Stats {
	var s Stats
	_ = e.withTenant(tenantID, func(t *Tenant) error {
		s = Stats{Routes: maps.Clone(t.counts), Throttled: t.lim.throttled, ServerErrors: t.lim.serverErrors}
		return nil
	})
	if s.Routes == nil {
		s.Routes = map[string]int{}
	}
	return s
}

// ResetStats zeroes a tenant's request counts.
func (e *Emulator) ResetStats(tenantID string) error {
	return e.withTenant(tenantID, func(t *Tenant) error {
		t.counts = map[string]int{}
		t.lim.throttled, t.lim.serverErrors = 0, 0
		return nil
	})
}

// Unrouted returns the requests that hit no implemented route (answered
// 501), by method and path.
func (e *Emulator) Unrouted() map[string]int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return maps.Clone(e.unrouted)
}

// TenantIDs lists the tenants' ids in a stable order.
func (e *Emulator) TenantIDs() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return slices.Sorted(maps.Keys(e.tenants))
}

// DeletedUsers returns copies of the tenant's soft-deleted users.
func (e *Emulator) DeletedUsers(tenantID string) []User {
	var out []User
	_ = e.withTenant(tenantID, func(t *Tenant) error {
		for _, u := range t.deletedUsers {
			out = append(out, *u.clone())
		}
		return nil
	})
	slices.SortFunc(out, func(a, b User) int { return strings.Compare(a.ID, b.ID) })
	return out
}

// PurgeDeleted removes a soft-deleted group or user for good, as an admin
// emptying deleted items (a purged group or user is reported by delta as
// deleted and notified as deleted).
func (e *Emulator) PurgeDeleted(tenantID, id string) error {
	return e.withTenant(tenantID, func(t *Tenant) error {
		id = lower(id)
		if _, found := t.deletedGroups[id]; found {
			delete(t.deletedGroups, id)
			e.record(t, id, chPurged, "")
			return nil
		}
		if u, found := t.deletedUsers[id]; found {
			e.purgeUser(t, u)
			return nil
		}
		return fmt.Errorf("deleted item %s: %w", id, ErrNotFound)
	})
}
