package engine

// Snapshot is everything a plan is computed from, read from both tenants.
type Snapshot struct {
	// Scope are the source group ids this run syncs.
	Scope []string
	// Full marks a reconcile of the whole scope: mapped groups outside
	// Scope are handled as unscoped.
	Full bool
	// Unscoped are mapped source group ids to release from the sync (a
	// partial run's ids that left the scope).
	Unscoped []string
	// Source holds each scoped group as read from the source.
	Source map[string]SourceGroup
	// Target holds the live target groups of the mapped scoped groups, by
	// target id. A mapped target id missing here was deleted in the target.
	Target map[string]TargetGroup
	// Mirrors are target groups found by mailNickname, by lowercased
	// nickname: candidates for groups without a live mirror, and, when
	// MirrorsListed, every mirror of the target (duplicates included).
	Mirrors       map[string][]Group
	MirrorsListed bool
	// UsersByLink are target users carrying the link of an unmapped source
	// member, by link value.
	UsersByLink map[string]User
	// UsersByAddress are target users found for unmapped source members by
	// their address (mail, otherMails, #EXT# userPrincipalName), by
	// lowercased address.
	UsersByAddress map[string][]User
}

// SourceGroup is one source group read.
type SourceGroup struct {
	Found   bool
	Group   Group
	Members []Member
	Err     error // the read failed: leave the group alone
}

// TargetGroup is one target group read.
type TargetGroup struct {
	Group   Group
	Members []Member
	Err     error
}
