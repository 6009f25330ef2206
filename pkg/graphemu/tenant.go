package graphemu

import (
	"slices"
	"time"
)

// Tenant is one Entra tenant held by the emulator.
type Tenant struct {
	ID          string
	Domain      string
	DisplayName string

	apps          map[string]*App
	users         map[string]*User
	userOrder     []string
	groups        map[string]*Group
	groupOrder    []string
	deletedUsers  map[string]*User
	deletedGroups map[string]*Group
	subs          map[string]*Subscription
	subOrder      []string

	faults Faults
	lim    limiter

	// seq numbers every group and user change; changes since horizon are
	// kept for delta (changes for groups, userChanges for users).
	seq         int64
	horizon     int64
	changes     []change
	userChanges []userChange

	counts map[string]int
}

type changeKind int

const (
	chProps changeKind = iota
	chMemberAdd
	chMemberRemove
	chCreated
	chSoftDeleted
	chRestored
	chPurged
)

// change is one recorded group change, the source of delta and notifications.
type change struct {
	seq    int64
	group  string
	kind   changeKind
	member string
	at     time.Time
}

// userChangeKind is what happened to a user, for user delta and user
// change notifications.
type userChangeKind int

const (
	uchProps userChangeKind = iota
	uchCreated
	uchSoftDeleted
	uchRestored
	uchPurged
)

// userChange is one recorded user change: its kind and, for uchProps, the
// Graph names of the properties whose value changed.
type userChange struct {
	seq   int64
	user  string
	kind  userChangeKind
	props []string
	at    time.Time
}

func newTenant(id, domain, name string) *Tenant {
	return &Tenant{
		ID: id, Domain: domain, DisplayName: name,
		apps:          map[string]*App{},
		users:         map[string]*User{},
		groups:        map[string]*Group{},
		deletedUsers:  map[string]*User{},
		deletedGroups: map[string]*Group{},
		subs:          map[string]*Subscription{},
		counts:        map[string]int{},
	}
}

// object returns the live user or group with id, and its kind.
func (t *Tenant) object(id string) (kind string, ok bool) {
	if _, ok := t.users[id]; ok {
		return "user", true
	}
	if _, ok := t.groups[id]; ok {
		return "group", true
	}
	return "", false
}

func (t *Tenant) addUser(u *User) {
	t.users[u.ID] = u
	t.userOrder = append(t.userOrder, u.ID)
}

func (t *Tenant) addGroup(g *Group) {
	t.groups[g.ID] = g
	t.groupOrder = append(t.groupOrder, g.ID)
}

func (t *Tenant) liveUsers() []*User {
	out := make([]*User, 0, len(t.users))
	for _, id := range t.userOrder {
		if u, ok := t.users[id]; ok {
			out = append(out, u)
		}
	}
	return out
}

func (t *Tenant) liveGroups() []*Group {
	out := make([]*Group, 0, len(t.groups))
	for _, id := range t.groupOrder {
		if g, ok := t.groups[id]; ok {
			out = append(out, g)
		}
	}
	return out
}

// compact drops deleted ids from the order slices once they dominate.
func (t *Tenant) compact() {
	if len(t.userOrder) > 2*len(t.users)+64 {
		t.userOrder = slices.DeleteFunc(t.userOrder, func(id string) bool { _, ok := t.users[id]; return !ok })
	}
	if len(t.groupOrder) > 2*len(t.groups)+64 {
		t.groupOrder = slices.DeleteFunc(t.groupOrder, func(id string) bool { _, ok := t.groups[id]; return !ok })
	}
}

// transitive returns the transitive members of g: nested groups and their
// members, each once, depth first in member order.
func (t *Tenant) transitive(g *Group) []string {
	seen := map[string]bool{g.ID: true}
	var out []string
	var walk func(*Group)
	walk = func(g *Group) {
		for _, m := range g.Members {
			if seen[m] {
				continue
			}
			seen[m] = true
			out = append(out, m)
			if ng, ok := t.groups[m]; ok {
				walk(ng)
			}
		}
	}
	walk(g)
	return out
}
