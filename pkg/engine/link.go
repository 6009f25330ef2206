package engine

import (
	"strings"
	"time"
)

// The links the target carries, so that the state file is never the only
// record of what xtsync owns:
//
//   - a mirror group's mailNickname is MirrorPrefix + the source group id
//     without dashes (TargetNickname);
//   - a user xtsync created carries LinkValue(source tenant, source user) in
//     its link attribute (Options.LinkAttribute, an
//     onPremisesExtensionAttributes property), written right after the
//     invitation.
//
// Only a user whose link attribute holds its own link value may be deleted,
// disabled or edited; a group is adopted or removed as a mirror only by its
// nickname.

// MirrorPrefix starts the mailNickname of every mirror group.
const MirrorPrefix = "xts-"

// DefaultLinkAttribute is the link attribute unless configured.
const DefaultLinkAttribute = "extensionAttribute15"

// linkPrefix starts every link value.
const linkPrefix = "xtsync:"

// creationSkew is how far the target's clock may be behind ours when a
// user's createdDateTime is compared with the time an invitation was
// intended: a user created more than this before the intent existed before
// it, and is never counted as created by xtsync.
const creationSkew = 5 * time.Second

// LinkValue is the link marker of the target user mirroring source user
// userID of tenant (ids lowercased).
func LinkValue(tenant, userID string) string {
	return linkPrefix + strings.ToLower(tenant) + ":" + strings.ToLower(userID)
}

// IsLink reports whether v is an xtsync link value (of any tenant).
func IsLink(v string) bool { return strings.HasPrefix(v, linkPrefix) }

// createdBy decides whether target user u was created by the invitation of
// source user sourceID intended at intent (zero: no invitation was
// intended). It is the one place that decides provenance:
//
//   - u carries the link of sourceID: created (xtsync wrote it after proving
//     the creation);
//   - u carries anything else in the link attribute: not created (another
//     source user's mirror, or the tenant uses the attribute for itself);
//   - u was created at or after the intent (less the clock skew): created,
//     and the link is still to be written;
//   - else u existed before: not created.
func createdBy(u User, link string, intent time.Time) (created, linked bool) {
	switch {
	case u.Link == link:
		return true, true
	case u.Link != "":
		return false, false
	case !intent.IsZero() && !u.Created.IsZero() && !u.Created.Before(intent.Add(-creationSkew)):
		return true, false
	}
	return false, false
}
