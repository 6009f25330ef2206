package graphemu

import (
	"maps"
	"slices"
	"time"
)

// App is an app registration in a tenant: the client-credentials identity a
// caller signs in with.
type App struct {
	ClientID    string `json:"clientId"`
	Secret      string `json:"clientSecret"`
	DisplayName string `json:"displayName,omitempty"`
	// Permissions are the Graph application permissions granted to the
	// app (e.g. "Group.Read.All"); nil grants all. See permissions.go.
	Permissions []string `json:"permissions,omitempty"`
}

// User is a directory user.
type User struct {
	ID                string   `json:"id"`
	DisplayName       string   `json:"displayName"`
	GivenName         string   `json:"givenName,omitempty"`
	Surname           string   `json:"surname,omitempty"`
	UserPrincipalName string   `json:"userPrincipalName"`
	Mail              string   `json:"mail,omitempty"`
	OtherMails        []string `json:"otherMails,omitempty"`
	UserType          string   `json:"userType,omitempty"` // Member or Guest
	AccountEnabled    bool     `json:"accountEnabled"`
	CreationType      string   `json:"creationType,omitempty"`      // "" or Invitation
	ExternalUserState string   `json:"externalUserState,omitempty"` // "" or PendingAcceptance / Accepted
	JobTitle          string   `json:"jobTitle,omitempty"`
	Department        string   `json:"department,omitempty"`
	// CompanyName is companyName (at most 64 characters; returned only on
	// $select), OfficeLocation officeLocation (at most 128; a default
	// property): https://learn.microsoft.com/en-us/graph/api/resources/user
	CompanyName    string `json:"companyName,omitempty"`
	OfficeLocation string `json:"officeLocation,omitempty"`
	// Created is createdDateTime; a seed may set it in the past (a guest
	// invited a year ago). Zero means "now" when the user is added.
	Created time.Time `json:"createdDateTime,omitzero"`
	// OnPremisesSyncEnabled marks a user synced from on-premises Active
	// Directory (onPremisesSyncEnabled true; rendered null when false, as for
	// a never-synced cloud-only user). Its extension attributes are read-only.
	OnPremisesSyncEnabled bool `json:"onPremisesSyncEnabled,omitempty"`
	// ExtensionAttributes are onPremisesExtensionAttributes, keyed
	// extensionAttribute1 ... extensionAttribute15; unset ones are absent.
	ExtensionAttributes map[string]string `json:"onPremisesExtensionAttributes,omitempty"`
	Deleted             time.Time         `json:"-"`
	// memberOf holds, while the user is soft-deleted, the groups its
	// deletion removed it from: a restore brings those memberships back.
	memberOf []string
}

// Group is a directory group. Members holds directory object ids (users or
// groups) in the order they were added.
type Group struct {
	ID              string    `json:"id"`
	DisplayName     string    `json:"displayName"`
	Description     string    `json:"description,omitempty"`
	MailNickname    string    `json:"mailNickname"`
	Mail            string    `json:"mail,omitempty"`
	MailEnabled     bool      `json:"mailEnabled"`
	SecurityEnabled bool      `json:"securityEnabled"`
	GroupTypes      []string  `json:"groupTypes"`
	MembershipRule  string    `json:"membershipRule,omitempty"`
	Visibility      string    `json:"visibility,omitempty"`
	Members         []string  `json:"members,omitempty"`
	Owners          []string  `json:"owners,omitempty"`
	Created         time.Time `json:"createdDateTime,omitzero"`
	Deleted         time.Time `json:"-"`
}

// IsUnified reports whether g is a Microsoft 365 group.
func (g *Group) IsUnified() bool { return slices.Contains(g.GroupTypes, "Unified") }

// IsDynamic reports whether g has rule-based membership.
func (g *Group) IsDynamic() bool { return slices.Contains(g.GroupTypes, "DynamicMembership") }

// IsDistributionList reports whether g is a distribution list or a
// mail-enabled security group: Graph cannot change its members.
func (g *Group) IsDistributionList() bool { return g.MailEnabled && !g.IsUnified() }

func (g *Group) hasMember(id string) bool { return slices.Contains(g.Members, id) }

func (g *Group) removeMember(id string) bool {
	i := slices.Index(g.Members, id)
	if i < 0 {
		return false
	}
	g.Members = slices.Delete(g.Members, i, i+1)
	return true
}

// Subscription is a change-notification subscription.
type Subscription struct {
	ID                        string    `json:"id"`
	Resource                  string    `json:"resource"`
	ChangeType                string    `json:"changeType"`
	ClientState               string    `json:"clientState,omitempty"`
	NotificationURL           string    `json:"notificationUrl"`
	LifecycleNotificationURL  string    `json:"lifecycleNotificationUrl,omitempty"`
	ExpirationDateTime        time.Time `json:"expirationDateTime"`
	ApplicationID             string    `json:"applicationId"`
	CreatorID                 string    `json:"creatorId"`
	LatestSupportedTLSVersion string    `json:"latestSupportedTlsVersion,omitempty"`
	reauthSent                bool
}

func (u *User) clone() *User {
	c := *u
	c.OtherMails = slices.Clone(u.OtherMails)
	c.ExtensionAttributes = maps.Clone(u.ExtensionAttributes)
	c.memberOf = slices.Clone(u.memberOf)
	return &c
}

func (g *Group) clone() *Group {
	c := *g
	c.GroupTypes = slices.Clone(g.GroupTypes)
	c.Members = slices.Clone(g.Members)
	c.Owners = slices.Clone(g.Owners)
	return &c
}
