package engine

import (
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"
)

// ActionKind is what an action does.
type ActionKind string

// Action kinds, in the order the applier runs them.
const (
	ActMatchUser     ActionKind = "match-user"
	ActLinkUser      ActionKind = "link-user"
	ActInviteUser    ActionKind = "invite-user"
	ActRestoreGroup  ActionKind = "restore-group"
	ActAdoptGroup    ActionKind = "adopt-group"
	ActCreateGroup   ActionKind = "create-group"
	ActUpdateGroup   ActionKind = "update-group"
	ActUpdateUser    ActionKind = "update-user"
	ActAddMembers    ActionKind = "add-members"
	ActRemoveMembers ActionKind = "remove-members"
	ActEnableUser    ActionKind = "enable-user"
	ActDeleteGroup   ActionKind = "delete-group"
	ActReleaseGroup  ActionKind = "release-group"
	ActDeleteUser    ActionKind = "delete-user"
	ActDisableUser   ActionKind = "disable-user"
)

// ActionKinds lists the action kinds, in the order the applier runs them.
func ActionKinds() []ActionKind {
	return []ActionKind{
		ActMatchUser, ActLinkUser, ActInviteUser, ActRestoreGroup, ActAdoptGroup, ActCreateGroup, ActUpdateGroup,
		ActUpdateUser, ActAddMembers, ActRemoveMembers, ActEnableUser, ActDeleteGroup, ActReleaseGroup, ActDeleteUser, ActDisableUser,
	}
}

var actionOrder = map[ActionKind]int{
	ActMatchUser: 0, ActLinkUser: 1, ActInviteUser: 2, ActRestoreGroup: 3, ActAdoptGroup: 4, ActCreateGroup: 5,
	ActUpdateGroup: 6, ActUpdateUser: 7, ActAddMembers: 8, ActRemoveMembers: 9, ActEnableUser: 10, ActDeleteGroup: 11,
	ActReleaseGroup: 12, ActDeleteUser: 13, ActDisableUser: 14,
}

// Action is one step of a plan. Group and User are source ids; Target is a
// target id.
type Action struct {
	Kind      ActionKind `json:"action"`
	Group     string     `json:"group,omitempty"`
	GroupName string     `json:"groupName,omitempty"`
	User      string     `json:"user,omitempty"`
	// UserName is the source user's display name, when the plan read it
	// (an invitation sends it).
	UserName string `json:"userName,omitempty"`
	Mail     string `json:"mail,omitempty"`
	Target   string `json:"target,omitempty"`
	// TargetName is the display name of a target group the plan read
	// (the mirror adopted or deleted); a created, updated or restored
	// mirror's is Spec's.
	TargetName string `json:"targetName,omitempty"`
	// Users are source user ids (add-members) or target user ids
	// (remove-members).
	Users []string   `json:"users,omitempty"`
	Spec  *GroupSpec `json:"spec,omitempty"`
	// Members is how many members a deleted group held.
	Members int `json:"members,omitempty"`
	// Link is the link marker a link-user action writes on the target user
	// (empty when it is there already).
	Link string `json:"link,omitempty"`
	// Attrs are the user attributes an update-user action writes, or an
	// invitation sets with the link.
	Attrs  map[string]string `json:"attributes,omitempty"`
	Reason string            `json:"reason,omitempty"`
}

// IsDeletion reports whether the action removes access: member removals,
// user deletes and disables, group deletes. The deletion guard counts them
// and holds them all when it halts.
func (a Action) IsDeletion() bool {
	switch a.Kind {
	case ActRemoveMembers, ActDeleteGroup, ActDeleteUser, ActDisableUser:
		return true
	}
	return false
}

// Weight is what the action counts against the deletion guard: each member
// removed, each user deleted or disabled, each group deleted as the members
// it held (at least one).
func (a Action) Weight() int {
	switch a.Kind {
	case ActRemoveMembers:
		return len(a.Users)
	case ActDeleteGroup:
		return max(1, a.Members)
	case ActDeleteUser, ActDisableUser:
		return 1
	}
	return 0
}

// Skip is a group or member the plan leaves alone, with the reason.
type Skip struct {
	Group  string `json:"group"`
	Name   string `json:"name,omitempty"`
	Member string `json:"member,omitempty"`
	// Kind is the group's kind when that is why it is skipped.
	Kind   GroupKind `json:"kind,omitempty"`
	Reason string    `json:"reason"`
}

// syncedGroup is a group a plan syncs: its synced member count, the
// members read in the source, the mirror's name and the source's kind. A
// delta round's (delta) has the change of the source's count instead, and
// the mirror's is counted from the member writes it applied.
type syncedGroup struct {
	members, source int
	name            string
	kind            GroupKind
	delta           bool
}

// Plan is what a run will do.
type Plan struct {
	Actions []Action `json:"actions"`
	Skipped []Skip   `json:"skipped,omitempty"`
	// Deletions is what the plan counts against the deletion guard (the
	// sum of the actions' Weight).
	Deletions int `json:"deletions"`
	// Held are the actions the deletion guard held back (the plan's
	// Actions no longer hold them).
	Held []Action `json:"held,omitempty"`
	// Failed are groups whose reads failed: nothing is done to them.
	Failed []Skip `json:"failed,omitempty"`

	// refs are the synced groups of each source user whose set the plan
	// changes; the applier records them in the user mappings.
	refs map[string][]string
	// synced are the groups the plan syncs, with their synced member count
	// and kind.
	synced map[string]syncedGroup
	// targets are the target users the plan read (with their link), by id.
	targets map[string]Member
}

// Count returns how many actions of kind k the plan holds, and how many
// users they touch (members added or removed).
func (p *Plan) Count(k ActionKind) (actions, users int) {
	for _, a := range p.Actions {
		if a.Kind == k {
			actions++
			users += len(a.Users)
		}
	}
	return actions, users
}

// Empty reports whether the plan changes nothing.
func (p *Plan) Empty() bool { return len(p.Actions) == 0 }

// actionLess is the plan's order: by kind (actionOrder), then group, then
// user.
func actionLess(a, b Action) bool {
	if actionOrder[a.Kind] != actionOrder[b.Kind] {
		return actionOrder[a.Kind] < actionOrder[b.Kind]
	}
	if a.Group != b.Group {
		return a.Group < b.Group
	}
	return a.User < b.User
}

func (p *Plan) sort() {
	sort.SliceStable(p.Actions, func(i, j int) bool { return actionLess(p.Actions[i], p.Actions[j]) })
	p.Deletions = 0
	for _, a := range p.Actions {
		p.Deletions += a.Weight()
	}
}

// hold moves the actions that remove access from Actions to Held.
// DeletionGroups are the source groups of the plan's removals and deletes
// (held or not), sorted.
func (p *Plan) DeletionGroups() []string {
	var out []string
	for _, list := range [][]Action{p.Actions, p.Held} {
		for _, a := range list {
			if a.IsDeletion() && a.Group != "" && !slices.Contains(out, a.Group) {
				out = append(out, a.Group)
			}
		}
	}
	slices.Sort(out)
	return out
}

func (p *Plan) hold() {
	keep := p.Actions[:0]
	for _, a := range p.Actions {
		if a.IsDeletion() {
			p.Held = append(p.Held, a)
		} else {
			keep = append(keep, a)
		}
	}
	p.Actions = keep
}

// Print writes the plan for people, one line per action.
func (p *Plan) Print(w io.Writer) {
	if p.Empty() {
		fmt.Fprintln(w, "plan: no changes")
	}
	for _, a := range p.Actions {
		fmt.Fprintf(w, "  %-15s %s\n", a.Kind, a.describe())
	}
	for _, s := range p.Skipped {
		fmt.Fprintf(w, "  %-15s %s\n", "skip", s.describe())
	}
	for _, s := range p.Failed {
		fmt.Fprintf(w, "  %-15s %s\n", "read-failed", s.describe())
	}
	for _, a := range p.Held {
		fmt.Fprintf(w, "  %-15s %s %s\n", "held", a.Kind, a.describe())
	}
}

func (a Action) describe() string {
	var parts []string
	if a.GroupName != "" {
		parts = append(parts, fmt.Sprintf("%q", a.GroupName))
	}
	if a.Group != "" {
		parts = append(parts, "group="+a.Group)
	}
	if a.UserName != "" {
		parts = append(parts, fmt.Sprintf("%q", a.UserName))
	}
	if a.User != "" {
		parts = append(parts, "user="+a.User)
	}
	if a.Mail != "" {
		parts = append(parts, "mail="+a.Mail)
	}
	if a.Target != "" {
		parts = append(parts, "target="+a.Target)
	}
	if len(a.Users) > 0 {
		parts = append(parts, fmt.Sprintf("users=%d", len(a.Users)))
	}
	if a.Reason != "" {
		parts = append(parts, "("+a.Reason+")")
	}
	return strings.Join(parts, " ")
}

func (s Skip) describe() string {
	out := ""
	if s.Name != "" {
		out = fmt.Sprintf("%q ", s.Name)
	}
	out += "group=" + s.Group
	if s.Member != "" {
		out += " member=" + s.Member
	}
	return out + " (" + s.Reason + ")"
}
