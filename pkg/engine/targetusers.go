package engine

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// UserWatch reads the target tenant's changes to its users: Graph's users
// delta on the target, as Source reads the source's. With one, the engine's
// target users pass (TargetUsers) puts back within seconds what someone
// changed in a user xtsync keeps (a guest xtsync disabled enabled again, a
// synced attribute edited) instead of at the next reconcile.
type UserWatch interface {
	// UserDelta runs one users delta round from link; ErrDeltaExpired
	// when the link is no longer valid.
	UserDelta(ctx context.Context, link string) (UserDeltaResult, error)
	// LatestUserDeltaLink returns a users delta link positioned at now.
	LatestUserDeltaLink(ctx context.Context) (string, error)
}

// WatchTargetUsers gives the engine the target's users delta: from then on
// every run records the target users it wrote (the echo the pass
// recognises) and TargetUsers works. Call it before the engine runs.
func (e *Engine) WatchTargetUsers(w UserWatch) { e.targetUsers = w }

// targetUsersKey is the key of the target users pass's record.
const targetUsersKey = "target-users"

// TriggerTargetUserNotification is the sync of source users whose target
// user someone changed in the target, found by a target users pass that
// change notifications on the target's users queued.
const TriggerTargetUserNotification = "target-user-notification"

// TargetUserState is the target users pass's record: the users delta link
// on the target, and the target users xtsync wrote since it (Echo, by
// target id), which the next pass finds in the delta and recognises as its
// own.
type TargetUserState struct {
	Link    string                `json:"link"`
	Echo    map[string]UserWrites `json:"echo,omitempty"`
	Updated time.Time             `json:"updated"`
	Version int64                 `json:"-"`
}

// UserWrites is what xtsync last wrote to one target user: when, and the
// accountEnabled it set (nil when the write left it as it was: an
// attribute update, the link).
type UserWrites struct {
	At      time.Time `json:"at"`
	Enabled *bool     `json:"enabled,omitempty"`
}

// TargetUsers is the target users pass, run when the target notifies a
// change of one of its users: it reads the target's users delta from its
// stored link (one cheap request), drops the users xtsync does not keep
// and the changes xtsync made itself (the echo, when the user's sign-in is
// still what xtsync left), and syncs the source users whose target user
// someone else changed: their source state is read again and applied as a
// users delta pass applies it, under the same rules (a matched user is
// never edited; every disable goes through the deletion guard). Without a
// link, or with an expired one, it takes a fresh link and checks nothing
// (the reconcile repairs what changed before).
func (e *Engine) TargetUsers(ctx context.Context, ro RunOptions) (*Report, error) {
	empty := &Report{Run: newRunID(), Started: e.clock.Now(), Finished: e.clock.Now(), DryRun: ro.DryRun, Plan: &Plan{}}
	if e.targetUsers == nil {
		return empty, fmt.Errorf("target users pass: %w", ErrNoWatch)
	}
	ts, err := e.loadTargetUsers(ctx)
	if err != nil {
		return empty, err
	}
	if ts.Link == "" {
		return empty, e.restartTargetUsers(ctx, ts, "no link yet")
	}
	res, err := e.targetUsers.UserDelta(ctx, ts.Link)
	switch {
	case errors.Is(err, ErrDeltaExpired):
		return empty, e.restartTargetUsers(ctx, ts, "link expired")
	case err != nil:
		return empty, fmt.Errorf("read the target's users delta: %w", err)
	}
	changed, err := e.changedTargetUsers(ctx, res.Changes, ts.Echo)
	if err != nil {
		return empty, err
	}
	if len(changed) == 0 {
		if ro.DryRun {
			return empty, nil
		}
		return empty, e.advanceTargetUsers(ctx, ts, res.Link)
	}
	e.log.Info("target users changed in the target", "users", len(changed))
	rep, halt, err := e.resyncUsers(ctx, changed, ro)
	if err != nil {
		return rep, err
	}
	rep.DriftedUsers = changed
	if ro.DryRun || rep.Failed() {
		return rep, halt // the next pass sees these changes again
	}
	return rep, errors.Join(halt, e.advanceTargetUsers(ctx, ts, res.Link))
}

// changedTargetUsers are the source users (sorted) whose target user a
// delta round shows changed by someone other than xtsync: a user xtsync
// keeps (mapped) that xtsync did not write since the link, or whose
// accountEnabled is not what xtsync left (a disabled user enabled again,
// whatever xtsync wrote), or that was deleted. What xtsync left is the
// accountEnabled its last write set, else what the mapping says (a user
// xtsync created and disabled is off; every other is on).
func (e *Engine) changedTargetUsers(ctx context.Context, changes []UserChange, echo map[string]UserWrites) ([]string, error) {
	if len(changes) == 0 {
		return nil, nil
	}
	st := newState(e.store)
	if err := st.loadUsers(ctx, nil, true, 1); err != nil {
		return nil, err
	}
	byTarget := make(map[string]*UserMapping, len(st.users))
	for _, um := range st.users {
		if um.mapped() {
			byTarget[strings.ToLower(um.TargetID)] = um
		}
	}
	var out []string
	for _, ch := range changes {
		um := byTarget[strings.ToLower(ch.ID)]
		if um == nil || slices.Contains(out, um.SourceID) {
			continue
		}
		wrote, written := echo[strings.ToLower(ch.ID)]
		left := um.Provenance != Created || !um.Disabled // what xtsync left
		if wrote.Enabled != nil {
			left = *wrote.Enabled
		}
		if written && !ch.Removed && (ch.Enabled == nil || *ch.Enabled == left) {
			continue
		}
		out = append(out, um.SourceID)
	}
	slices.Sort(out)
	return out, nil
}

// resyncUsers reads source users ids again and applies their state to
// their target users, as a users delta pass that read them all would.
func (e *Engine) resyncUsers(ctx context.Context, ids []string, ro RunOptions) (*Report, error, error) {
	changes, err := e.sourceUsers(ctx, ids)
	if err != nil {
		return nil, nil, err
	}
	rep, halt, err := e.applyUserChanges(ctx, changes, false, ro)
	if rep == nil {
		rep = &Report{Run: newRunID(), Started: e.clock.Now(), DryRun: ro.DryRun, Plan: &Plan{}}
	}
	return rep, halt, err
}

// restartTargetUsers stores a fresh link, keeping the echo recorded since
// ts was read.
func (e *Engine) restartTargetUsers(ctx context.Context, ts TargetUserState, why string) error {
	link, err := e.targetUsers.LatestUserDeltaLink(ctx)
	if err != nil {
		return fmt.Errorf("start the target's users delta: %w", err)
	}
	e.log.Info("target users link taken", "reason", why)
	return e.advanceTargetUsers(ctx, ts, link)
}

// advanceTargetUsers stores link as the next one, with the echo recorded
// since ts was read (a run may have written users meanwhile: their
// changes are in the next round). A conflict with a run recording its
// echo is read again, a few times.
func (e *Engine) advanceTargetUsers(ctx context.Context, ts TargetUserState, link string) error {
	for range 3 {
		cur, err := e.loadTargetUsers(ctx)
		if err != nil {
			return err
		}
		next := TargetUserState{Link: link, Version: cur.Version}
		for id, w := range cur.Echo {
			if was, ok := ts.Echo[id]; !ok || w.At.After(was.At) {
				if next.Echo == nil {
					next.Echo = map[string]UserWrites{}
				}
				next.Echo[id] = w
			}
		}
		err = e.saveTargetUsers(ctx, next)
		if !errors.Is(err, ErrConflict) {
			return err
		}
	}
	return fmt.Errorf("save the target users link: %w", ErrConflict)
}

// recordUserEcho adds the target users a run wrote (invited, linked,
// updated, enabled, disabled, failed writes too: a request may have
// applied) to the target users pass's echo, with the accountEnabled it
// set. A run that writes users before the pass has a link takes the link
// instead, after its writes.
func (a *applier) recordUserEcho(ctx context.Context) {
	if a.e.targetUsers == nil {
		return
	}
	now := a.e.clock.Now()
	written := map[string]UserWrites{}
	for _, r := range a.rep.Results {
		var enabled *bool
		switch r.Action.Kind {
		case ActInviteUser, ActEnableUser:
			enabled = ptr(true)
		case ActDisableUser:
			enabled = ptr(false)
		case ActLinkUser, ActUpdateUser:
		default:
			continue
		}
		target := cmp.Or(r.Target, r.Action.Target)
		if um := a.st.users[r.Action.User]; target == "" && um.mapped() {
			target = um.TargetID
		}
		if target == "" {
			continue
		}
		w := written[strings.ToLower(target)]
		w.At = now
		if enabled != nil {
			w.Enabled = enabled
		}
		written[strings.ToLower(target)] = w
	}
	if len(written) == 0 {
		return
	}
	for range 3 {
		ts, err := a.e.loadTargetUsers(ctx)
		if err != nil {
			a.e.log.Warn("record the target users' echo", "err", err)
			return
		}
		if ts.Link == "" {
			// The first users written (an initial sync's invitations):
			// the pass's link is taken now, after the writes, so that a
			// change made to them from now on is in its delta.
			if err := a.e.restartTargetUsers(ctx, ts, "first users written"); err != nil && !errors.Is(err, ErrConflict) {
				a.e.log.Warn("start the target users link", "err", err)
			}
			return
		}
		if ts.Echo == nil {
			ts.Echo = map[string]UserWrites{}
		}
		for id, w := range written {
			if w.Enabled == nil {
				w.Enabled = ts.Echo[id].Enabled // an earlier write's still holds
			}
			ts.Echo[id] = w
		}
		err = a.e.saveTargetUsers(ctx, ts)
		if !errors.Is(err, ErrConflict) {
			if err != nil {
				a.e.log.Warn("record the target users' echo", "err", err)
			}
			return
		}
	}
}

// ptr returns a pointer to v.
func ptr[T any](v T) *T { return &v }

// loadTargetUsers reads the target users pass's record (empty when none).
func (e *Engine) loadTargetUsers(ctx context.Context) (TargetUserState, error) {
	rec, err := e.store.Get(ctx, RecordDelta, targetUsersKey)
	switch {
	case errors.Is(err, ErrNotFound):
		return TargetUserState{}, nil
	case err != nil:
		return TargetUserState{}, fmt.Errorf("load the target users link: %w", err)
	}
	var ts TargetUserState
	if err := json.Unmarshal(rec.Data, &ts); err != nil {
		return TargetUserState{}, fmt.Errorf("decode the target users link: %w", err)
	}
	ts.Version = rec.Version
	return ts, nil
}

// saveTargetUsers stores ts over the version it was read at.
func (e *Engine) saveTargetUsers(ctx context.Context, ts TargetUserState) error {
	ts.Updated = e.clock.Now()
	data, _ := json.Marshal(ts)
	if _, err := e.store.Put(ctx, RecordDelta, targetUsersKey, ts.Version, data); err != nil {
		return fmt.Errorf("save the target users link: %w", err)
	}
	return nil
}
