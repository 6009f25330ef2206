package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Provenance says how a target user came to be mapped.
type Provenance string

// Provenances. Only users the tool created may be deleted or disabled.
const (
	Created Provenance = "created" // invited by xtsync
	Matched Provenance = "matched" // existed in the target already
)

// GroupMapping links a source group to its target group.
type GroupMapping struct {
	SourceID   string    `json:"sourceId"`
	TargetID   string    `json:"targetId"`
	SourceName string    `json:"sourceName"`
	LastSync   time.Time `json:"lastSync"`
	// Members is how many target members the last sync left.
	Members int `json:"members"`
	// SourceMembers is how many members (of any type, nested groups
	// flattened when configured) the last sync read in the source group;
	// those it does not mirror are in the plan's skips.
	SourceMembers int `json:"sourceMembers,omitempty"`
	// TargetName is the mirror's display name the last sync set.
	TargetName string `json:"targetName,omitempty"`
	// Lag is how long after the source change was notified the last sync
	// that a notification started had applied it (zero until one has).
	Lag time.Duration `json:"lag,omitempty"`
	// Kind is the source group's kind at the last sync.
	Kind GroupKind `json:"kind,omitempty"`
	// Pending is when a run set out to create the mirror; TargetID is
	// empty until the creation is known. A later run looks for the mirror
	// by its mailNickname before creating again.
	Pending time.Time `json:"pending,omitzero"`
	Version int64     `json:"-"`
}

// live reports whether m maps a target group (not only an intent).
func (m *GroupMapping) live() bool { return m != nil && m.TargetID != "" }

// UserMapping links a source user to its target user.
type UserMapping struct {
	SourceID    string     `json:"sourceId"`
	TargetID    string     `json:"targetId"`
	Mail        string     `json:"mail"`
	DisplayName string     `json:"displayName,omitempty"`
	Provenance  Provenance `json:"provenance"`
	// Groups are the source groups the user is a synced member of.
	Groups []string `json:"groups,omitempty"`
	// Disabled is set when xtsync disabled the user.
	Disabled bool `json:"disabled,omitempty"`
	// Pending is when a run set out to invite the user; TargetID is empty
	// until the invitation's user is known and its provenance proved.
	Pending time.Time `json:"pending,omitzero"`
	Version int64     `json:"-"`
}

// mapped reports whether m maps a target user (not only an intent).
func (m *UserMapping) mapped() bool { return m != nil && m.TargetID != "" }

// pending is the invitation intent of m (zero when none).
func (m *UserMapping) pending() time.Time {
	if m == nil {
		return time.Time{}
	}
	return m.Pending
}

// DeltaState is the stored delta link of one shard of scoped groups.
type DeltaState struct {
	Key     string    `json:"key"`
	IDs     []string  `json:"ids"`
	Link    string    `json:"link"`
	Updated time.Time `json:"updated"`
	Version int64     `json:"-"`
}

// state is the engine's typed view of the store for one run: every
// mapping (loadState), or only the mappings a delta pass names
// (loadStateOf), which is all the planner and the applier look up then.
type state struct {
	store  Store
	groups map[string]*GroupMapping // by source id
	users  map[string]*UserMapping  // by source id
}

func newState(s Store) *state {
	return &state{store: s, groups: map[string]*GroupMapping{}, users: map[string]*UserMapping{}}
}

// loadState reads every group and user mapping.
func loadState(ctx context.Context, s Store) (*state, error) {
	st := newState(s)
	if err := st.loadGroups(ctx, nil, true, 1); err != nil {
		return nil, err
	}
	if err := st.loadUsers(ctx, nil, true, 1); err != nil {
		return nil, err
	}
	return st, nil
}

// keyedLoadMax is the most records of one kind a partial load reads by
// key, workers at a time; for more, the kind is listed (one query instead
// of many reads), which loads a superset.
const keyedLoadMax = 200

// loadStateOf reads the mappings of the given source groups and users
// only, each by key at its current version: the state of a delta pass,
// whose cost follows its changes, not the size of the state. A key not
// stored is absent, as in a full load.
func loadStateOf(ctx context.Context, s Store, groups, users []string, workers int) (*state, error) {
	st := newState(s)
	if err := st.loadGroups(ctx, groups, false, workers); err != nil {
		return nil, err
	}
	if err := st.loadUsers(ctx, users, false, workers); err != nil {
		return nil, err
	}
	return st, nil
}

// loadGroups adds the group mappings with these keys (every one when all).
func (st *state) loadGroups(ctx context.Context, keys []string, all bool, workers int) error {
	recs, err := readRecords(ctx, st.store, RecordGroup, keys, all, workers)
	if err != nil {
		return fmt.Errorf("load group mappings: %w", err)
	}
	for _, r := range recs {
		var m GroupMapping
		if err := json.Unmarshal(r.Data, &m); err != nil {
			return fmt.Errorf("decode group mapping %s: %w", r.Key, err)
		}
		m.Version = r.Version
		st.groups[r.Key] = &m
	}
	return nil
}

// loadUsers adds the user mappings with these keys (every one when all).
func (st *state) loadUsers(ctx context.Context, keys []string, all bool, workers int) error {
	recs, err := readRecords(ctx, st.store, RecordUser, keys, all, workers)
	if err != nil {
		return fmt.Errorf("load user mappings: %w", err)
	}
	for _, r := range recs {
		var m UserMapping
		if err := json.Unmarshal(r.Data, &m); err != nil {
			return fmt.Errorf("decode user mapping %s: %w", r.Key, err)
		}
		m.Version = r.Version
		st.users[r.Key] = &m
	}
	return nil
}

// readRecords reads the stored records of kind with keys, or every record
// of kind when all (or when there are more than keyedLoadMax keys).
func readRecords(ctx context.Context, s Store, kind RecordKind, keys []string, all bool, workers int) ([]Record, error) {
	keys = slices.Compact(slices.Sorted(slices.Values(keys)))
	if all || len(keys) > keyedLoadMax {
		return s.List(ctx, kind)
	}
	if len(keys) == 0 {
		return nil, nil
	}
	recs := make([]Record, len(keys))
	errs := make([]error, len(keys))
	forEach(ctx, len(keys), max(1, workers), func(i int) {
		recs[i], errs[i] = s.Get(ctx, kind, keys[i])
	}, nil)
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	out := recs[:0]
	for i, err := range errs {
		switch {
		case errors.Is(err, ErrNotFound):
		case err != nil:
			return nil, err
		default:
			out = append(out, recs[i])
		}
	}
	return out, nil
}

func (st *state) putGroup(ctx context.Context, m *GroupMapping) error {
	data, _ := json.Marshal(m)
	v, err := st.store.Put(ctx, RecordGroup, m.SourceID, m.Version, data)
	if err != nil {
		return fmt.Errorf("save group mapping %s: %w", m.SourceID, err)
	}
	m.Version = v
	st.groups[m.SourceID] = m
	return nil
}

func (st *state) deleteGroup(ctx context.Context, m *GroupMapping) error {
	if err := st.store.Delete(ctx, RecordGroup, m.SourceID, m.Version); err != nil && !errors.Is(err, ErrNotFound) {
		return fmt.Errorf("delete group mapping %s: %w", m.SourceID, err)
	}
	delete(st.groups, m.SourceID)
	return nil
}

func (st *state) putUser(ctx context.Context, m *UserMapping) error {
	slices.Sort(m.Groups)
	m.Groups = slices.Compact(m.Groups)
	data, _ := json.Marshal(m)
	v, err := st.store.Put(ctx, RecordUser, m.SourceID, m.Version, data)
	if err != nil {
		return fmt.Errorf("save user mapping %s: %w", m.SourceID, err)
	}
	m.Version = v
	st.users[m.SourceID] = m
	return nil
}

func (st *state) deleteUser(ctx context.Context, m *UserMapping) error {
	if err := st.store.Delete(ctx, RecordUser, m.SourceID, m.Version); err != nil && !errors.Is(err, ErrNotFound) {
		return fmt.Errorf("delete user mapping %s: %w", m.SourceID, err)
	}
	delete(st.users, m.SourceID)
	return nil
}

// LoadGroupMappings lists the stored group mappings (for status reports).
func LoadGroupMappings(ctx context.Context, s Store) ([]GroupMapping, error) {
	st := newState(s)
	if err := st.loadGroups(ctx, nil, true, 1); err != nil {
		return nil, err
	}
	out := make([]GroupMapping, 0, len(st.groups))
	for _, m := range st.groups {
		out = append(out, *m)
	}
	slices.SortFunc(out, func(a, b GroupMapping) int { return strings.Compare(a.SourceID, b.SourceID) })
	return out, nil
}
