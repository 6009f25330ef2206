package engine

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
)

// maxCreateBind is how many members a group create binds (Graph takes 20
// link changes per write).
const maxCreateBind = 20

// applier executes a plan, keeping the state and the audit log in step.
type applier struct {
	e    *Engine
	st   *state
	rep  *Report
	ro   RunOptions
	done int
	// bound are the target user ids bound at group creation, per group.
	bound map[string]map[string]bool
	// failedUsers are source users whose provisioning failed this run.
	failedUsers map[string]bool
	restored    []string
	audit       []AuditEntry
}

// apply runs the plan's actions in order and returns the groups it restored
// from deleted items.
func (e *Engine) apply(ctx context.Context, st *state, rep *Report, ro RunOptions) []string {
	a := &applier{e: e, st: st, rep: rep, ro: ro, bound: map[string]map[string]bool{}, failedUsers: map[string]bool{}}
	refsWritten := false
	for _, act := range rep.Plan.Actions {
		if ctx.Err() != nil {
			a.result(act, "", ctx.Err(), nil)
			continue
		}
		if !refsWritten && actionOrder[act.Kind] >= actionOrder[ActEnableUser] {
			a.writeRefs(ctx)
			refsWritten = true
		}
		a.one(ctx, act)
	}
	if !refsWritten {
		a.writeRefs(ctx)
	}
	a.markSynced(ctx)
	if len(a.audit) > 0 {
		if err := e.store.AppendAudit(context.WithoutCancel(ctx), a.audit...); err != nil {
			e.log.Error("write audit", "err", err)
			rep.Summary.Failures++
		}
	}
	return a.restored
}

func (a *applier) result(act Action, target string, err error, failed map[string]error) {
	r := Result{Action: act, Outcome: "ok", Target: target}
	outcome, detail := "ok", act.Reason
	if err != nil {
		r.Outcome, r.Error = "failed", err.Error()
		outcome, detail = "failed", err.Error()
		a.rep.Summary.Failures++
		a.e.log.Warn("action failed", "action", act.Kind, "group", act.Group, "user", act.User, "err", err)
	}
	if len(failed) > 0 {
		r.Failed = map[string]string{}
		for k, v := range failed {
			r.Failed[k] = v.Error()
		}
		a.rep.Summary.Failures += len(failed)
	}
	a.rep.Results = append(a.rep.Results, r)
	a.done++
	a.ro.progress("apply", a.done, len(a.rep.Plan.Actions))
	now := a.e.clock.Now()
	if act.Kind == ActAddMembers || act.Kind == ActRemoveMembers {
		for _, u := range act.Users {
			o, d := outcome, detail
			if e, bad := failed[u]; bad {
				o, d = "failed", e.Error()
			}
			a.audit = append(a.audit, AuditEntry{Time: now, Run: a.rep.Run, Action: string(act.Kind), Group: act.Group, Source: u, Target: target, Outcome: o, Detail: d})
		}
		return
	}
	src := act.User
	if src == "" {
		src = act.Group
	}
	a.audit = append(a.audit, AuditEntry{Time: now, Run: a.rep.Run, Action: string(act.Kind), Group: act.Group, Source: src, Target: target, Outcome: outcome, Detail: detail})
}

func (a *applier) one(ctx context.Context, act Action) {
	s := &a.rep.Summary
	switch act.Kind {
	case ActMatchUser:
		m := &UserMapping{SourceID: act.User, TargetID: act.Target, Mail: act.Mail, Provenance: Matched, Groups: a.rep.Plan.refs[act.User]}
		err := a.st.putUser(ctx, m)
		if err == nil {
			s.UsersMatched++
		} else {
			a.failedUsers[act.User] = true
		}
		a.result(act, act.Target, err, nil)
	case ActInviteUser:
		u, err := a.e.dst.Invite(ctx, Invitation{Email: act.Mail, DisplayName: act.Reason, UserType: a.e.opts.UserType, RedirectURL: a.e.opts.InviteRedirectURL})
		if err == nil {
			err = a.st.putUser(ctx, &UserMapping{SourceID: act.User, TargetID: u.ID, Mail: act.Mail, DisplayName: act.Reason, Provenance: Created, Groups: a.rep.Plan.refs[act.User]})
		}
		if err == nil {
			s.UsersInvited++
		} else {
			a.failedUsers[act.User] = true
		}
		a.result(act, u.ID, err, nil)
	case ActRestoreGroup:
		a.restore(ctx, act)
	case ActCreateGroup:
		a.create(ctx, act, "")
	case ActUpdateGroup:
		err := a.e.dst.UpdateGroup(ctx, act.Target, *act.Spec)
		if err == nil {
			s.GroupsUpdated++
			if m := a.st.groups[act.Group]; m != nil && m.SourceName != act.GroupName {
				m.SourceName = act.GroupName
				err = a.st.putGroup(ctx, m)
			}
		}
		a.result(act, act.Target, err, nil)
	case ActAddMembers:
		a.addMembers(ctx, act)
	case ActRemoveMembers:
		m := a.st.groups[act.Group]
		if m == nil {
			a.result(act, "", fmt.Errorf("group %s has no target", act.Group), nil)
			return
		}
		failed, err := a.e.dst.RemoveMembers(ctx, m.TargetID, act.Users)
		if err == nil {
			s.MembersRemoved += len(act.Users) - len(failed)
		}
		a.result(act, m.TargetID, err, failed)
	case ActEnableUser:
		a.setEnabled(ctx, act, true)
	case ActDeleteGroup:
		m := a.st.groups[act.Group]
		err := a.e.dst.DeleteGroup(ctx, act.Target)
		if errors.Is(err, ErrNotFound) {
			err = nil
		}
		if err == nil && m != nil {
			err = a.st.deleteGroup(ctx, m)
		}
		if err == nil {
			s.GroupsDeleted++
		}
		a.result(act, act.Target, err, nil)
	case ActReleaseGroup:
		var err error
		if m := a.st.groups[act.Group]; m != nil {
			err = a.st.deleteGroup(ctx, m)
		}
		if err == nil {
			s.GroupsReleased++
		}
		a.result(act, act.Target, err, nil)
	case ActDeleteUser:
		a.deleteUser(ctx, act)
	case ActDisableUser:
		a.setEnabled(ctx, act, false)
	default:
		a.result(act, "", fmt.Errorf("unknown action %q", act.Kind), nil)
	}
}

// create creates the target group, binding the first members, and maps it.
func (a *applier) create(ctx context.Context, act Action, oldTarget string) {
	spec := *act.Spec
	bound := map[string]bool{}
	for _, uid := range a.addsFor(act.Group) {
		if len(spec.Members) == maxCreateBind {
			break
		}
		if tid := a.targetUser(uid); tid != "" {
			spec.Members = append(spec.Members, tid)
			bound[uid] = true
		}
	}
	g, err := a.e.dst.CreateGroup(ctx, spec)
	if err == nil {
		m := a.st.groups[act.Group]
		if m == nil {
			m = &GroupMapping{SourceID: act.Group}
		}
		m.TargetID, m.SourceName, m.LastSync = g.ID, act.GroupName, a.e.clock.Now()
		err = a.st.putGroup(ctx, m)
	}
	if err == nil {
		a.bound[act.Group] = bound
		a.rep.Summary.GroupsCreated++
		a.rep.Summary.MembersAdded += len(bound)
	}
	if oldTarget != "" {
		act.Reason = fmt.Sprintf("%s; %s is gone from deleted items, recreated", act.Reason, oldTarget)
	}
	a.result(Action{Kind: ActCreateGroup, Group: act.Group, GroupName: act.GroupName, Spec: act.Spec, Reason: act.Reason}, g.ID, err, nil)
}

func (a *applier) restore(ctx context.Context, act Action) {
	err := a.e.dst.RestoreGroup(ctx, act.Target)
	if errors.Is(err, ErrNotFound) {
		a.create(ctx, act, act.Target)
		if _, ok := a.st.groups[act.Group]; ok {
			a.restored = append(a.restored, act.Group) // sync its members next
		}
		return
	}
	if err == nil {
		err = a.e.dst.UpdateGroup(ctx, act.Target, *act.Spec)
	}
	if err == nil {
		a.rep.Summary.GroupsRestored++
		a.restored = append(a.restored, act.Group)
	}
	a.result(act, act.Target, err, nil)
}

// addsFor returns the source users an add-members action of group gid adds.
func (a *applier) addsFor(gid string) []string {
	for _, act := range a.rep.Plan.Actions {
		if act.Kind == ActAddMembers && act.Group == gid {
			return act.Users
		}
	}
	return nil
}

func (a *applier) targetUser(sourceUser string) string {
	if a.failedUsers[sourceUser] {
		return ""
	}
	if m := a.st.users[sourceUser]; m != nil {
		return m.TargetID
	}
	return ""
}

func (a *applier) addMembers(ctx context.Context, act Action) {
	m := a.st.groups[act.Group]
	if m == nil {
		a.result(act, "", fmt.Errorf("group %s has no target (its creation failed)", act.Group), nil)
		return
	}
	failed := map[string]error{}
	var ids []string
	bySource := map[string]string{}
	for _, uid := range act.Users {
		if a.bound[act.Group][uid] {
			continue
		}
		tid := a.targetUser(uid)
		if tid == "" {
			failed[uid] = errors.New("user not provisioned in the target")
			continue
		}
		ids = append(ids, tid)
		bySource[tid] = uid
	}
	var err error
	if len(ids) > 0 {
		var bad map[string]error
		bad, err = a.e.dst.AddMembers(ctx, m.TargetID, ids)
		for tid, e := range bad {
			failed[bySource[tid]] = e
			// A mapped user the target no longer has: forget the mapping so
			// the next run provisions it again.
			if errors.Is(e, ErrNotFound) {
				if um := a.st.users[bySource[tid]]; um != nil {
					if derr := a.st.deleteUser(ctx, um); derr != nil {
						a.e.log.Warn("forget stale user mapping", "user", um.SourceID, "err", derr)
					}
				}
			}
		}
		if err == nil {
			a.rep.Summary.MembersAdded += len(ids) - len(bad)
		}
	}
	a.result(act, m.TargetID, err, failed)
}

func (a *applier) setEnabled(ctx context.Context, act Action, enabled bool) {
	um := a.st.users[act.User]
	if um == nil || um.Provenance != Created {
		a.result(act, act.Target, fmt.Errorf("refused: user %s was not created by xtsync", act.Target), nil)
		return
	}
	err := a.e.dst.SetAccountEnabled(ctx, um.TargetID, enabled)
	if err == nil {
		um.Disabled = !enabled
		err = a.st.putUser(ctx, um)
	}
	if err == nil {
		if enabled {
			a.rep.Summary.UsersEnabled++
		} else {
			a.rep.Summary.UsersDisabled++
		}
	}
	a.result(act, um.TargetID, err, nil)
}

func (a *applier) deleteUser(ctx context.Context, act Action) {
	um := a.st.users[act.User]
	if um == nil || um.Provenance != Created {
		a.result(act, act.Target, fmt.Errorf("refused: user %s was not created by xtsync", act.Target), nil)
		return
	}
	err := a.e.dst.DeleteUser(ctx, um.TargetID)
	if errors.Is(err, ErrNotFound) {
		err = nil
	}
	if err == nil {
		err = a.st.deleteUser(ctx, um)
	}
	if err == nil {
		a.rep.Summary.UsersDeleted++
	}
	a.result(act, um.TargetID, err, nil)
}

// writeRefs records each changed user's synced groups.
func (a *applier) writeRefs(ctx context.Context) {
	for _, uid := range slices.Sorted(maps.Keys(a.rep.Plan.refs)) {
		um := a.st.users[uid]
		refs := a.rep.Plan.refs[uid]
		if um == nil || slices.Equal(um.Groups, refs) {
			continue
		}
		um.Groups = slices.Clone(refs)
		if err := a.st.putUser(ctx, um); err != nil {
			a.e.log.Warn("save user groups", "user", uid, "err", err)
			a.rep.Summary.Failures++
		}
	}
}

// markSynced records the last sync time and member count of synced groups.
func (a *applier) markSynced(ctx context.Context) {
	now := a.e.clock.Now()
	for _, gid := range slices.Sorted(maps.Keys(a.rep.Plan.synced)) {
		m := a.st.groups[gid]
		if m == nil {
			continue
		}
		m.LastSync, m.Members = now, a.rep.Plan.synced[gid]
		if err := a.st.putGroup(ctx, m); err != nil {
			a.e.log.Warn("save group sync time", "group", gid, "err", err)
		}
	}
}
