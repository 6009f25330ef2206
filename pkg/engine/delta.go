package engine

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// deltaShardSize is how many group ids one delta query filters on (Graph's
// limit for the group delta id filter).
const deltaShardSize = 50

// shards splits the scope into sorted delta shards.
func shards(scope []string) [][]string {
	ids := slices.Compact(slices.Sorted(slices.Values(scope)))
	var out [][]string
	for len(ids) > 0 {
		n := min(len(ids), deltaShardSize)
		out = append(out, ids[:n])
		ids = ids[n:]
	}
	return out
}

func shardKey(ids []string) string {
	h := sha256.Sum256([]byte(strings.Join(ids, ",")))
	return hex.EncodeToString(h[:8])
}

// DeltaSync applies the source's group changes since the last pass, shard by
// shard: exact membership changes from /groups/delta, a rename, a deleted
// group. A shard without a stored delta link, or whose link expired, gets a
// full sync of its groups and a fresh link.
func (e *Engine) DeltaSync(ctx context.Context, ro RunOptions) (*Report, error) {
	var total *Report
	for _, ids := range shards(e.opts.Scope) {
		rep, err := e.deltaShard(ctx, ids, ro)
		if total == nil {
			total = rep
		} else {
			total.Merge(rep)
		}
		if err != nil {
			return total, err
		}
	}
	if total == nil {
		total = &Report{Run: newRunID(), Started: e.clock.Now(), Finished: e.clock.Now(), Plan: &Plan{}}
	}
	return total, nil
}

// Sharding maps scoped source groups to their delta shards: sorted chunks of
// up to 50 ids, each read by one /groups/delta query. It is a pure function
// of the scope, so the webhook can use it without Graph access.
type Sharding struct{ shards [][]string }

// NewSharding shards a scope.
func NewSharding(scope []string) Sharding { return Sharding{shards: shards(scope)} }

// ShardOf returns the shard key of a scoped group, "" when out of scope.
// Changes to groups of one shard are applied by one delta pass, so queueing
// by shard coalesces them.
func (s Sharding) ShardOf(groupID string) string {
	for _, ids := range s.shards {
		if _, found := slices.BinarySearch(ids, groupID); found {
			return shardKey(ids)
		}
	}
	return ""
}

// InScope reports whether a source group is synced.
func (s Sharding) InScope(groupID string) bool { return s.ShardOf(groupID) != "" }

// Shard returns the group ids of a shard key.
func (s Sharding) Shard(key string) ([]string, bool) {
	for _, ids := range s.shards {
		if shardKey(ids) == key {
			return ids, true
		}
	}
	return nil, false
}

// Keys lists the shard keys.
func (s Sharding) Keys() []string {
	out := make([]string, len(s.shards))
	for i, ids := range s.shards {
		out[i] = shardKey(ids)
	}
	return out
}

// ShardOf returns the delta shard key of a scoped source group ("" when the
// group is not in scope).
func (e *Engine) ShardOf(groupID string) string { return e.sharding.ShardOf(groupID) }

// InScope reports whether a source group is synced.
func (e *Engine) InScope(groupID string) bool { return e.sharding.InScope(groupID) }

// SyncShard fully syncs the groups of one shard (a fan-out part of a
// reconcile). A shard without a stored delta link gets one, taken before
// the sync's reads, so that its next change is applied by a delta pass.
func (e *Engine) SyncShard(ctx context.Context, key string, ro RunOptions) (*Report, error) {
	ids, ok := e.sharding.Shard(key)
	if !ok {
		return nil, fmt.Errorf("shard %s: %w", key, ErrNotFound)
	}
	var links []shardLink
	if !ro.DryRun {
		links = e.startShardLinks(ctx, [][]string{ids})
	}
	rep, err := e.SyncGroups(ctx, ids, ro)
	if err == nil || errors.Is(err, ErrThreshold) {
		e.keepShardLinks(ctx, links, rep)
	}
	return rep, err
}

// shardLink is a delta link taken for a shard before a full sync of it.
type shardLink struct {
	key  string
	ids  []string
	link string
}

// shardDeltaStart takes, before a full reconcile reads anything, a delta
// link ($deltatoken=latest: one request, no data) for each shard that has
// none stored, so that the first change of a shard after the reconcile is
// applied by a delta pass, not by a full sync of the shard (keepShardLinks
// stores them once the reconcile has applied the shard's groups).
func (e *Engine) shardDeltaStart(ctx context.Context) []shardLink {
	return e.startShardLinks(ctx, shards(e.opts.Scope))
}

// startShardLinks takes a delta link for each of these shards without a
// stored one. A shard whose link cannot be taken is left out: its first
// delta pass takes one, as before.
func (e *Engine) startShardLinks(ctx context.Context, all [][]string) []shardLink {
	need := make([]bool, len(all))
	forEach(ctx, len(all), e.opts.concurrency(), func(i int) {
		_, err := e.store.Get(ctx, RecordDelta, shardKey(all[i]))
		need[i] = errors.Is(err, ErrNotFound)
	}, nil)
	links := make([]shardLink, len(all))
	forEach(ctx, len(all), e.opts.concurrency(), func(i int) {
		if !need[i] {
			return
		}
		key := shardKey(all[i])
		link, err := e.src.LatestDeltaLink(ctx, all[i])
		if err != nil {
			e.log.Warn("start delta for shard", "shard", key, "err", err)
			return
		}
		links[i] = shardLink{key: key, ids: all[i], link: link}
	}, nil)
	return slices.DeleteFunc(links, func(l shardLink) bool { return l.link == "" })
}

// keepShardLinks stores the links taken before a full sync, for the shards
// whose groups the run applied without a failure: a failed change is not
// after the link, so a delta pass would not see it again, and that
// shard's first pass syncs it fully instead. A link stored meanwhile (a
// delta pass's full sync) is kept.
func (e *Engine) keepShardLinks(ctx context.Context, links []shardLink, rep *Report) {
	if len(links) == 0 || rep == nil {
		return
	}
	failed, unattributed := failedGroups(rep)
	for _, l := range links {
		if unattributed || slices.ContainsFunc(l.ids, func(id string) bool { return failed[id] }) {
			e.log.Info("delta link of shard not stored: the sync of its groups failed", "shard", l.key)
			continue
		}
		if err := e.saveDelta(ctx, l.key, l.ids, l.link, 0); err != nil && !errors.Is(err, ErrConflict) {
			e.log.Warn("save delta link", "shard", l.key, "err", err)
		}
	}
}

// failedGroups are the source groups whose changes a run did not wholly
// apply: failed reads, failed group actions, and the groups a user whose
// provisioning failed was to join. unattributed reports a failure that
// names no group (an audit or a reference write, say): it may concern any.
func failedGroups(rep *Report) (groups map[string]bool, unattributed bool) {
	groups = map[string]bool{}
	var refs map[string][]string
	if rep.Plan != nil {
		refs = rep.Plan.refs
		for _, f := range rep.Plan.Failed {
			groups[f.Group] = true
		}
	}
	counted := 0
	for _, r := range rep.Results {
		n := len(r.Failed)
		if r.Outcome != OutcomeOK {
			n++
		}
		if n == 0 {
			continue
		}
		counted += n
		switch {
		case r.Action.Group != "":
			groups[r.Action.Group] = true
		case r.Action.User != "":
			for _, g := range refs[r.Action.User] {
				groups[g] = true
			}
		default:
			unattributed = true
		}
	}
	return groups, unattributed || rep.Summary.Failures > counted
}

// SyncUnscoped releases or deletes the mirrors of mapped groups that left the
// scope (the other fan-out part of a reconcile).
func (e *Engine) SyncUnscoped(ctx context.Context, ro RunOptions) (*Report, error) {
	maps, err := LoadGroupMappings(ctx, e.store)
	if err != nil {
		return nil, err
	}
	var gone []string
	for _, m := range maps {
		if !e.sharding.InScope(m.SourceID) {
			gone = append(gone, m.SourceID)
		}
	}
	return e.SyncGroups(ctx, gone, ro)
}

// DeltaShard runs the delta pass of one shard (a key from ShardOf).
func (e *Engine) DeltaShard(ctx context.Context, key string, ro RunOptions) (*Report, error) {
	ids, ok := e.sharding.Shard(key)
	if !ok {
		return nil, fmt.Errorf("delta shard %s: %w", key, ErrNotFound)
	}
	return e.deltaShard(ctx, ids, ro)
}

func (e *Engine) deltaShard(ctx context.Context, ids []string, ro RunOptions) (*Report, error) {
	key := shardKey(ids)
	var ds DeltaState
	rec, err := e.store.Get(ctx, RecordDelta, key)
	if errors.Is(err, ErrNotFound) {
		// A full sync of these groups under way (serve's start-up
		// reconcile, whose link was taken before its reads) stores the
		// shard's link when it ends: wait for it and look again, rather
		// than sync the shard fully a second time.
		e.locks.lock(ids)()
		rec, err = e.store.Get(ctx, RecordDelta, key)
	}
	switch {
	case errors.Is(err, ErrNotFound):
		return e.baseline(ctx, ids, key, DeltaState{}, ro)
	case err != nil:
		return nil, fmt.Errorf("load delta link %s: %w", key, err)
	}
	if err := json.Unmarshal(rec.Data, &ds); err != nil {
		return nil, fmt.Errorf("decode delta link %s: %w", key, err)
	}
	ds.Version = rec.Version
	res, err := e.src.GroupDelta(ctx, ids, ds.Link)
	if errors.Is(err, ErrDeltaExpired) {
		e.log.Info("delta link expired, full sync of shard", "shard", key, "groups", len(ids))
		return e.baseline(ctx, ids, key, ds, ro)
	}
	if err != nil {
		return nil, fmt.Errorf("read group delta: %w", err)
	}
	// A halt of the deletion guard still applies the additions and moves
	// the link on: the held removals wait for the approved reconcile, which
	// is level-triggered and finds them again.
	rep, resync, halt := e.applyDelta(ctx, ids, res.Changes, ro)
	if halt != nil && !errors.Is(halt, ErrThreshold) {
		return rep, halt
	}
	if len(resync) > 0 && !ro.DryRun {
		again, err := e.SyncGroups(ctx, resync, RunOptions{AllowDeletions: ro.AllowDeletions, Trigger: ro.Trigger})
		rep.Merge(again)
		if err != nil && !errors.Is(err, ErrThreshold) {
			return rep, err
		}
		halt = cmp.Or(halt, err)
	}
	if ro.DryRun || rep.Failed() {
		// Keep the old link: the next pass sees these changes again.
		return rep, halt
	}
	return rep, cmp.Or(e.saveDelta(ctx, key, ids, res.Link, ds.Version), halt)
}

// baseline takes a fresh delta link, then fully syncs the shard's groups;
// changes after the link are replayed by the next pass.
func (e *Engine) baseline(ctx context.Context, ids []string, key string, old DeltaState, ro RunOptions) (*Report, error) {
	link, err := e.src.LatestDeltaLink(ctx, ids)
	if err != nil {
		return nil, fmt.Errorf("start delta for shard %s: %w", key, err)
	}
	rep, err := e.SyncGroups(ctx, ids, ro)
	if (err != nil && !errors.Is(err, ErrThreshold)) || ro.DryRun || rep.Failed() {
		return rep, err
	}
	serr := e.saveDelta(ctx, key, ids, link, old.Version)
	if errors.Is(serr, ErrConflict) {
		// Another full sync of the shard stored its link meanwhile (a
		// reconcile's, when the change came while it ran, this sync
		// waiting for it). Either link is safe; this one, taken after the
		// change, is kept, so the change is not replayed (a replayed
		// removal would count against the deletion guard again).
		serr = e.replaceDelta(ctx, key, ids, link)
	}
	return rep, cmp.Or(serr, err)
}

// replaceDelta stores link over whatever delta link of the shard is
// stored.
func (e *Engine) replaceDelta(ctx context.Context, key string, ids []string, link string) error {
	var version int64
	rec, err := e.store.Get(ctx, RecordDelta, key)
	switch {
	case err == nil:
		version = rec.Version
	case !errors.Is(err, ErrNotFound):
		return fmt.Errorf("load delta link %s: %w", key, err)
	}
	return e.saveDelta(ctx, key, ids, link, version)
}

func (e *Engine) saveDelta(ctx context.Context, key string, ids []string, link string, version int64) error {
	data, _ := json.Marshal(DeltaState{Key: key, IDs: ids, Link: link, Updated: e.clock.Now()})
	if _, err := e.store.Put(ctx, RecordDelta, key, version, data); err != nil {
		return fmt.Errorf("save delta link %s: %w", key, err)
	}
	return nil
}

// applyDelta plans and applies one delta round's changes. It returns the
// groups that need a full sync instead (never synced, changed kind, nested
// changes when flattening).
func (e *Engine) applyDelta(ctx context.Context, ids []string, changes []GroupChange, ro RunOptions) (*Report, []string, error) {
	unlock := e.locks.lock(ids)
	defer unlock()
	rep := &Report{Run: newRunID(), Started: e.clock.Now(), DryRun: ro.DryRun}
	changes = slices.DeleteFunc(slices.Clone(changes), func(ch GroupChange) bool { return !slices.Contains(ids, ch.ID) })
	st, err := e.deltaState(ctx, changes)
	if err != nil {
		return nil, nil, err
	}
	// Read what the delta does not say about new, unmapped members.
	var unknown []string
	for _, ch := range changes {
		for _, mc := range ch.Members {
			if !mc.Removed && mc.Member.Type != TypeGroup && !st.users[mc.Member.ID].mapped() {
				unknown = append(unknown, mc.Member.ID)
			}
		}
	}
	users := map[string]Member{}
	snap := &Snapshot{}
	if len(unknown) > 0 {
		if users, err = e.src.Users(ctx, slices.Compact(slices.Sorted(slices.Values(unknown)))); err != nil {
			return nil, nil, fmt.Errorf("read new members: %w", err)
		}
		var eligible []Member
		for _, u := range users {
			if !u.IsGuest() {
				eligible = append(eligible, u)
			}
		}
		if snap.UsersByLink, snap.UsersByAddress, err = e.lookupUsers(ctx, eligible); err != nil {
			return nil, nil, err
		}
	}
	pl := newPlanner(e.opts, st, snap)
	var resync []string
	for _, ch := range changes {
		if pl.deltaGroup(ch, users) {
			resync = append(resync, ch.ID)
		}
	}
	rep.Plan = pl.finish()
	_, halt, err := e.execute(ctx, st, rep, ro)
	if err != nil {
		return rep, nil, err
	}
	return rep, resync, halt
}

// deltaState loads what a delta round's changes name: the mappings of
// the changed groups and of the members that changed, read by key, so a
// pass costs what changed, not what is stored (a round without changes
// reads no mapping). A mapped group deleted in the source is the
// exception: its references are dropped from every user mapping that
// lists it, and the store keeps no index of users by group, so the user
// mappings are listed then.
func (e *Engine) deltaState(ctx context.Context, changes []GroupChange) (*state, error) {
	var gids, uids []string
	for _, ch := range changes {
		gids = append(gids, ch.ID)
		for _, mc := range ch.Members {
			if mc.Member.Type != TypeGroup {
				uids = append(uids, mc.Member.ID)
			}
		}
	}
	workers := e.opts.concurrency()
	st, err := loadStateOf(ctx, e.store, gids, nil, workers)
	if err != nil {
		return nil, err
	}
	all := slices.ContainsFunc(changes, func(ch GroupChange) bool { return ch.Removed && st.groups[ch.ID] != nil })
	if err := st.loadUsers(ctx, uids, all, workers); err != nil {
		return nil, err
	}
	return st, nil
}

// deltaGroup plans one group of a delta round; it reports whether the group
// needs a full sync instead.
func (pl *planner) deltaGroup(ch GroupChange, users map[string]Member) (resync bool) {
	gid := ch.ID
	m := pl.st.groups[gid]
	if ch.Removed {
		if m != nil {
			pl.skip(gid, m.SourceName, "deleted in the source")
			pl.unscoped(m, "deleted in the source")
		}
		return false
	}
	if !m.live() {
		return true
	}
	sg := syncedGroup{delta: true, name: m.TargetName, kind: m.Kind}
	if ch.Group != nil {
		if !ch.Group.Kind().Syncable() {
			return true
		}
		sg.kind = ch.Group.Kind()
		if ch.Group.DisplayName != m.SourceName {
			spec, err := pl.opts.targetSpec(*ch.Group)
			if err != nil {
				pl.p.Failed = append(pl.p.Failed, Skip{Group: gid, Name: ch.Group.DisplayName, Reason: err.Error()})
				return false
			}
			pl.p.Actions = append(pl.p.Actions, Action{Kind: ActUpdateGroup, Group: gid, GroupName: ch.Group.DisplayName, Target: m.TargetID, Spec: &spec, Reason: "renamed in the source"})
			sg.name = spec.DisplayName
		}
	}
	var add, remove []string
	var n skipCounts
	for _, mc := range ch.Members {
		uid := mc.Member.ID
		if mc.Removed {
			sg.source--
		} else {
			sg.source++
		}
		if mc.Member.Type == TypeGroup {
			if pl.opts.NestedGroups == NestedFlatten {
				return true
			}
			n.nested++
			continue
		}
		if mc.Removed {
			if um := pl.st.users[uid]; um.mapped() {
				remove = append(remove, um.TargetID)
				pl.setRef(uid, gid, false)
			}
			continue
		}
		mem, known := users[uid]
		if um := pl.st.users[uid]; um.mapped() {
			mem, known = Member{ID: uid, Type: TypeUser, Mail: um.Mail}, true
		}
		if !known || mem.Type != TypeUser {
			continue
		}
		if mem.IsGuest() {
			n.guests++
			continue
		}
		tid, conflict := pl.targetFor(mem)
		if conflict != "" {
			pl.p.Skipped = append(pl.p.Skipped, Skip{Group: gid, Name: m.SourceName, Member: uid, Reason: conflict})
			continue
		}
		if tid == "" {
			continue
		}
		add = append(add, uid)
		pl.setRef(uid, gid, true)
	}
	pl.memberSkips(gid, m.SourceName, n)
	if len(add) > 0 {
		slices.Sort(add)
		pl.p.Actions = append(pl.p.Actions, Action{Kind: ActAddMembers, Group: gid, GroupName: m.SourceName, Users: add})
	}
	if len(remove) > 0 {
		slices.Sort(remove)
		pl.p.Actions = append(pl.p.Actions, Action{Kind: ActRemoveMembers, Group: gid, GroupName: m.SourceName, Users: remove})
	}
	pl.p.synced[gid] = sg
	return false
}
