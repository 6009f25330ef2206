package engine

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"
)

// readChunk is how many users one by-id read asks for (Graph's normal
// directory queries take 15 "in" values); the applier sends the chunks of
// one read concurrently.
const readChunk = 15

// maxCreateBind is how many members a group create binds (Graph takes 20
// link changes per write).
const maxCreateBind = 20

// applier executes a plan, keeping the state and the audit log in step.
// Every Graph write is preceded by its intent, where a crash could lose
// what it made (an invitation, a group creation), and by a "started" audit
// entry; its outcome is audited as soon as it is known.
//
// Independent actions run concurrently (see waves): mu guards everything
// the applier and the state hold, and is held by whichever action runs,
// except while it waits on Graph or the audit log (io). So the state code
// runs one action at a time, as it was written, and up to
// Options.WriteConcurrency requests are in flight.
type applier struct {
	e    *Engine
	st   *state
	rep  *Report
	ro   RunOptions
	mu   sync.Mutex
	done int
	// bound are the source users bound at group creation, per group.
	bound map[string]map[string]bool
	// failedUsers are source users whose provisioning failed this run.
	failedUsers map[string]bool
	restored    []string
	// owners are the target users of the plan's enables, disables and
	// deletes, read once (loadOwners) to check their link; ownersErr is
	// why that read failed.
	owners    map[string]User
	ownersErr error
	// sources indexes the mapped source users by target id (sourceOf).
	sources map[string]string
}

// io runs f, a Graph request or an audit write, with mu released, so that
// other actions proceed meanwhile. Call it with mu held.
func (a *applier) io(f func()) {
	a.mu.Unlock()
	defer a.mu.Lock()
	f()
}

// apply runs the plan's actions, wave by wave (see waves), and returns the
// groups it restored from deleted items.
func (e *Engine) apply(ctx context.Context, st *state, rep *Report, ro RunOptions) []string {
	a := &applier{e: e, st: st, rep: rep, ro: ro, bound: map[string]map[string]bool{}, failedUsers: map[string]bool{}}
	a.mu.Lock()
	defer a.mu.Unlock()
	refsWritten := false
	for _, w := range waves(rep.Plan.Actions) {
		if !refsWritten && actionOrder[w[0].Kind] >= actionOrder[ActEnableUser] {
			a.writeRefs(ctx)
			refsWritten = true
		}
		if needsOwners(w) {
			a.loadOwners(ctx)
		}
		a.wave(ctx, w)
	}
	if !refsWritten {
		a.writeRefs(ctx)
	}
	a.recordEcho(ctx)
	a.recordUserEcho(ctx)
	a.markSynced(ctx)
	// Results in the plan's order, whatever order the actions finished in.
	sort.SliceStable(rep.Results, func(i, j int) bool { return actionLess(rep.Results[i].Action, rep.Results[j].Action) })
	return a.restored
}

// wave runs one wave: its invitations together (invite), the other
// actions by key, each key's actions in order, keys concurrently. Call it
// with mu held.
func (a *applier) wave(ctx context.Context, w []Action) {
	var invites []Action
	byKey := map[string][]Action{}
	var keys []string
	for _, act := range w {
		if act.Kind == ActInviteUser {
			invites = append(invites, act)
			continue
		}
		k := actionKey(act)
		if _, seen := byKey[k]; !seen {
			keys = append(keys, k)
		}
		byKey[k] = append(byKey[k], act)
	}
	if len(invites) > 0 {
		a.invite(ctx, invites)
	}
	a.parallel(len(keys), func(i int) {
		for _, act := range byKey[keys[i]] {
			if ctx.Err() != nil {
				a.result(ctx, act, "", ctx.Err(), nil)
				continue
			}
			a.one(ctx, act)
		}
	})
}

// parallel runs f(0) to f(n-1), at most Options.WriteConcurrency at once,
// each with mu held (released only in io), and returns when all are done.
// Call it with mu held.
func (a *applier) parallel(n int, f func(i int)) {
	if n == 0 {
		return
	}
	a.mu.Unlock()
	defer a.mu.Lock()
	sem := make(chan struct{}, a.e.opts.writeConcurrency())
	var wg sync.WaitGroup
	for i := range n {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			a.mu.Lock()
			defer a.mu.Unlock()
			f(i)
		}()
	}
	wg.Wait()
}

// waves splits a sorted plan at the points where later actions depend on
// earlier ones: users are provisioned before groups bind or add them,
// groups exist before their members change, and user enables, deletes and
// disables and group deletes come last (after the users' group references
// are written). Within a wave, actions of different keys are independent.
func waves(acts []Action) [][]Action {
	stage := func(k ActionKind) int {
		switch o := actionOrder[k]; {
		case o <= actionOrder[ActInviteUser]:
			return 0
		case o <= actionOrder[ActUpdateUser]:
			return 1
		case o <= actionOrder[ActRemoveMembers]:
			return 2
		default:
			return 3
		}
	}
	var out [][]Action
	for i := 0; i < len(acts); {
		j := i + 1
		for j < len(acts) && stage(acts[j].Kind) == stage(acts[i].Kind) {
			j++
		}
		out = append(out, acts[i:j])
		i = j
	}
	return out
}

// actionKey is what an action must not run concurrently with: its group's
// other actions, or its user's.
func actionKey(act Action) string {
	switch act.Kind {
	case ActMatchUser, ActLinkUser, ActInviteUser, ActUpdateUser, ActEnableUser, ActDeleteUser, ActDisableUser:
		return "user:" + act.User
	}
	return "group:" + act.Group
}

// needsOwners reports whether a wave changes users xtsync created, whose
// link must be read first (owned).
func needsOwners(w []Action) bool {
	for _, act := range w {
		switch act.Kind {
		case ActUpdateUser, ActEnableUser, ActDisableUser, ActDeleteUser:
			return true
		}
	}
	return false
}

// audit writes entries to the audit log now (a crash must not lose them).
func (a *applier) audit(ctx context.Context, entries ...AuditEntry) {
	if len(entries) == 0 {
		return
	}
	var err error
	a.io(func() { err = a.e.store.AppendAudit(context.WithoutCancel(ctx), entries...) })
	if err != nil {
		a.e.log.Error("write audit", "entries", len(entries), "err", err)
		a.rep.Summary.Failures++
	}
}

// entries are the audit entries of act: one per user of a member action,
// else one. target is the action's target object; a member action's
// entries name each member's target user instead (see AuditEntry).
func (a *applier) entries(act Action, target, outcome, detail string, failed map[string]error) []AuditEntry {
	base := AuditEntry{
		Time: a.e.clock.Now(), Run: a.rep.Run, Trigger: a.ro.Trigger, Action: string(act.Kind),
		Group: act.Group, GroupName: a.groupName(act), Outcome: outcome, Detail: detail,
	}
	switch {
	case act.Kind == ActAddMembers || act.Kind == ActRemoveMembers:
		out := make([]AuditEntry, 0, len(act.Users))
		for _, u := range act.Users {
			e := base
			if act.Kind == ActAddMembers {
				e.Source = u
				if um := a.st.users[u]; um.mapped() {
					e.Target = um.TargetID
				}
			} else {
				e.Source, e.Target = a.sourceOf(u), u
			}
			a.userNames(&e, act)
			if err, bad := failed[u]; bad {
				e.Outcome, e.Detail = OutcomeFailed, err.Error()
			}
			out = append(out, e)
		}
		return out
	case act.User != "":
		e := base
		e.Source, e.Target = act.User, target
		a.userNames(&e, act)
		return []AuditEntry{e}
	}
	e := base
	e.Source, e.SourceName, e.Target = act.Group, base.GroupName, target
	if act.Spec != nil {
		e.TargetName = act.Spec.DisplayName
	} else {
		e.TargetName = act.TargetName
	}
	return []AuditEntry{e}
}

// groupName is the source group's display name as act or the state
// knows it.
func (a *applier) groupName(act Action) string {
	if act.GroupName != "" || act.Group == "" {
		return act.GroupName
	}
	if m := a.st.groups[act.Group]; m != nil {
		return m.SourceName
	}
	return ""
}

// userNames names e's users from what act and the state know (never a
// read): the source user's display name, else its mail address, and the
// address its target user was matched or invited by; a target user that
// maps no source user is named by its address as the plan read it.
func (a *applier) userNames(e *AuditEntry, act Action) {
	if e.Source == "" {
		if tu, read := a.rep.Plan.targets[e.Target]; read {
			e.TargetName = cmp.Or(tu.Mail, tu.UserPrincipalName, tu.DisplayName)
		}
		return
	}
	var name, mail string
	if e.Source == act.User {
		name, mail = act.UserName, act.Mail
	}
	if um := a.st.users[e.Source]; um != nil {
		name, mail = cmp.Or(name, um.DisplayName), cmp.Or(mail, um.Mail)
	}
	e.SourceName, e.TargetName = cmp.Or(name, mail), mail
}

// sourceOf returns the source user mapped to target user tid ("" when
// none), from an index of the state's mappings built on first use (by
// the first removal: the users a run provisions are not among those it
// removes).
func (a *applier) sourceOf(tid string) string {
	if a.sources == nil {
		a.sources = make(map[string]string, len(a.st.users))
		for sid, um := range a.st.users {
			if um.mapped() {
				a.sources[um.TargetID] = sid
			}
		}
	}
	return a.sources[tid]
}

// begin writes the "started" audit entries of a Graph write before it is
// sent: if the process dies before the outcome is known, the audit still
// says what may have been applied.
func (a *applier) begin(ctx context.Context, act Action, target string) {
	a.audit(ctx, a.entries(act, target, OutcomeStarted, act.Reason, nil)...)
}

// settle audits a user provisioned on the target (invited, or linked) as
// ok, then saves its mapping with save; a save that fails turns the
// result into a failure, audited too. The ok entry comes first: writes of
// other actions run meanwhile, so a crash can land between the two, and
// then the next run finds the user by its link and saves the mapping
// again, while the audit already names the user the run made.
func (a *applier) settle(ctx context.Context, act Action, target string, save func() error) error {
	i := a.result(ctx, act, target, nil, nil)
	err := save()
	if err != nil {
		r := &a.rep.Results[i]
		r.Outcome, r.Error = OutcomeFailed, err.Error()
		a.rep.Summary.Failures++
		a.e.log.Warn("action failed", "action", act.Kind, "group", act.Group, "user", act.User, "err", err)
		a.audit(ctx, a.entries(act, target, OutcomeFailed, err.Error(), nil)...)
	}
	return err
}

// result records act's outcome in the report and the audit log, and
// returns the index of its Result.
func (a *applier) result(ctx context.Context, act Action, target string, err error, failed map[string]error) int {
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
	i := len(a.rep.Results) - 1
	a.progressed()
	a.audit(ctx, a.entries(act, target, outcome, detail, failed)...)
	return i
}

// progressed counts one more action of the plan done, for the progress
// callback. Call with mu held.
func (a *applier) progressed() {
	a.done++
	a.ro.progress("apply", a.done, len(a.rep.Plan.Actions))
}

func (a *applier) one(ctx context.Context, act Action) {
	s := &a.rep.Summary
	switch act.Kind {
	case ActMatchUser:
		m := &UserMapping{SourceID: act.User, TargetID: act.Target, Mail: act.Mail, DisplayName: act.UserName, Provenance: Matched, Groups: a.rep.Plan.refs[act.User]}
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
			a.io(func() { err = a.e.dst.UpdateUser(ctx, act.Target, UserUpdate{Link: act.Link, Attributes: act.Attrs}) })
		}
		if err != nil {
			a.failedUsers[act.User] = true
			a.result(ctx, act, act.Target, err, nil)
			return
		}
		err = a.settle(ctx, act, act.Target, func() error {
			return a.putUser(ctx, &UserMapping{SourceID: act.User, TargetID: act.Target, Mail: act.Mail, DisplayName: act.UserName, Provenance: Created, Groups: a.rep.Plan.refs[act.User]})
		})
		if err == nil {
			s.UsersLinked++
		} else {
			a.failedUsers[act.User] = true
		}
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
		var err error
		a.io(func() { err = a.e.dst.UpdateGroup(ctx, act.Target, *act.Spec) })
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
		var failed map[string]error
		var err error
		a.io(func() { failed, err = a.e.dst.RemoveMembers(ctx, m.TargetID, act.Users) })
		if err == nil {
			s.MembersRemoved += len(act.Users) - len(failed)
		}
		a.result(ctx, act, m.TargetID, err, failed)
	case ActUpdateUser:
		um := a.st.users[act.User]
		err := a.owned(ctx, um)
		if err == nil {
			a.begin(ctx, act, um.TargetID)
			a.io(func() { err = a.e.dst.UpdateUser(ctx, um.TargetID, UserUpdate{Attributes: act.Attrs}) })
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

// invite provisions the users of a wave's invite-user actions: for each,
// the intent is saved, then the invitation sent; the invited users are read
// back (readChunk per request) to tell a user the invitation created from
// one that existed before it; a created user gets its link marker, then its
// mapping. Each step runs concurrently over the users. A crash anywhere
// leaves an intent that the next run resolves the same way (re-inviting an
// address answers with the same user). Call it with mu held.
func (a *applier) invite(ctx context.Context, acts []Action) {
	type sent struct {
		act    Action
		target string
		intent UserMapping
		// found and user are the invited user as the read-back saw it.
		found bool
		user  User
	}
	out := make([]*sent, len(acts))
	a.parallel(len(acts), func(i int) {
		act := acts[i]
		if ctx.Err() != nil {
			a.result(ctx, act, "", ctx.Err(), nil)
			return
		}
		m := a.st.users[act.User]
		intent := UserMapping{SourceID: act.User, Mail: act.Mail, DisplayName: act.UserName, Pending: a.e.clock.Now()}
		if m != nil {
			intent.Version = m.Version
			if !m.Pending.IsZero() {
				intent.Pending = m.Pending // the earliest intent decides
			}
		}
		if err := a.st.putUser(ctx, &intent); err != nil {
			a.failedUsers[act.User] = true
			a.result(ctx, act, "", err, nil)
			return
		}
		a.begin(ctx, act, "")
		var u User
		var err error
		a.io(func() {
			u, err = a.e.dst.Invite(ctx, Invitation{Email: act.Mail, DisplayName: act.UserName, UserType: a.e.opts.UserType, RedirectURL: a.e.opts.InviteRedirectURL})
		})
		if err != nil {
			a.failedUsers[act.User] = true
			a.result(ctx, act, "", err, nil)
			return
		}
		out[i] = &sent{act: act, target: u.ID, intent: intent}
	})
	var invited []*sent
	for _, s := range out {
		if s != nil {
			invited = append(invited, s)
		}
	}
	ids := make([]string, len(invited))
	for i, s := range invited {
		ids[i] = s.target
	}
	users, unread := a.readUsers(ctx, ids)
	for _, s := range invited {
		if err := unread[s.target]; err != nil {
			a.failedUsers[s.act.User] = true
			a.result(ctx, s.act, s.target, fmt.Errorf("read invited user %s: %w", s.target, err), nil)
			s.target = ""
			continue
		}
		if u, ok := users[s.target]; ok {
			s.found, s.user = true, u
		}
	}
	a.parallel(len(invited), func(i int) {
		s := invited[i]
		if s.target == "" {
			return // its read failed, reported
		}
		act := s.act
		link := LinkValue(a.e.opts.SourceTenant, act.User)
		// A user the by-id read does not list yet was only just created.
		created, linked := true, false
		if s.found {
			u := s.user
			if IsLink(u.Link) && u.Link != link {
				a.failedUsers[act.User] = true
				a.result(ctx, act, s.target, fmt.Errorf("refused: the invitation answered with user %s, the mirror of another source user", s.target), nil)
				return
			}
			created, linked = createdBy(u, link, s.intent.Pending)
		}
		var werr error
		m := &UserMapping{SourceID: act.User, TargetID: s.target, Mail: act.Mail, DisplayName: act.UserName, Provenance: Matched, Groups: a.rep.Plan.refs[act.User], Version: s.intent.Version}
		if created {
			m.Provenance = Created
			if !linked {
				a.io(func() { werr = a.e.dst.UpdateUser(ctx, s.target, UserUpdate{Link: link, Attributes: act.Attrs}) })
			}
		}
		if werr != nil {
			a.failedUsers[act.User] = true
			a.result(ctx, act, s.target, werr, nil)
			return
		}
		if !created {
			act.Reason = "the invitation answered with a user that existed before it: matched, never deleted or disabled"
		}
		if err := a.settle(ctx, act, s.target, func() error { return a.putUser(ctx, m) }); err != nil {
			a.failedUsers[act.User] = true
			return
		}
		if created {
			a.rep.Summary.UsersInvited++
		} else {
			a.rep.Summary.UsersMatched++
		}
	})
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
		a.io(func() { g, err = a.e.dst.CreateGroup(ctx, spec) })
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
	var err error
	a.io(func() { err = a.e.dst.RestoreGroup(ctx, act.Target) })
	if errors.Is(err, ErrNotFound) {
		a.create(ctx, act, act.Target)
		if a.st.groups[act.Group].live() {
			a.restored = append(a.restored, act.Group) // sync its members next
		}
		return
	}
	if err == nil {
		a.io(func() { err = a.e.dst.UpdateGroup(ctx, act.Target, *act.Spec) })
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
		a.progressed() // all bound at creation, audited there
		return
	}
	var err error
	if len(ids) > 0 {
		a.begin(ctx, act, m.TargetID)
		var bad map[string]error
		a.io(func() { bad, err = a.e.dst.AddMembers(ctx, m.TargetID, ids) })
		for tid, e := range bad {
			failed[bySource[tid]] = e
		}
		if err == nil {
			a.rep.Summary.MembersAdded += len(ids) - len(bad)
		}
	}
	a.result(ctx, act, m.TargetID, err, failed)
	// A mapped user the target no longer has: forget the mapping (after
	// the audit named its target user) so the next run provisions it
	// again.
	for uid, e := range failed {
		if um := a.st.users[uid]; um != nil && errors.Is(e, ErrNotFound) {
			if derr := a.st.deleteUser(ctx, um); derr != nil {
				a.e.log.Warn("forget stale user mapping", "user", um.SourceID, "err", derr)
			}
		}
	}
}

// loadOwners reads, once, the target users of the plan's attribute
// updates, enables, disables and deletes, so that owned can check their
// link: the users the plan's member reads returned carry their link; the
// others are read readChunk per request, concurrently. Call it with mu
// held.
func (a *applier) loadOwners(ctx context.Context) {
	if a.owners != nil {
		return
	}
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
	users, unread := a.readUsers(ctx, slices.Compact(slices.Sorted(slices.Values(ids))))
	for _, err := range unread {
		a.ownersErr = fmt.Errorf("read users to change: %w", err)
		return
	}
	maps.Copy(a.owners, users)
}

// readUsers reads target users by id, readChunk per request, the requests
// concurrently; unread maps the ids of the requests that failed to their
// error. Call it with mu held.
func (a *applier) readUsers(ctx context.Context, ids []string) (users map[string]User, unread map[string]error) {
	users, unread = map[string]User{}, map[string]error{}
	chunks := slices.Collect(slices.Chunk(ids, readChunk))
	a.parallel(len(chunks), func(c int) {
		var got map[string]User
		var err error
		a.io(func() { got, err = a.e.dst.Users(ctx, chunks[c]) })
		for _, id := range chunks[c] {
			if err != nil {
				unread[id] = err
			}
		}
		maps.Copy(users, got)
	})
	return users, unread
}

// owned checks that the target user of a created mapping carries the
// mapping's link (loadOwners read it): the target, not only the state,
// must prove that xtsync created a user before it is disabled, enabled,
// edited or deleted. A user without the link is downgraded to matched.
func (a *applier) owned(ctx context.Context, um *UserMapping) error {
	if um == nil || um.Provenance != Created {
		return errors.New("refused: the user was not created by xtsync")
	}
	if a.ownersErr != nil {
		return a.ownersErr // not known: never taken for gone
	}
	link := LinkValue(a.e.opts.SourceTenant, um.SourceID)
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
		a.io(func() { err = a.e.dst.SetAccountEnabled(ctx, um.TargetID, enabled) })
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
		a.io(func() { err = a.e.dst.DeleteUser(ctx, um.TargetID) })
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
	var gs map[string]Group
	var err error
	a.io(func() { gs, err = a.e.dst.Groups(ctx, []string{act.Target}) })
	g, live := gs[act.Target]
	switch {
	case err != nil:
		err = fmt.Errorf("read group %s: %w", act.Target, err)
	case live && !strings.EqualFold(g.MailNickname, TargetNickname(act.Group)):
		err = fmt.Errorf("refused: group %s has mailNickname %q, not the mirror's %q", act.Target, g.MailNickname, TargetNickname(act.Group))
	case live:
		a.begin(ctx, act, act.Target)
		a.io(func() { err = a.e.dst.DeleteGroup(ctx, act.Target) })
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
	written := a.memberWrites()
	for _, gid := range slices.Sorted(maps.Keys(a.rep.Plan.synced)) {
		m := a.st.groups[gid]
		sg := a.rep.Plan.synced[gid]
		switch {
		case !m.live():
			continue
		case sg.delta && a.rep.Failed():
			// The delta link stays: the next pass applies the round
			// again and counts it then.
			continue
		case sg.delta:
			sg.members = max(0, m.Members+written[gid])
			sg.source = max(0, m.SourceMembers+sg.source)
		}
		m.LastSync, m.Members, m.SourceMembers, m.TargetName, m.Kind = now, sg.members, sg.source, sg.name, sg.kind
		if !a.ro.Changed.IsZero() {
			m.Lag = now.Sub(a.ro.Changed)
		}
		if err := a.st.putGroup(ctx, m); err != nil {
			a.e.log.Warn("save group sync time", "group", gid, "err", err)
		}
	}
}

// memberWrites is, per group, the members the run's applied member
// writes added to its mirror less those they removed.
func (a *applier) memberWrites() map[string]int {
	out := map[string]int{}
	for _, r := range a.rep.Results {
		n := len(r.Action.Users) - len(r.Failed)
		switch {
		case r.Outcome != OutcomeOK:
		case r.Action.Kind == ActAddMembers:
			out[r.Action.Group] += n
		case r.Action.Kind == ActRemoveMembers:
			out[r.Action.Group] -= n
		}
	}
	return out
}
