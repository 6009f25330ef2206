package engine

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"
)

// maxCreateBind is how many members a group create binds (Graph takes 20
// link changes per write).
const maxCreateBind = 20

// applier executes a plan, keeping the state and the audit log in step.
// Every Graph write is preceded by its intent, where a crash could lose
// what it made (an invitation, a group creation), and by a "started" audit
// entry; its outcome is audited as soon as it is known.
type applier struct {
	e    *Engine
	st   *state
	rep  *Report
	ro   RunOptions
	done int
	// bound are the source users bound at group creation, per group.
	bound map[string]map[string]bool
	// failedUsers are source users whose provisioning failed this run.
	failedUsers map[string]bool
	restored    []string
	// owners are the target users of the plan's enables, disables and
	// deletes, read once to check their link.
	owners map[string]User
}

// apply runs the plan's actions in order and returns the groups it restored
// from deleted items.
func (e *Engine) apply(ctx context.Context, st *state, rep *Report, ro RunOptions) []string {
	a := &applier{e: e, st: st, rep: rep, ro: ro, bound: map[string]map[string]bool{}, failedUsers: map[string]bool{}}
	refsWritten := false
	acts := rep.Plan.Actions
	for i := 0; i < len(acts); i++ {
		act := acts[i]
		if ctx.Err() != nil {
			a.result(ctx, act, "", ctx.Err(), nil)
			continue
		}
		if !refsWritten && actionOrder[act.Kind] >= actionOrder[ActEnableUser] {
			a.writeRefs(ctx)
			refsWritten = true
		}
		if act.Kind == ActInviteUser {
			j := i
			for j < len(acts) && acts[j].Kind == ActInviteUser {
				j++
			}
			a.invite(ctx, acts[i:j])
			i = j - 1
			continue
		}
		a.one(ctx, act)
	}
	if !refsWritten {
		a.writeRefs(ctx)
	}
	a.markSynced(ctx)
	return a.restored
}

// audit writes entries to the audit log now (a crash must not lose them).
func (a *applier) audit(ctx context.Context, entries ...AuditEntry) {
	if len(entries) == 0 {
		return
	}
	if err := a.e.store.AppendAudit(context.WithoutCancel(ctx), entries...); err != nil {
		a.e.log.Error("write audit", "entries", len(entries), "err", err)
		a.rep.Summary.Failures++
	}
}

// entries are the audit entries of act: one per user of a member action,
// else one.
func (a *applier) entries(act Action, target, outcome, detail string, failed map[string]error) []AuditEntry {
	now := a.e.clock.Now()
	if act.Kind == ActAddMembers || act.Kind == ActRemoveMembers {
		out := make([]AuditEntry, 0, len(act.Users))
		for _, u := range act.Users {
			o, d := outcome, detail
			if e, bad := failed[u]; bad {
				o, d = "failed", e.Error()
			}
			out = append(out, AuditEntry{Time: now, Run: a.rep.Run, Action: string(act.Kind), Group: act.Group, Source: u, Target: target, Outcome: o, Detail: d})
		}
		return out
	}
	src := act.User
	if src == "" {
		src = act.Group
	}
	return []AuditEntry{{Time: now, Run: a.rep.Run, Action: string(act.Kind), Group: act.Group, Source: src, Target: target, Outcome: outcome, Detail: detail}}
}

// begin writes the "started" audit entries of a Graph write before it is
// sent: if the process dies before the outcome is known, the audit still
// says what may have been applied.
func (a *applier) begin(ctx context.Context, act Action, target string) {
	a.audit(ctx, a.entries(act, target, OutcomeStarted, act.Reason, nil)...)
}

func (a *applier) result(ctx context.Context, act Action, target string, err error, failed map[string]error) {
	r := Result{Action: act, Outcome: OutcomeOK, Target: target}
	outcome, detail := OutcomeOK, act.Reason
	if err != nil {
		r.Outcome, r.Error = OutcomeFailed, err.Error()
		outcome, detail = OutcomeFailed, err.Error()
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
	a.audit(ctx, a.entries(act, target, outcome, detail, failed)...)
}

func (a *applier) one(ctx context.Context, act Action) {
	s := &a.rep.Summary
	switch act.Kind {
	case ActMatchUser:
		m := &UserMapping{SourceID: act.User, TargetID: act.Target, Mail: act.Mail, Provenance: Matched, Groups: a.rep.Plan.refs[act.User]}
		err := a.putUser(ctx, m)
		if err == nil {
			s.UsersMatched++
		} else {
			a.failedUsers[act.User] = true
		}
		a.result(ctx, act, act.Target, err, nil)
	case ActLinkUser:
		var err error
		if act.Link != "" {
			a.begin(ctx, act, act.Target)
			err = a.e.dst.UpdateUser(ctx, act.Target, UserUpdate{Link: act.Link, Attributes: act.Attrs})
		}
		if err == nil {
			err = a.putUser(ctx, &UserMapping{SourceID: act.User, TargetID: act.Target, Mail: act.Mail, Provenance: Created, Groups: a.rep.Plan.refs[act.User]})
		}
		if err == nil {
			s.UsersLinked++
		} else {
			a.failedUsers[act.User] = true
		}
		a.result(ctx, act, act.Target, err, nil)
	case ActRestoreGroup:
		a.restore(ctx, act)
	case ActAdoptGroup:
		m := a.st.groups[act.Group]
		if m == nil {
			m = &GroupMapping{SourceID: act.Group}
		}
		m.TargetID, m.SourceName, m.Pending = act.Target, act.GroupName, time.Time{}
		err := a.st.putGroup(ctx, m)
		if err == nil {
			s.GroupsAdopted++
		}
		a.result(ctx, act, act.Target, err, nil)
	case ActCreateGroup:
		a.create(ctx, act, "")
	case ActUpdateGroup:
		a.begin(ctx, act, act.Target)
		err := a.e.dst.UpdateGroup(ctx, act.Target, *act.Spec)
		if err == nil {
			s.GroupsUpdated++
			if m := a.st.groups[act.Group]; m != nil && m.SourceName != act.GroupName {
				m.SourceName = act.GroupName
				err = a.st.putGroup(ctx, m)
			}
		}
		a.result(ctx, act, act.Target, err, nil)
	case ActAddMembers:
		a.addMembers(ctx, act)
	case ActRemoveMembers:
		m := a.st.groups[act.Group]
		if !m.live() {
			a.result(ctx, act, "", fmt.Errorf("group %s has no target", act.Group), nil)
			return
		}
		a.begin(ctx, act, m.TargetID)
		failed, err := a.e.dst.RemoveMembers(ctx, m.TargetID, act.Users)
		if err == nil {
			s.MembersRemoved += len(act.Users) - len(failed)
		}
		a.result(ctx, act, m.TargetID, err, failed)
	case ActUpdateUser:
		um := a.st.users[act.User]
		err := a.owned(ctx, um)
		if err == nil {
			a.begin(ctx, act, um.TargetID)
			err = a.e.dst.UpdateUser(ctx, um.TargetID, UserUpdate{Attributes: act.Attrs})
		}
		if err == nil {
			s.UsersUpdated++
		}
		a.result(ctx, act, act.Target, err, nil)
	case ActEnableUser:
		a.setEnabled(ctx, act, true)
	case ActDeleteGroup:
		a.deleteGroup(ctx, act)
	case ActReleaseGroup:
		var err error
		if m := a.st.groups[act.Group]; m != nil {
			err = a.st.deleteGroup(ctx, m)
		}
		if err == nil {
			s.GroupsReleased++
		}
		a.result(ctx, act, act.Target, err, nil)
	case ActDeleteUser:
		a.deleteUser(ctx, act)
	case ActDisableUser:
		a.setEnabled(ctx, act, false)
	default:
		a.result(ctx, act, "", fmt.Errorf("unknown action %q", act.Kind), nil)
	}
}

// putUser saves a user mapping over the intent or mapping the state holds.
func (a *applier) putUser(ctx context.Context, m *UserMapping) error {
	if old := a.st.users[m.SourceID]; old != nil {
		m.Version = old.Version
	}
	return a.st.putUser(ctx, m)
}

// invite provisions the users of a run of invite-user actions: for each,
// the intent is saved, then the invitation sent; the invited users are read
// back (15 per request) to tell a user the invitation created from one
// that existed before it; a created user gets its link marker, then its
// mapping. A crash anywhere leaves an intent that the next run resolves
// the same way (re-inviting an address answers with the same user).
func (a *applier) invite(ctx context.Context, acts []Action) {
	type sent struct {
		act    Action
		target string
		intent UserMapping
	}
	var out []sent
	for _, act := range acts {
		if ctx.Err() != nil {
			a.result(ctx, act, "", ctx.Err(), nil)
			continue
		}
		m := a.st.users[act.User]
		intent := UserMapping{SourceID: act.User, Mail: act.Mail, DisplayName: act.Reason, Pending: a.e.clock.Now()}
		if m != nil {
			intent.Version = m.Version
			if !m.Pending.IsZero() {
				intent.Pending = m.Pending // the earliest intent decides
			}
		}
		if err := a.st.putUser(ctx, &intent); err != nil {
			a.failedUsers[act.User] = true
			a.result(ctx, act, "", err, nil)
			continue
		}
		a.begin(ctx, act, "")
		u, err := a.e.dst.Invite(ctx, Invitation{Email: act.Mail, DisplayName: act.Reason, UserType: a.e.opts.UserType, RedirectURL: a.e.opts.InviteRedirectURL})
		if err != nil {
			a.failedUsers[act.User] = true
			a.result(ctx, act, "", err, nil)
			continue
		}
		out = append(out, sent{act: act, target: u.ID, intent: intent})
	}
	if len(out) == 0 {
		return
	}
	ids := make([]string, len(out))
	for i, s := range out {
		ids[i] = s.target
	}
	users, err := a.e.dst.Users(ctx, ids)
	for _, s := range out {
		act := s.act
		if err != nil {
			a.failedUsers[act.User] = true
			a.result(ctx, act, s.target, fmt.Errorf("read invited user %s: %w", s.target, err), nil)
			continue
		}
		link := LinkValue(a.e.opts.SourceTenant, act.User)
		// A user the by-id read does not list yet was only just created.
		created, linked := true, false
		if u, ok := users[s.target]; ok {
			if IsLink(u.Link) && u.Link != link {
				a.failedUsers[act.User] = true
				a.result(ctx, act, s.target, fmt.Errorf("refused: the invitation answered with user %s, the mirror of another source user", s.target), nil)
				continue
			}
			created, linked = createdBy(u, link, s.intent.Pending)
		}
		var werr error
		m := &UserMapping{SourceID: act.User, TargetID: s.target, Mail: act.Mail, DisplayName: act.Reason, Provenance: Matched, Groups: a.rep.Plan.refs[act.User], Version: s.intent.Version}
		if created {
			m.Provenance = Created
			if !linked {
				werr = a.e.dst.UpdateUser(ctx, s.target, UserUpdate{Link: link, Attributes: act.Attrs})
			}
		}
		if werr == nil {
			werr = a.putUser(ctx, m)
		}
		switch {
		case werr != nil:
			a.failedUsers[act.User] = true
		case created:
			a.rep.Summary.UsersInvited++
		default:
			a.rep.Summary.UsersMatched++
			act.Reason = "the invitation answered with a user that existed before it: matched, never deleted or disabled"
		}
		a.result(ctx, act, s.target, werr, nil)
	}
}

// create creates the target group, binding the first members, and maps it.
// The intent is saved first: a later run that finds no mapping looks the
// mirror up by its mailNickname before creating again.
func (a *applier) create(ctx context.Context, act Action, oldTarget string) {
	spec := *act.Spec
	bound := map[string]bool{}
	var boundUsers []string
	for _, uid := range a.addsFor(act.Group) {
		if len(spec.Members) == maxCreateBind {
			break
		}
		if tid := a.targetUser(uid); tid != "" {
			spec.Members = append(spec.Members, tid)
			bound[uid] = true
			boundUsers = append(boundUsers, uid)
		}
	}
	m := a.st.groups[act.Group]
	if m == nil {
		m = &GroupMapping{SourceID: act.Group}
	}
	m.TargetID, m.SourceName, m.Pending = "", act.GroupName, a.e.clock.Now()
	err := a.st.putGroup(ctx, m)
	bind := Action{Kind: ActAddMembers, Group: act.Group, GroupName: act.GroupName, Users: boundUsers, Reason: "bound at creation"}
	var g Group
	if err == nil {
		a.begin(ctx, act, "")
		if len(boundUsers) > 0 {
			a.begin(ctx, bind, "")
		}
		g, err = a.e.dst.CreateGroup(ctx, spec)
	}
	if err == nil {
		m.TargetID, m.LastSync, m.Pending = g.ID, a.e.clock.Now(), time.Time{}
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
	a.result(ctx, Action{Kind: ActCreateGroup, Group: act.Group, GroupName: act.GroupName, Spec: act.Spec, Reason: act.Reason}, g.ID, err, nil)
	if err == nil && len(boundUsers) > 0 {
		a.audit(ctx, a.entries(bind, g.ID, OutcomeOK, bind.Reason, nil)...)
	}
}

func (a *applier) restore(ctx context.Context, act Action) {
	a.begin(ctx, act, act.Target)
	err := a.e.dst.RestoreGroup(ctx, act.Target)
	if errors.Is(err, ErrNotFound) {
		a.create(ctx, act, act.Target)
		if a.st.groups[act.Group].live() {
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
	a.result(ctx, act, act.Target, err, nil)
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
	if m := a.st.users[sourceUser]; m.mapped() {
		return m.TargetID
	}
	return ""
}

func (a *applier) addMembers(ctx context.Context, act Action) {
	m := a.st.groups[act.Group]
	if !m.live() {
		a.result(ctx, act, "", fmt.Errorf("group %s has no target (its creation failed)", act.Group), nil)
		return
	}
	failed := map[string]error{}
	var ids, users []string
	bySource := map[string]string{}
	for _, uid := range act.Users {
		if a.bound[act.Group][uid] {
			continue
		}
		users = append(users, uid)
		tid := a.targetUser(uid)
		if tid == "" {
			failed[uid] = errors.New("user not provisioned in the target")
			continue
		}
		ids = append(ids, tid)
		bySource[tid] = uid
	}
	act.Users = users
	if len(users) == 0 {
		return // all bound at creation, audited there
	}
	var err error
	if len(ids) > 0 {
		a.begin(ctx, act, m.TargetID)
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
	a.result(ctx, act, m.TargetID, err, failed)
}

// owned reads the target user of a created mapping and checks that it
// carries the mapping's link: the target, not only the state, must prove
// that xtsync created a user before it is disabled, enabled or deleted.
// A user without the link is downgraded to matched.
func (a *applier) owned(ctx context.Context, um *UserMapping) error {
	if um == nil || um.Provenance != Created {
		return errors.New("refused: the user was not created by xtsync")
	}
	link := LinkValue(a.e.opts.SourceTenant, um.SourceID)
	if a.owners == nil {
		// The users the plan's member reads returned carry their link;
		// the others are read once, 15 per request.
		a.owners = map[string]User{}
		var ids []string
		for _, act := range a.rep.Plan.Actions {
			m := a.st.users[act.User]
			if !m.mapped() || (act.Kind != ActUpdateUser && act.Kind != ActEnableUser && act.Kind != ActDisableUser && act.Kind != ActDeleteUser) {
				continue
			}
			if tu, read := a.rep.Plan.targets[m.TargetID]; read {
				a.owners[m.TargetID] = User{ID: tu.ID, Link: tu.Link}
			} else {
				ids = append(ids, m.TargetID)
			}
		}
		if len(ids) > 0 {
			users, err := a.e.dst.Users(ctx, slices.Compact(slices.Sorted(slices.Values(ids))))
			if err != nil {
				a.owners = nil
				return fmt.Errorf("read users to change: %w", err)
			}
			maps.Copy(a.owners, users)
		}
	}
	u, ok := a.owners[um.TargetID]
	if !ok {
		return fmt.Errorf("user %s: %w", um.TargetID, ErrNotFound)
	}
	if u.Link != link {
		um.Provenance = Matched
		if err := a.st.putUser(ctx, um); err != nil {
			a.e.log.Warn("downgrade user mapping", "user", um.SourceID, "err", err)
		}
		return fmt.Errorf("refused: user %s does not carry xtsync's link marker; treated as matched from now on", um.TargetID)
	}
	return nil
}

func (a *applier) setEnabled(ctx context.Context, act Action, enabled bool) {
	um := a.st.users[act.User]
	err := a.owned(ctx, um)
	if err == nil {
		a.begin(ctx, act, um.TargetID)
		err = a.e.dst.SetAccountEnabled(ctx, um.TargetID, enabled)
	}
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
	a.result(ctx, act, act.Target, err, nil)
}

func (a *applier) deleteUser(ctx context.Context, act Action) {
	um := a.st.users[act.User]
	err := a.owned(ctx, um)
	if errors.Is(err, ErrNotFound) {
		err = a.st.deleteUser(ctx, um) // already gone
	} else if err == nil {
		a.begin(ctx, act, um.TargetID)
		err = a.e.dst.DeleteUser(ctx, um.TargetID)
		if errors.Is(err, ErrNotFound) {
			err = nil
		}
		if err == nil {
			err = a.st.deleteUser(ctx, um)
		}
		if err == nil {
			a.rep.Summary.UsersDeleted++
		}
	}
	a.result(ctx, act, act.Target, err, nil)
}

// deleteGroup deletes a mirror: a mapped group whose source is gone or
// unscoped, or a duplicate mirror. The group must still carry the
// mailNickname of its source group.
func (a *applier) deleteGroup(ctx context.Context, act Action) {
	gs, err := a.e.dst.Groups(ctx, []string{act.Target})
	g, live := gs[act.Target]
	switch {
	case err != nil:
		err = fmt.Errorf("read group %s: %w", act.Target, err)
	case live && !strings.EqualFold(g.MailNickname, TargetNickname(act.Group)):
		err = fmt.Errorf("refused: group %s has mailNickname %q, not the mirror's %q", act.Target, g.MailNickname, TargetNickname(act.Group))
	case live:
		a.begin(ctx, act, act.Target)
		err = a.e.dst.DeleteGroup(ctx, act.Target)
		if errors.Is(err, ErrNotFound) {
			err = nil
		}
	}
	if m := a.st.groups[act.Group]; err == nil && m != nil && m.TargetID == act.Target {
		err = a.st.deleteGroup(ctx, m)
	}
	if err == nil {
		a.rep.Summary.GroupsDeleted++
	}
	a.result(ctx, act, act.Target, err, nil)
}

// writeRefs records each changed user's synced groups.
func (a *applier) writeRefs(ctx context.Context) {
	for _, uid := range slices.Sorted(maps.Keys(a.rep.Plan.refs)) {
		um := a.st.users[uid]
		refs := a.rep.Plan.refs[uid]
		if !um.mapped() || slices.Equal(um.Groups, refs) {
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
		if !m.live() {
			continue
		}
		m.LastSync, m.Members = now, a.rep.Plan.synced[gid]
		if err := a.st.putGroup(ctx, m); err != nil {
			a.e.log.Warn("save group sync time", "group", gid, "err", err)
		}
	}
}
