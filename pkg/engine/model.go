package engine

import "time"

// Group is a directory group as the engine sees it.
type Group struct {
	ID              string
	DisplayName     string
	Description     string
	MailNickname    string
	MailEnabled     bool
	SecurityEnabled bool
	GroupTypes      []string
	// Created is the group's createdDateTime, when read.
	Created time.Time
}

// Kind classifies a source group for syncing.
func (g Group) Kind() GroupKind {
	unified, dynamic := false, false
	for _, t := range g.GroupTypes {
		switch t {
		case "Unified":
			unified = true
		case "DynamicMembership":
			dynamic = true
		}
	}
	switch {
	case unified:
		return KindMicrosoft365
	case g.MailEnabled && g.SecurityEnabled:
		return KindMailSecurity
	case g.MailEnabled:
		return KindDistribution
	case dynamic:
		return KindDynamicSecurity
	default:
		return KindSecurity
	}
}

// GroupKind is what kind of group a source group is.
type GroupKind string

// Group kinds. Distribution lists and mail-enabled security groups are not
// synced: Exchange owns their membership.
const (
	KindSecurity        GroupKind = "security"
	KindDynamicSecurity GroupKind = "dynamic security"
	KindMicrosoft365    GroupKind = "microsoft 365"
	KindDistribution    GroupKind = "distribution list"
	KindMailSecurity    GroupKind = "mail-enabled security"
)

// Syncable reports whether groups of this kind are mirrored.
func (k GroupKind) Syncable() bool {
	return k != KindDistribution && k != KindMailSecurity
}

// ObjectType is the type of a directory object in a member list.
type ObjectType string

// Member object types.
const (
	TypeUser  ObjectType = "user"
	TypeGroup ObjectType = "group"
	TypeOther ObjectType = "other"
)

// Member is a directory object in a group's member list.
type Member struct {
	ID                string     `json:"id"`
	Type              ObjectType `json:"type"`
	DisplayName       string     `json:"displayName,omitempty"`
	Mail              string     `json:"mail,omitempty"`
	UserPrincipalName string     `json:"userPrincipalName,omitempty"`
	UserType          string     `json:"userType,omitempty"` // Member or Guest, for users
	// Disabled is set for a user read with accountEnabled false (never
	// guessed: unread means enabled).
	Disabled bool `json:"disabled,omitempty"`
	// Attrs are the mapped user attributes (Options.UserAttributes), when
	// read; Link the link attribute, when read (target members).
	Attrs map[string]string `json:"attributes,omitempty"`
	Link  string            `json:"link,omitempty"`
}

// IsGuest reports whether a user member is a guest of its tenant.
func (m Member) IsGuest() bool { return m.UserType == "Guest" }

// User is a user of the target tenant.
type User struct {
	ID                string   `json:"id"`
	DisplayName       string   `json:"displayName,omitempty"`
	Mail              string   `json:"mail,omitempty"`
	OtherMails        []string `json:"otherMails,omitempty"`
	UserPrincipalName string   `json:"userPrincipalName,omitempty"`
	UserType          string   `json:"userType,omitempty"`
	AccountEnabled    bool     `json:"accountEnabled"`
	CreationType      string   `json:"creationType,omitempty"`
	// Created is the user's createdDateTime.
	Created time.Time `json:"createdDateTime,omitzero"`
	// Link is the value of the link attribute (Options.LinkAttribute):
	// xtsync's marker on the users it created, see LinkValue.
	Link string `json:"link,omitempty"`
	// Attrs are the mapped attributes, when read.
	Attrs map[string]string `json:"attributes,omitempty"`
}

// UserChange is one user reported by a users delta round. Only the
// properties that changed are sure to be there (Graph: "updated instances
// are represented by their id with at least the properties that have been
// updated").
type UserChange struct {
	ID string
	// Removed: deleted in the source (soft or permanent).
	Removed bool
	// Enabled is accountEnabled, when the round carried it.
	Enabled *bool
	// Attrs are the mapped attributes the round carried ("" for a
	// property set to null).
	Attrs map[string]string
}

// UserDeltaResult is one complete users delta round.
type UserDeltaResult struct {
	Changes []UserChange
	Link    string // the deltaLink for the next round
}

// UserUpdate is a change to a target user, written in one request; zero
// fields are left as they are.
type UserUpdate struct {
	// Link sets the link attribute.
	Link string
	// Attributes set mapped user attributes ("" clears one).
	Attributes map[string]string
}

// GroupSpec is what the engine wants a target group to be.
type GroupSpec struct {
	DisplayName  string `json:"displayName"`
	Description  string `json:"description,omitempty"`
	MailNickname string `json:"mailNickname"`
	// Members are target user ids to bind at creation (at most 20).
	Members []string `json:"members,omitempty"`
}

// Invitation provisions a source user in the target.
type Invitation struct {
	Email       string
	DisplayName string
	UserType    string // Member or Guest
	// RedirectURL is where the user lands after redeeming.
	RedirectURL string
}

// MemberChange is one membership change reported by a group delta.
type MemberChange struct {
	Member  Member
	Removed bool
}

// GroupChange is one group reported by a group delta round.
type GroupChange struct {
	ID      string
	Removed bool // deleted (soft or hard) in the source
	// Group holds the properties when the delta reported them.
	Group   *Group
	Members []MemberChange
}

// DeltaResult is one complete delta round.
type DeltaResult struct {
	Changes []GroupChange
	Link    string // the deltaLink for the next round
}
