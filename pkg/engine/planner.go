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
	invited map[string]bool
	matched map[string]bool
	enabled map[string]bool
}

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
	pl.p.sort()
	return pl.p
}

func newPlanner(opts Options, st *state, snap *Snapshot) *planner {
	return &planner{
		opts: opts, st: st, snap: snap, p: &Plan{synced: map[string]int{}},
		newRefs: map[string][]string{}, invited: map[string]bool{}, matched: map[string]bool{}, enabled: map[string]bool{},
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

func (pl *planner) setRef(sourceUser, gid string, member bool) {
	r := slices.Clone(pl.refs(sourceUser))
	has := slices.Contains(r, gid)
	switch {
	case member && !has:
		r = append(r, gid)
	case !member && has:
		r = slices.DeleteFunc(r, func(s string) bool { return s == gid })
	default:
		return
	}
	slices.Sort(r)
	pl.newRefs[sourceUser] = r
}

// dropGroupRefs removes gid from every user's refs.
func (pl *planner) dropGroupRefs(gid string) {
	for uid, m := range pl.st.users {
		if slices.Contains(m.Groups, gid) {
			pl.setRef(uid, gid, false)
		}
	}
}

// unscoped handles a mapped group whose source left the scope or is gone.
func (pl *planner) unscoped(m *GroupMapping, why string) {
	kind, reason := ActReleaseGroup, why+"; unscoped_groups is keep"
	if pl.opts.UnscopedGroups == UnscopedDelete {
		kind, reason = ActDeleteGroup, why
	}
	pl.p.Actions = append(pl.p.Actions, Action{Kind: kind, Group: m.SourceID, GroupName: m.SourceName, Target: m.TargetID, Reason: reason})
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
		pl.skip(gid, g.DisplayName, string(kind)+": Exchange manages its members; not synced")
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
	current := map[string]bool{}
	if m != nil {
		tg, live := pl.snap.Target[m.TargetID]
		switch {
		case live && tg.Err != nil:
			pl.p.Failed = append(pl.p.Failed, Skip{Group: gid, Name: g.DisplayName, Reason: "target read failed: " + tg.Err.Error()})
			return
		case live:
			if tg.Group.DisplayName != spec.DisplayName || tg.Group.Description != spec.Description {
				reason := "renamed in the source"
				if m.SourceName == g.DisplayName {
					reason = "changed in the target; source is authoritative"
				}
				pl.p.Actions = append(pl.p.Actions, Action{Kind: ActUpdateGroup, Group: gid, GroupName: g.DisplayName, Target: m.TargetID, Spec: &spec, Reason: reason})
			}
			for _, mem := range tg.Members {
				if mem.Type == TypeUser {
					current[mem.ID] = true
				}
			}
		default:
			// Restored, the group comes back with the members it had; the
			// run syncs it again once restored, so members wait until then.
			pl.p.Actions = append(pl.p.Actions, Action{Kind: ActRestoreGroup, Group: gid, GroupName: g.DisplayName, Target: m.TargetID, Spec: &spec, Reason: "deleted in the target"})
			return
		}
	} else {
		pl.p.Actions = append(pl.p.Actions, Action{Kind: ActCreateGroup, Group: gid, GroupName: g.DisplayName, Spec: &spec})
	}

	desired := map[string]bool{}
	var eligible []string
	var add []string
	nested, guests, other, noMail := 0, 0, 0, 0
	for _, mem := range sg.Members {
		switch {
		case mem.Type == TypeGroup:
			nested++
			continue
		case mem.Type != TypeUser:
			other++
			continue
		case mem.IsGuest():
			guests++
			continue
		}
		tid := pl.targetFor(mem)
		if tid == "" {
			noMail++
			continue
		}
		eligible = append(eligible, mem.ID)
		desired[tid] = true
		if !current[tid] {
			add = append(add, mem.ID)
		}
		if um := pl.st.users[mem.ID]; um != nil && um.Disabled && !pl.enabled[mem.ID] {
			pl.enabled[mem.ID] = true
			pl.p.Actions = append(pl.p.Actions, Action{Kind: ActEnableUser, User: mem.ID, Target: um.TargetID, Mail: um.Mail, Reason: "member of a synced group again"})
		}
	}
	pl.memberSkips(gid, g.DisplayName, nested, guests, other, noMail)
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
			// An empty source read must not silently empty a group: count
			// every removal against the deletion threshold.
			a.Reason = "source group is empty"
			pl.p.Deletions += len(remove)
		}
		pl.p.Actions = append(pl.p.Actions, a)
	}
	pl.p.synced[gid] = len(eligible)
	// References: who is a synced member of gid after this plan.
	isEligible := map[string]bool{}
	for _, uid := range eligible {
		isEligible[uid] = true
		pl.setRef(uid, gid, true)
	}
	for uid, um := range pl.st.users {
		if slices.Contains(um.Groups, gid) && !isEligible[uid] {
			pl.setRef(uid, gid, false)
		}
	}
}

func (pl *planner) memberSkips(gid, name string, nested, guests, other, noMail int) {
	if nested > 0 {
		pl.skip(gid, name, fmt.Sprintf("%d nested group(s) not synced (nested_groups: skip)", nested))
	}
	if guests > 0 {
		pl.skip(gid, name, fmt.Sprintf("%d guest member(s) of the source not synced", guests))
	}
	if other > 0 {
		pl.skip(gid, name, fmt.Sprintf("%d member(s) that are not users (devices, contacts, apps) not synced", other))
	}
	if noMail > 0 {
		reason := fmt.Sprintf("%d member(s) without a mail address cannot be invited", noMail)
		if !pl.opts.ProvisionMembers {
			reason = fmt.Sprintf("%d member(s) missing in the target not provisioned (provision_members: false)", noMail)
		}
		pl.skip(gid, name, reason)
	}
}

// targetFor resolves a source user to its target id: the state mapping, a
// target user with the same mail, or a planned invitation. "" when the user
// cannot be provisioned.
func (pl *planner) targetFor(mem Member) string {
	if um := pl.st.users[mem.ID]; um != nil {
		return um.TargetID
	}
	mail := strings.ToLower(mem.Mail)
	if tu, found := pl.snap.UsersByMail[mail]; found && mail != "" {
		if !pl.matched[mem.ID] {
			pl.matched[mem.ID] = true
			pl.p.Actions = append(pl.p.Actions, Action{Kind: ActMatchUser, User: mem.ID, Mail: mail, Target: tu.ID, Reason: "same mail in the target"})
		}
		return tu.ID
	}
	if !pl.opts.ProvisionMembers || mail == "" {
		return ""
	}
	if !pl.invited[mem.ID] {
		pl.invited[mem.ID] = true
		pl.p.Actions = append(pl.p.Actions, Action{Kind: ActInviteUser, User: mem.ID, Mail: mail, Reason: mem.DisplayName})
	}
	return pendingPrefix + mem.ID
}

// deprovision plans what happens to users the tool created who are in no
// synced group after the plan.
func (pl *planner) deprovision() {
	var ids []string
	for uid := range pl.newRefs {
		ids = append(ids, uid)
	}
	slices.Sort(ids)
	for _, uid := range ids {
		um := pl.st.users[uid]
		if um == nil || len(pl.newRefs[uid]) > 0 || um.Provenance != Created {
			continue
		}
		switch pl.opts.DeprovisionUsers {
		case DeprovisionDelete:
			pl.p.Actions = append(pl.p.Actions, Action{Kind: ActDeleteUser, User: uid, Target: um.TargetID, Mail: um.Mail, Reason: "in no synced group"})
		case DeprovisionDisable:
			if !um.Disabled {
				pl.p.Actions = append(pl.p.Actions, Action{Kind: ActDisableUser, User: uid, Target: um.TargetID, Mail: um.Mail, Reason: "in no synced group"})
			}
		}
	}
}
