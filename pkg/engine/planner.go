package engine

import (
	"fmt"
	"slices"
	"strings"
)

// pendingPrefix marks, in a desired member set, a source user whose target id
// is not known until the plan runs (an invitation).
const pendingPrefix = "pending:"

// planner computes a plan from a snapshot and the state. It reads nothing and
// writes nothing.
type planner struct {
	opts Options
	st   *state
	snap *Snapshot
	p    *Plan
	// refs after the plan, by source user id (only users whose refs change).
	newRefs map[string][]string
	// resolved are the unmapped users an action already resolves.
	resolved map[string]bool
	// checked are the mapped users whose attributes and sign-in are
	// planned; targetUsers the target users as the mirrors' member lists
	// read them.
	checked     map[string]bool
	targetUsers map[string]Member
	// byGroup indexes the state's user mappings by the source groups they
	// list (built on first use; the planner never changes the state).
	byGroup map[string][]string
	// unmapped are the resolutions of unmapped users (targetFor), by
	// source user id: a user in many groups is resolved once.
	unmapped map[string]resolution
}

// resolution is what targetFor found for an unmapped source user.
type resolution struct{ tid, conflict string }

// plan builds the plan for snap.
func plan(opts Options, st *state, snap *Snapshot) *Plan {
	pl := newPlanner(opts, st, snap)
	scope := slices.Clone(snap.Scope)
	slices.Sort(scope)
	for _, gid := range slices.Compact(scope) {
		pl.group(gid)
	}
	for _, gid := range snap.Unscoped {
		if m := st.groups[gid]; m != nil {
			pl.unscoped(m, "left the scope")
		}
	}
	if snap.Full {
		inScope := map[string]bool{}
		for _, id := range snap.Scope {
			inScope[id] = true
		}
		var gone []string
		for gid := range st.groups {
			if !inScope[gid] {
				gone = append(gone, gid)
			}
		}
		slices.Sort(gone)
		for _, gid := range gone {
			pl.unscoped(st.groups[gid], "left the scope")
		}
	}
	return pl.finish()
}

// finish adds deprovisioning and orders the plan.
func (pl *planner) finish() *Plan {
	pl.deprovision()
	pl.p.refs = pl.newRefs
	pl.p.targets = pl.targetUsers
	pl.p.sort()
	return pl.p
}

// targetUsers indexes the user members of the target groups read.
func targetUsers(snap *Snapshot) map[string]Member {
	out := map[string]Member{}
	for _, tg := range snap.Target {
		for _, m := range tg.Members {
			if m.Type == TypeUser {
				out[m.ID] = m
			}
		}
	}
	return out
}

func newPlanner(opts Options, st *state, snap *Snapshot) *planner {
	return &planner{
		opts: opts, st: st, snap: snap, p: &Plan{synced: map[string]syncedGroup{}},
		newRefs: map[string][]string{}, resolved: map[string]bool{}, checked: map[string]bool{}, targetUsers: targetUsers(snap),
		unmapped: map[string]resolution{},
	}
}

func (pl *planner) skip(gid, name, reason string) {
	pl.p.Skipped = append(pl.p.Skipped, Skip{Group: gid, Name: name, Reason: reason})
}

// refs returns the planned refs of a user (its current ones if unchanged).
func (pl *planner) refs(sourceUser string) []string {
	if r, ok := pl.newRefs[sourceUser]; ok {
		return r
	}
	if m := pl.st.users[sourceUser]; m != nil {
		return m.Groups
	}
	return nil
}

// setRef plans whether sourceUser is a synced member of gid. Planned refs
// are kept sorted; the state's are copied before they are changed.
func (pl *planner) setRef(sourceUser, gid string, member bool) {
	r, owned := pl.newRefs[sourceUser]
	if !owned {
		if m := pl.st.users[sourceUser]; m != nil {
			r = m.Groups
		}
	}
	if hasRef(r, gid) == member {
		return
	}
	if !owned {
		r = slices.Compact(slices.Sorted(slices.Values(r)))
	}
	if member {
		i, _ := slices.BinarySearch(r, gid)
		r = slices.Insert(r, i, gid)
	} else {
		r = slices.DeleteFunc(r, func(s string) bool { return s == gid })
	}
	pl.newRefs[sourceUser] = r
}

// hasRef reports whether refs holds gid. Refs are stored sorted, so a
// binary search finds it; a miss is confirmed by a scan, for refs stored
// unsorted.
func hasRef(refs []string, gid string) bool {
	if _, found := slices.BinarySearch(refs, gid); found {
		return true
	}
	return slices.Contains(refs, gid)
}

// membersOf returns the source users whose stored mapping lists gid among
// its synced groups. The first call indexes every user mapping once, so a
// plan costs O(users + references), not O(groups x users).
func (pl *planner) membersOf(gid string) []string {
	if pl.byGroup == nil {
		pl.byGroup = map[string][]string{}
		for uid, um := range pl.st.users {
			for _, g := range um.Groups {
				pl.byGroup[g] = append(pl.byGroup[g], uid)
			}
		}
	}
	return pl.byGroup[gid]
}

// dropGroupRefs removes gid from every user's refs.
func (pl *planner) dropGroupRefs(gid string) {
	for _, uid := range pl.membersOf(gid) {
		pl.setRef(uid, gid, false)
	}
}

// unscoped handles a mapped group whose source left the scope or is gone.
func (pl *planner) unscoped(m *GroupMapping, why string) {
	kind, reason := ActReleaseGroup, why+"; unscoped_groups is keep"
	switch {
	case !m.live():
		reason = why + "; its creation never completed"
	case pl.opts.UnscopedGroups == UnscopedDelete:
		kind, reason = ActDeleteGroup, why
	}
	pl.p.Actions = append(pl.p.Actions, Action{Kind: kind, Group: m.SourceID, GroupName: m.SourceName, Target: m.TargetID, Members: m.Members, Reason: reason})
	pl.dropGroupRefs(m.SourceID)
}

// group plans one scoped source group.
func (pl *planner) group(gid string) {
	sg, read := pl.snap.Source[gid]
	m := pl.st.groups[gid]
	switch {
	case !read:
		pl.p.Failed = append(pl.p.Failed, Skip{Group: gid, Reason: "not read"})
		return
	case sg.Err != nil:
		pl.p.Failed = append(pl.p.Failed, Skip{Group: gid, Reason: "source read failed: " + sg.Err.Error()})
		return
	case !sg.Found:
		if m != nil {
			pl.skip(gid, m.SourceName, "deleted in the source")
			pl.unscoped(m, "deleted in the source")
		} else {
			pl.skip(gid, "", "not found in the source")
		}
		return
	}
	g := sg.Group
	if kind := g.Kind(); !kind.Syncable() {
		pl.p.Skipped = append(pl.p.Skipped, Skip{Group: gid, Name: g.DisplayName, Kind: kind, Reason: string(kind) + ": Exchange manages its members; not synced"})
		if m != nil {
			pl.unscoped(m, "became a "+string(kind))
		}
		return
	}
	spec, err := pl.opts.targetSpec(g)
	if err != nil {
		pl.p.Failed = append(pl.p.Failed, Skip{Group: gid, Name: g.DisplayName, Reason: err.Error()})
		return
	}
	tid, tg := pl.mirrorOf(gid, m, g.DisplayName)
	var current map[string]bool
	if tg != nil {
		current = make(map[string]bool, len(tg.Members))
	}
	switch {
	case tg != nil && tg.Err != nil:
		pl.p.Failed = append(pl.p.Failed, Skip{Group: gid, Name: g.DisplayName, Reason: "target read failed: " + tg.Err.Error()})
		return
	case tg != nil:
		if tg.Group.DisplayName != spec.DisplayName || tg.Group.Description != spec.Description {
			reason := "renamed in the source"
			if m.live() && m.SourceName == g.DisplayName {
				reason = "changed in the target; source is authoritative"
			}
			pl.p.Actions = append(pl.p.Actions, Action{Kind: ActUpdateGroup, Group: gid, GroupName: g.DisplayName, Target: tid, Spec: &spec, Reason: reason})
		}
		for _, mem := range tg.Members {
			if mem.Type == TypeUser {
				current[mem.ID] = true
			}
		}
	case m.live():
		// Restored, the group comes back with the members it had; the
		// run syncs it again once restored, so members wait until then.
		pl.p.Actions = append(pl.p.Actions, Action{Kind: ActRestoreGroup, Group: gid, GroupName: g.DisplayName, Target: m.TargetID, Spec: &spec, Reason: "deleted in the target"})
		return
	default:
		pl.p.Actions = append(pl.p.Actions, Action{Kind: ActCreateGroup, Group: gid, GroupName: g.DisplayName, Spec: &spec})
	}

	desired := make(map[string]bool, len(sg.Members))
	eligible := make([]string, 0, len(sg.Members))
	var add []string
	var n skipCounts
	for _, mem := range sg.Members {
		switch {
		case mem.Type == TypeGroup:
			n.nested++
			continue
		case mem.Type != TypeUser:
			n.other++
			continue
		case mem.IsGuest():
			n.guests++
			continue
		}
		tid, conflict := pl.targetFor(mem)
		if conflict != "" {
			pl.p.Skipped = append(pl.p.Skipped, Skip{Group: gid, Name: g.DisplayName, Member: mem.ID, Reason: conflict})
			continue
		}
		if tid == "" {
			n.noMail++
			continue
		}
		eligible = append(eligible, mem.ID)
		desired[tid] = true
		if !current[tid] {
			add = append(add, mem.ID)
		}
		if um := pl.st.users[mem.ID]; um.mapped() {
			pl.user(gid, mem, um)
		}
	}
	pl.memberSkips(gid, g.DisplayName, n)
	var remove []string
	for tid := range current {
		if !desired[tid] {
			remove = append(remove, tid)
		}
	}
	slices.Sort(add)
	slices.Sort(remove)
	if len(add) > 0 {
		pl.p.Actions = append(pl.p.Actions, Action{Kind: ActAddMembers, Group: gid, GroupName: g.DisplayName, Users: add})
	}
	if len(remove) > 0 {
		a := Action{Kind: ActRemoveMembers, Group: gid, GroupName: g.DisplayName, Users: remove}
		if len(eligible) == 0 {
			a.Reason = "source group is empty (read twice)"
		}
		pl.p.Actions = append(pl.p.Actions, a)
	}
	pl.p.synced[gid] = syncedGroup{members: len(eligible), source: len(sg.Members), name: spec.DisplayName, kind: g.Kind()}
	// References: who is a synced member of gid after this plan.
	isEligible := make(map[string]bool, len(eligible))
	for _, uid := range eligible {
		isEligible[uid] = true
		pl.setRef(uid, gid, true)
	}
	for _, uid := range pl.membersOf(gid) {
		if !isEligible[uid] {
			pl.setRef(uid, gid, false)
		}
	}
}

// mirrorOf returns the live mirror of scoped group gid: its mapped target,
// else a group carrying its mailNickname, which is adopted (after a lost
// state, an interrupted creation, or a mapped target deleted while another
// mirror lives). Other groups with the nickname are duplicates, deleted
// when the whole target was listed.
func (pl *planner) mirrorOf(gid string, m *GroupMapping, name string) (string, *TargetGroup) {
	tid := ""
	if m.live() {
		if _, live := pl.snap.Target[m.TargetID]; live {
			tid = m.TargetID
		}
	}
	cands := pl.snap.Mirrors[TargetNickname(gid)]
	if tid == "" {
		if c, ok := canonicalMirror(cands); ok {
			tid = c.ID
			reason := "mirror found by mailNickname"
			switch {
			case m.live():
				reason = "mapped target " + m.TargetID + " is gone; another mirror lives"
			case m != nil && !m.Pending.IsZero():
				reason = "created by an interrupted run"
			}
			pl.p.Actions = append(pl.p.Actions, Action{Kind: ActAdoptGroup, Group: gid, GroupName: name, Target: tid, TargetName: c.DisplayName, Reason: reason})
		}
	}
	if pl.snap.MirrorsListed && tid != "" {
		for _, c := range cands {
			if c.ID != tid && isMirrorShape(c) {
				n := 0
				for _, mem := range pl.snap.Target[c.ID].Members {
					if mem.Type == TypeUser {
						n++
					}
				}
				pl.p.Actions = append(pl.p.Actions, Action{Kind: ActDeleteGroup, Group: gid, GroupName: name, Target: c.ID, TargetName: c.DisplayName, Members: n, Reason: "duplicate mirror (the mirror is " + tid + ")"})
			}
		}
	}
	if tid == "" {
		return "", nil
	}
	tg := pl.snap.Target[tid]
	return tid, &tg
}

// isMirrorShape reports whether g is a plain security group, the only
// kind xtsync creates.
func isMirrorShape(g Group) bool {
	return g.SecurityEnabled && !g.MailEnabled && len(g.GroupTypes) == 0
}

// canonicalMirror picks the mirror to keep among groups sharing a
// nickname: the oldest plain security group (ties by id).
func canonicalMirror(cands []Group) (Group, bool) {
	var best Group
	ok := false
	for _, c := range cands {
		if !isMirrorShape(c) {
			continue
		}
		if !ok || c.Created.Before(best.Created) || (c.Created.Equal(best.Created) && c.ID < best.ID) {
			best, ok = c, true
		}
	}
	return best, ok
}

// skipCounts counts the members of a group the plan leaves alone.
type skipCounts struct{ nested, guests, other, noMail int }

func (pl *planner) memberSkips(gid, name string, n skipCounts) {
	if n.nested > 0 {
		pl.skip(gid, name, fmt.Sprintf("%d nested group(s) not synced (nested_groups: skip)", n.nested))
	}
	if n.guests > 0 {
		pl.skip(gid, name, fmt.Sprintf("%d guest member(s) of the source not synced", n.guests))
	}
	if n.other > 0 {
		pl.skip(gid, name, fmt.Sprintf("%d member(s) that are not users (devices, contacts, apps) not synced", n.other))
	}
	if n.noMail > 0 {
		reason := fmt.Sprintf("%d member(s) without a mail address cannot be invited", n.noMail)
		if !pl.opts.ProvisionMembers {
			reason = fmt.Sprintf("%d member(s) missing in the target not provisioned (provision_members: false)", n.noMail)
		}
		pl.skip(gid, name, reason)
	}
}

// targetFor resolves a source user to its target id: the state mapping,
// the target user carrying its link, a target user with its address, or a
// planned invitation. "" when the user cannot be provisioned (conflict
// reports why, when it is not a missing address). An unmapped user is
// resolved once per plan, where it is first met (as its action is planned
// once).
func (pl *planner) targetFor(mem Member) (tid, conflict string) {
	um := pl.st.users[mem.ID]
	if um.mapped() {
		return um.TargetID, ""
	}
	if r, ok := pl.unmapped[mem.ID]; ok {
		return r.tid, r.conflict
	}
	tid, conflict = pl.resolve(mem, um)
	pl.unmapped[mem.ID] = resolution{tid, conflict}
	return tid, conflict
}

// resolve resolves an unmapped source user (targetFor).
func (pl *planner) resolve(mem Member, um *UserMapping) (tid, conflict string) {
	link := LinkValue(pl.opts.SourceTenant, mem.ID)
	mail := strings.ToLower(mem.Mail)
	if u, found := pl.snap.UsersByLink[link]; found {
		pl.once(mem.ID, Action{Kind: ActLinkUser, User: mem.ID, UserName: mem.DisplayName, Mail: mail, Target: u.ID, Reason: "link marker on the target user"})
		return u.ID, ""
	}
	if cands := pl.snap.UsersByAddress[mail]; mail != "" && len(cands) > 0 {
		u := pickUser(cands, mail)
		if u.Link != "" && u.Link != link && IsLink(u.Link) {
			return "", "the target user with this address mirrors another source user"
		}
		if created, _ := createdBy(u, link, um.pending()); created {
			pl.once(mem.ID, Action{Kind: ActLinkUser, User: mem.ID, UserName: mem.DisplayName, Mail: mail, Target: u.ID, Link: link, Attrs: pick(pl.opts.UserAttributes, mem.Attrs), Reason: "created by an interrupted run"})
			return u.ID, ""
		}
		pl.once(mem.ID, Action{Kind: ActMatchUser, User: mem.ID, UserName: mem.DisplayName, Mail: mail, Target: u.ID, Reason: "existing target user with this address"})
		return u.ID, ""
	}
	if !pl.opts.ProvisionMembers || mail == "" {
		return "", ""
	}
	if mem.Disabled {
		return "", "disabled in the source: not invited"
	}
	pl.once(mem.ID, Action{Kind: ActInviteUser, User: mem.ID, UserName: mem.DisplayName, Mail: mail, Reason: "no target user with this address", Attrs: pick(pl.opts.UserAttributes, mem.Attrs)})
	return pendingPrefix + mem.ID, ""
}

// user plans, once per run, what a mapped user's target user should be
// besides its memberships: the mapped attributes equal to the source's and
// sign-in disabled while the source user is disabled. Only a user xtsync
// created is edited; for a matched user what differs is reported.
func (pl *planner) user(gid string, mem Member, um *UserMapping) {
	if pl.checked[mem.ID] {
		return
	}
	pl.checked[mem.ID] = true
	tu, known := pl.targetUsers[um.TargetID]
	var diff map[string]string
	if known && mem.Attrs != nil {
		diff = attrDiff(pl.opts.UserAttributes, mem.Attrs, tu.Attrs)
	}
	if um.Provenance != Created {
		if len(diff) > 0 {
			pl.p.Skipped = append(pl.p.Skipped, Skip{Group: gid, Member: mem.ID, Reason: "matched user differs from the source in " + attrNames(diff) + ": not edited (xtsync did not create it)"})
		}
		return
	}
	if len(diff) > 0 {
		pl.p.Actions = append(pl.p.Actions, Action{Kind: ActUpdateUser, User: mem.ID, UserName: mem.DisplayName, Target: um.TargetID, Mail: um.Mail, Attrs: diff, Reason: "differs from the source in " + attrNames(diff)})
	}
	targetEnabled := !um.Disabled
	if known {
		targetEnabled = !tu.Disabled
	}
	switch {
	case mem.Disabled && targetEnabled:
		pl.p.Actions = append(pl.p.Actions, Action{Kind: ActDisableUser, User: mem.ID, UserName: mem.DisplayName, Target: um.TargetID, Mail: um.Mail, Reason: "disabled in the source"})
	case !mem.Disabled && um.Disabled:
		// Only what xtsync disabled is enabled again: a target admin's
		// disable of a user stands.
		pl.p.Actions = append(pl.p.Actions, Action{Kind: ActEnableUser, User: mem.ID, UserName: mem.DisplayName, Target: um.TargetID, Mail: um.Mail, Reason: "enabled in the source and a member of a synced group"})
	}
}

// once plans a user action the first time the user is seen.
func (pl *planner) once(uid string, a Action) {
	if !pl.resolved[uid] {
		pl.resolved[uid] = true
		pl.p.Actions = append(pl.p.Actions, a)
	}
}

// pick returns the values of names in attrs (nil when attrs was not read).
func pick(names []string, attrs map[string]string) map[string]string {
	if attrs == nil {
		return nil
	}
	out := map[string]string{}
	for _, n := range names {
		if v := attrs[n]; v != "" {
			out[n] = v
		}
	}
	return out
}

// pickUser chooses among target users found for an address: one whose mail
// is the address, else one with it in otherMails, else the first (by id).
func pickUser(cands []User, mail string) User {
	best, rank := User{}, 4
	for _, u := range cands {
		r := 3
		switch {
		case strings.EqualFold(u.Mail, mail):
			r = 1
		case slices.ContainsFunc(u.OtherMails, func(o string) bool { return strings.EqualFold(o, mail) }):
			r = 2
		}
		if r < rank || (r == rank && u.ID < best.ID) {
			best, rank = u, r
		}
	}
	return best
}

// deprovision plans what happens to users the tool created who are in no
// synced group after the plan.
//
// A full reconcile looks at every created user, not only those whose
// groups change: a deprovisioning held by the deletion guard is planned
// again once the guard lets it through.
func (pl *planner) deprovision() {
	var ids []string
	for uid := range pl.newRefs {
		ids = append(ids, uid)
	}
	if pl.snap.Full {
		for uid, um := range pl.st.users {
			if _, changed := pl.newRefs[uid]; !changed && um.Provenance == Created && len(um.Groups) == 0 {
				ids = append(ids, uid)
			}
		}
	}
	slices.Sort(ids)
	for _, uid := range ids {
		um := pl.st.users[uid]
		if !um.mapped() || len(pl.refs(uid)) > 0 || um.Provenance != Created {
			continue
		}
		switch pl.opts.DeprovisionUsers {
		case DeprovisionDelete:
			pl.p.Actions = append(pl.p.Actions, Action{Kind: ActDeleteUser, User: uid, UserName: um.DisplayName, Target: um.TargetID, Mail: um.Mail, Reason: "in no synced group"})
		case DeprovisionDisable:
			if !um.Disabled {
				pl.p.Actions = append(pl.p.Actions, Action{Kind: ActDisableUser, User: uid, UserName: um.DisplayName, Target: um.TargetID, Mail: um.Mail, Reason: "in no synced group"})
			}
		}
	}
}
