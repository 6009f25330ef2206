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
	ID                string
	Type              ObjectType
	DisplayName       string
	Mail              string
	UserPrincipalName string
	UserType          string // Member or Guest, for users
}

// IsGuest reports whether a user member is a guest of its tenant.
func (m Member) IsGuest() bool { return m.UserType == "Guest" }

// User is a user of the target tenant.
type User struct {
	ID                string
	DisplayName       string
	Mail              string
	OtherMails        []string
	UserPrincipalName string
	UserType          string
	AccountEnabled    bool
	CreationType      string
	// Created is the user's createdDateTime.
	Created time.Time
	// Link is the value of the link attribute (Options.LinkAttribute):
	// xtsync's marker on the users it created, see LinkValue.
	Link string
}

// UserUpdate is a change to a target user; zero fields are left as they
// are.
type UserUpdate struct {
	// Link sets the link attribute.
	Link string
}

// GroupSpec is what the engine wants a target group to be.
type GroupSpec struct {
	DisplayName  string
	Description  string
	MailNickname string
	// Members are target user ids to bind at creation (at most 20).
	Members []string
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
