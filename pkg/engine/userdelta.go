package engine

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
)

// usersDeltaKey is the delta record of the source's users.
const usersDeltaKey = "users"

// UserDelta applies the source's user changes since the last pass to the
// target users xtsync maps: the mapped attributes and sign-in of the users
// it created (what differs is reported for matched users), and, for a user
// deleted in the source, its removal from every mirror and its
// deprovisioning. Changes to users xtsync does not map cost nothing but
// the delta read. Without a stored link, or with an expired one, it takes a
// new link and reads every mapped user again (15 per request).
func (e *Engine) UserDelta(ctx context.Context, ro RunOptions) (*Report, error) {
	rep := &Report{Run: newRunID(), Started: e.clock.Now(), DryRun: ro.DryRun, Plan: &Plan{}}
	rec, err := e.store.Get(ctx, RecordDelta, usersDeltaKey)
	var ds DeltaState
	var res UserDeltaResult
	var all bool
	switch {
	case errors.Is(err, ErrNotFound):
		// No link yet (no full reconcile took one here: the AWS form's
		// reconcile only plans): take one, and read every mapped user once.
		e.log.Info("no users delta link yet, reading every mapped user")
		err, all = ErrDeltaExpired, true
	case err != nil:
		return rep, fmt.Errorf("load users delta link: %w", err)
	default:
		if err := json.Unmarshal(rec.Data, &ds); err != nil {
			return rep, fmt.Errorf("decode users delta link: %w", err)
		}
		res, err = e.src.UserDelta(ctx, ds.Link)
	}
	if errors.Is(err, ErrDeltaExpired) {
		if !all {
			e.log.Info("users delta link expired, reading every mapped user")
		}
		if res.Link, err = e.src.LatestUserDeltaLink(ctx); err != nil {
			return rep, fmt.Errorf("restart users delta: %w", err)
		}
		all = true
	}
	if err != nil {
		return rep, fmt.Errorf("read users delta: %w", err)
	}
	rep, halt, err := e.applyUserChanges(ctx, res.Changes, all, ro)
	if err != nil {
		return rep, err
	}
	if ro.DryRun || rep.Failed() {
		return rep, halt // the next pass sees these changes again
	}
	return rep, cmp.Or(e.saveDelta(ctx, usersDeltaKey, nil, res.Link, rec.Version), halt)
}

// applyUserChanges plans and applies changes of mapped users. With all, every
// mapped user is read from the source instead.
func (e *Engine) applyUserChanges(ctx context.Context, changes []UserChange, all bool, ro RunOptions) (*Report, error, error) {
	st, err := e.userDeltaState(ctx, changes, all)
	if err != nil {
		return nil, nil, err
	}
	byID := map[string]UserChange{}
	for _, ch := range changes {
		if um := st.users[ch.ID]; um.mapped() {
			byID[ch.ID] = mergeChange(byID[ch.ID], ch)
		}
	}
	if all {
		var ids []string
		for id, um := range st.users {
			if um.mapped() {
				ids = append(ids, id)
			}
		}
		slices.Sort(ids)
		read, err := e.sourceUsers(ctx, ids)
		if err != nil {
			return nil, nil, err
		}
		for _, ch := range read {
			byID[ch.ID] = ch
		}
	}
	rep := &Report{Run: newRunID(), Started: e.clock.Now(), DryRun: ro.DryRun}
	if len(byID) == 0 {
		rep.Plan = &Plan{}
		rep.Finished = e.clock.Now()
		return rep, nil, nil
	}
	ids := slices.Sorted(maps.Keys(byID))
	// Their groups are locked like a sync of them: a reconcile or a delta
	// pass of those groups waits.
	var groups []string
	for _, id := range ids {
		groups = append(groups, st.users[id].Groups...)
	}
	unlock := e.locks.lock(groups)
	defer unlock()
	var live []string
	for _, id := range ids {
		if !byID[id].Removed {
			live = append(live, st.users[id].TargetID)
		}
	}
	targets := map[string]User{}
	if len(live) > 0 {
		if targets, err = e.dst.Users(ctx, live); err != nil {
			return nil, nil, fmt.Errorf("read target users: %w", err)
		}
	}
	snap := &Snapshot{}
	pl := newPlanner(e.opts, st, snap)
	for _, id := range ids {
		pl.userChange(byID[id], st.users[id], targets)
	}
	rep.Plan = pl.finish()
	_, halt, err := e.execute(ctx, st, rep, ro)
	return rep, halt, err
}

// sourceUsers reads source users ids, each as a change carrying its whole
// state (Removed when the source no longer has it).
func (e *Engine) sourceUsers(ctx context.Context, ids []string) ([]UserChange, error) {
	users, err := e.src.Users(ctx, ids)
	if err != nil {
		return nil, fmt.Errorf("read mapped users: %w", err)
	}
	out := make([]UserChange, 0, len(ids))
	for _, id := range ids {
		u, ok := users[id]
		out = append(out, UserChange{ID: id, Removed: !ok, Enabled: ptr(!u.Disabled), Attrs: u.Attrs})
	}
	return out, nil
}

// userDeltaState loads what a users delta round needs: with all, every
// mapping; else the mappings of the changed users, by key, and of the
// groups those that are mapped are synced members of.
func (e *Engine) userDeltaState(ctx context.Context, changes []UserChange, all bool) (*state, error) {
	if all {
		return loadState(ctx, e.store)
	}
	ids := make([]string, len(changes))
	for i, ch := range changes {
		ids[i] = ch.ID
	}
	workers := e.opts.concurrency()
	st, err := loadStateOf(ctx, e.store, nil, ids, workers)
	if err != nil {
		return nil, err
	}
	var groups []string
	for _, ch := range changes {
		if um := st.users[ch.ID]; um.mapped() {
			groups = append(groups, um.Groups...)
		}
	}
	if err := st.loadGroups(ctx, groups, false, workers); err != nil {
		return nil, err
	}
	return st, nil
}

// mergeChange folds a later change of one user into an earlier one.
func mergeChange(a, b UserChange) UserChange {
	a.ID = b.ID
	a.Removed = a.Removed || b.Removed
	if b.Enabled != nil {
		a.Enabled = b.Enabled
	}
	for k, v := range b.Attrs {
		if a.Attrs == nil {
			a.Attrs = map[string]string{}
		}
		a.Attrs[k] = v
	}
	return a
}

// userChange plans one mapped user's change: removed from every mirror (and
// so deprovisioned) when deleted in the source, else its target user made
// to follow the changed properties.
func (pl *planner) userChange(ch UserChange, um *UserMapping, targets map[string]User) {
	if ch.Removed {
		for _, gid := range um.Groups {
			if m := pl.st.groups[gid]; m.live() {
				pl.p.Actions = append(pl.p.Actions, Action{Kind: ActRemoveMembers, Group: gid, GroupName: m.SourceName, Users: []string{um.TargetID}, Reason: "deleted in the source"})
			}
			pl.setRef(um.SourceID, gid, false)
		}
		return
	}
	tu, ok := targets[um.TargetID]
	if !ok {
		return // gone from the target: the next reconcile provisions it again
	}
	pl.targetUsers[tu.ID] = Member{ID: tu.ID, Type: TypeUser, Disabled: !tu.AccountEnabled, Attrs: tu.Attrs, Link: tu.Link}
	// What the round did not carry is taken as the target has it: only
	// what changed in the source is compared. Sign-in follows the source
	// when the round carried it, except that a user in no synced group
	// stays as deprovisioning left it.
	mem := Member{ID: um.SourceID, Type: TypeUser, Mail: um.Mail, Disabled: um.Disabled, Attrs: maps.Clone(tu.Attrs)}
	if mem.Attrs == nil {
		mem.Attrs = map[string]string{}
	}
	maps.Copy(mem.Attrs, ch.Attrs)
	if ch.Enabled != nil && (len(um.Groups) > 0 || !*ch.Enabled) {
		mem.Disabled = !*ch.Enabled
	}
	gid := ""
	if len(um.Groups) > 0 {
		gid = um.Groups[0]
	}
	pl.user(gid, mem, um)
}
