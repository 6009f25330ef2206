package engine

import "errors"

// Sentinel errors, checked with errors.Is.
var (
	// ErrNotFound: the object (or state record) does not exist.
	ErrNotFound = errors.New("not found")
	// ErrConflict: a conditional state write lost to a concurrent writer.
	ErrConflict = errors.New("state version conflict")
	// ErrThreshold: the plan deletes or disables more than the deletion
	// threshold allows; nothing was applied.
	ErrThreshold = errors.New("deletion threshold exceeded")
	// ErrDeltaExpired: the stored delta link is no longer valid (Graph
	// answered 410 syncStateNotFound); a full sync of the groups is needed.
	ErrDeltaExpired = errors.New("delta token expired")
	// ErrAlreadyMember and ErrNotMember are membership writes that found
	// the work already done.
	ErrAlreadyMember = errors.New("already a member")
	ErrNotMember     = errors.New("not a member")
)
