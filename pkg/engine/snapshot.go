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
	// UsersByMail are target users found for unmapped source members, by
	// lowercased mail.
	UsersByMail map[string]User
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
