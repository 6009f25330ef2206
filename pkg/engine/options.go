package engine

import (
	"bytes"
	"fmt"
	"text/template"
	"time"
)

// Policies for users and groups the sync no longer needs.
const (
	DeprovisionDelete  = "delete"
	DeprovisionDisable = "disable"
	DeprovisionKeep    = "keep"
	UnscopedDelete     = "delete"
	UnscopedKeep       = "keep"
	NestedSkip         = "skip"
	NestedFlatten      = "flatten"
)

// Options are the engine's sync settings (the config file's scope and sync
// sections).
type Options struct {
	// SourceTenant names the source in target group descriptions.
	SourceTenant string
	// Scope lists the source group ids to mirror.
	Scope []string
	// UserType is Member or Guest for users the tool invites.
	UserType string
	// NestedGroups is NestedSkip or NestedFlatten.
	NestedGroups string
	// ProvisionMembers invites source members missing in the target.
	ProvisionMembers bool
	// DeprovisionUsers is what happens to a user the tool created once it is
	// in no synced group: DeprovisionDelete, DeprovisionDisable or
	// DeprovisionKeep.
	DeprovisionUsers string
	// UnscopedGroups is what happens to a target group whose source left the
	// scope or was deleted: UnscopedDelete or UnscopedKeep.
	UnscopedGroups string
	// DeletionThreshold is how many member removals, user deletes and
	// disables, and group deletes (counted as the members they held) the
	// deletion guard lets through per DeletionWindow.
	DeletionThreshold int
	// DeletionWindow is the rolling window over which the deletion guard
	// counts removals, deletes and disables against DeletionThreshold.
	DeletionWindow time.Duration
	// UserAttributes are the user properties copied from a source user to
	// the target user xtsync created, and kept equal (UserAttributes lists
	// what may be mapped).
	UserAttributes []string
	// LinkAttribute is the target users' onPremisesExtensionAttributes
	// property that carries xtsync's link marker (extensionAttribute15).
	LinkAttribute string
	// NameTemplate renders a target group's displayName from the source
	// group (fields: ID, DisplayName, Description, MailNickname).
	NameTemplate *template.Template
	// InviteRedirectURL is where an invited user lands after redemption.
	InviteRedirectURL string
	// Concurrency bounds parallel Graph reads; 4 when zero.
	Concurrency int
	// WriteConcurrency bounds the actions an apply runs at once, so the
	// Graph requests it has in flight; 16 when zero. The Graph client's
	// limiter paces them to the tenant's quota.
	WriteConcurrency int
}

func (o Options) writeConcurrency() int {
	if o.WriteConcurrency > 0 {
		return o.WriteConcurrency
	}
	return 16
}

func (o Options) concurrency() int {
	if o.Concurrency > 0 {
		return o.Concurrency
	}
	return 4
}

// targetSpec is the target group wanted for source group g.
func (o Options) targetSpec(g Group) (GroupSpec, error) {
	name := g.DisplayName
	if o.NameTemplate != nil {
		var b bytes.Buffer
		if err := o.NameTemplate.Execute(&b, g); err != nil {
			return GroupSpec{}, fmt.Errorf("render group name for %s: %w", g.ID, err)
		}
		name = b.String()
	}
	if len(name) > 256 {
		name = name[:256]
	}
	return GroupSpec{
		DisplayName:  name,
		Description:  fmt.Sprintf("Mirrored by xtsync from group %s of tenant %s. Changes here are reverted.", g.ID, o.SourceTenant),
		MailNickname: TargetNickname(g.ID),
	}, nil
}

// TargetNickname is the mailNickname of the target group mirroring source
// group id: unique per source group and stable.
func TargetNickname(sourceID string) string {
	b := make([]byte, 0, 36)
	b = append(b, "xts-"...)
	for i := 0; i < len(sourceID); i++ {
		if c := sourceID[i]; c != '-' {
			b = append(b, c)
		}
	}
	return string(b)
}
