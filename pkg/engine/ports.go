package engine

import (
	"context"
	"time"
)

// Source reads the source tenant.
type Source interface {
	// Groups reads the groups with these ids; ids not returned do not exist.
	Groups(ctx context.Context, ids []string) (map[string]Group, error)
	// Members lists a group's direct members, or its transitive members.
	Members(ctx context.Context, groupID string, transitive bool) ([]Member, error)
	// Users reads source users by id (for members a delta names by id only).
	Users(ctx context.Context, ids []string) (map[string]Member, error)
	// GroupDelta runs one delta round over ids from link ("" starts a new
	// round). It returns ErrDeltaExpired when the link is no longer valid.
	GroupDelta(ctx context.Context, ids []string, link string) (DeltaResult, error)
	// LatestDeltaLink returns a delta link for ids positioned at now,
	// without reading the current state.
	LatestDeltaLink(ctx context.Context, ids []string) (string, error)
	// UserDelta runs one round of the users delta from link, selecting the
	// mapped attributes and accountEnabled; ErrDeltaExpired when the link
	// is no longer valid.
	UserDelta(ctx context.Context, link string) (UserDeltaResult, error)
	// LatestUserDeltaLink returns a users delta link positioned at now.
	LatestUserDeltaLink(ctx context.Context) (string, error)
}

// Target reads and writes the target tenant.
type Target interface {
	// Groups reads the live groups with these ids.
	Groups(ctx context.Context, ids []string) (map[string]Group, error)
	// GroupsByNickname reads the live groups whose mailNickname is one of
	// nicks (several groups may share one).
	GroupsByNickname(ctx context.Context, nicks []string) ([]Group, error)
	// Mirrors reads every live group whose mailNickname starts with the
	// mirror prefix ("xts-").
	Mirrors(ctx context.Context) ([]Group, error)
	// Members lists a group's direct members.
	Members(ctx context.Context, groupID string) ([]Member, error)
	// CreateGroup creates a security group, binding spec.Members.
	CreateGroup(ctx context.Context, spec GroupSpec) (Group, error)
	// UpdateGroup sets displayName and description.
	UpdateGroup(ctx context.Context, id string, spec GroupSpec) error
	// DeleteGroup soft-deletes a group.
	DeleteGroup(ctx context.Context, id string) error
	// RestoreGroup restores a soft-deleted group; ErrNotFound when it is not
	// in deleted items.
	RestoreGroup(ctx context.Context, id string) error
	// AddMembers adds users to a group. Members already present count as
	// added. It returns the ids that could not be added, with the reason.
	AddMembers(ctx context.Context, groupID string, userIDs []string) (map[string]error, error)
	// RemoveMembers removes users from a group. Members already absent
	// count as removed. It returns the ids that could not be removed.
	RemoveMembers(ctx context.Context, groupID string, userIDs []string) (map[string]error, error)
	// Users reads users by id; ids not returned do not exist.
	Users(ctx context.Context, ids []string) (map[string]User, error)
	// UsersByAddress finds the users that carry an email address as their
	// mail, in otherMails, or in the #EXT# userPrincipalName of an external
	// user; keys are the lowercased addresses asked for.
	UsersByAddress(ctx context.Context, addrs []string) (map[string][]User, error)
	// UsersByLink finds the users whose link attribute holds one of links.
	UsersByLink(ctx context.Context, links []string) (map[string]User, error)
	// Invite creates an external user for an email address, or answers
	// with the user that already has it.
	Invite(ctx context.Context, inv Invitation) (User, error)
	// UpdateUser changes a user's properties.
	UpdateUser(ctx context.Context, id string, u UserUpdate) error
	// DeleteUser soft-deletes a user.
	DeleteUser(ctx context.Context, id string) error
	// SetAccountEnabled enables or disables a user's sign-in.
	SetAccountEnabled(ctx context.Context, id string, enabled bool) error
}

// Clock tells the time: the one clock type of xtsync, injected wherever
// time is read.
type Clock interface{ Now() time.Time }

// TimerClock is a Clock that also runs a function after a delay (the
// in-process queue's retry backoff, serve's schedule). stop cancels the
// call and reports whether it did (false once f has started).
type TimerClock interface {
	Clock
	AfterFunc(d time.Duration, f func()) (stop func() bool)
}

// SystemClock is the wall clock.
type SystemClock struct{}

var _ TimerClock = SystemClock{}

// Now returns time.Now().
func (SystemClock) Now() time.Time { return time.Now() }

// AfterFunc runs f in its own goroutine after d (time.AfterFunc).
func (SystemClock) AfterFunc(d time.Duration, f func()) func() bool { return time.AfterFunc(d, f).Stop }

// Graph is a deployment's Graph adapters: the two tenants, the source's
// subscriptions, and, to watch the mirrors, the target's group delta and
// subscriptions (both nil: the mirrors are not watched).
type Graph struct {
	Source              Source
	Target              Target
	Subscriptions       SubscriptionAPI
	Mirrors             MirrorWatch
	MirrorSubscriptions SubscriptionAPI
	// TargetUsers reads the target's users delta, for the target users
	// pass (nil with Mirrors).
	TargetUsers UserWatch
}
