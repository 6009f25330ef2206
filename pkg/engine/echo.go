package engine

import (
	"cmp"
	"context"
	"errors"
	"maps"
	"slices"
	"strings"
)

// maxEcho bounds the ids one shard's echo keeps (a DynamoDB item is at most
// 400 KB): a run that would keep more (an initial sync) reads the delta
// itself at its end, recognising its writes, and stores the next link.
const maxEcho = 5000

// Echo is what xtsync wrote to one mirror since the shard's mirror link:
// the target members it added and those it removed, the names it set, and
// Any when it created, restored or deleted the mirror (every change of it
// is then its own).
type Echo struct {
	Added   []string `json:"added,omitempty"`
	Removed []string `json:"removed,omitempty"`
	Names   []string `json:"names,omitempty"`
	Any     bool     `json:"any,omitempty"`
}

// size is the ids the echo keeps.
func (x *Echo) size() int { return len(x.Added) + len(x.Removed) + len(x.Names) }

// merge adds o's writes to x.
func (x *Echo) merge(o *Echo) {
	union := func(a, b []string) []string { return slices.Compact(slices.Sorted(slices.Values(append(a, b...)))) }
	x.Any = x.Any || o.Any
	x.Added, x.Removed, x.Names = union(x.Added, o.Added), union(x.Removed, o.Removed), union(x.Names, o.Names)
}

// ours reports whether a change the target's delta reported for a mirror
// is xtsync's own write: every member it names was added (or removed) by
// xtsync as the delta says, and its name is the one xtsync set (name: the
// mirror's name at its last sync). A member xtsync removed that the delta
// shows added is someone else's doing.
func (x *Echo) ours(ch GroupChange, name string) bool {
	switch {
	case x != nil && x.Any:
		return true
	case ch.Removed:
		return false
	case ch.Group != nil && ch.Group.DisplayName != "" && ch.Group.DisplayName != name && (x == nil || !slices.Contains(x.Names, ch.Group.DisplayName)):
		return false
	}
	if len(ch.Members) > 0 && x == nil {
		return false
	}
	for _, mc := range ch.Members {
		written := x.Added
		if mc.Removed {
			written = x.Removed
		}
		if !slices.Contains(written, strings.ToLower(mc.Member.ID)) {
			return false
		}
	}
	return true
}

// echoSince is what cur records beyond old: the writes recorded while a
// pass read the delta.
func echoSince(cur, old map[string]*Echo) map[string]*Echo {
	out := map[string]*Echo{}
	minus := func(a, b []string) []string {
		return slices.DeleteFunc(slices.Clone(a), func(v string) bool { return slices.Contains(b, v) })
	}
	for t, x := range cur {
		o := old[t]
		if o == nil {
			o = &Echo{}
		}
		d := &Echo{Added: minus(x.Added, o.Added), Removed: minus(x.Removed, o.Removed), Names: minus(x.Names, o.Names), Any: x.Any && !o.Any}
		if d.Any || d.size() > 0 {
			out[t] = d
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// recordEcho adds what the run wrote to the mirrors to the echo of their
// shards, for the next mirror pass to recognise; a shard of the run without
// a mirror link gets one (addEcho). A conflict with another writer is read
// again, a few times. Failed writes count too: a batch may have applied in
// part.
func (a *applier) recordEcho(ctx context.Context) {
	if a.e.mirrors == nil {
		return
	}
	byShard := map[string]map[string]*Echo{}
	note := func(gid, target string) *Echo {
		target = strings.ToLower(target)
		sh := a.e.sharding.ShardOf(gid)
		if sh == "" || target == "" {
			return nil
		}
		if byShard[sh] == nil {
			byShard[sh] = map[string]*Echo{}
		}
		x := byShard[sh][target]
		if x == nil {
			x = &Echo{}
			byShard[sh][target] = x
		}
		return x
	}
	for _, r := range a.rep.Results {
		act := r.Action
		target := cmp.Or(r.Target, act.Target)
		if m := a.st.groups[act.Group]; target == "" && m.live() {
			target = m.TargetID
		}
		x := note(act.Group, target)
		if x == nil {
			continue
		}
		switch act.Kind {
		case ActAddMembers:
			for _, sid := range act.Users {
				if um := a.st.users[sid]; um.mapped() {
					x.Added = append(x.Added, strings.ToLower(um.TargetID))
				}
			}
		case ActRemoveMembers:
			for _, tid := range act.Users {
				x.Removed = append(x.Removed, strings.ToLower(tid))
			}
		case ActUpdateGroup:
			if act.Spec != nil {
				x.Names = append(x.Names, act.Spec.DisplayName)
			}
		case ActCreateGroup, ActRestoreGroup, ActAdoptGroup, ActDeleteGroup, ActReleaseGroup:
			x.Any = true
		}
	}
	// Every shard the run synced a group of: one without a good link gets
	// one now, after the run's writes.
	for gid := range a.rep.Plan.synced {
		if sh := a.e.sharding.ShardOf(gid); sh != "" && byShard[sh] == nil {
			byShard[sh] = map[string]*Echo{}
		}
	}
	for _, sh := range slices.Sorted(maps.Keys(byShard)) {
		for range 3 {
			err := a.addEcho(ctx, sh, byShard[sh])
			if !errors.Is(err, ErrConflict) {
				if err != nil {
					a.e.log.Warn("record the mirrors' echo", "shard", sh, "err", err)
				}
				break
			}
		}
	}
}

// addEcho merges echo into shard sh's mirror record. A record without a
// link, one whose echo would grow past maxEcho, and one of a run that
// made, restored, adopted, deleted or released a mirror (the shard's
// mirrors may differ from the link's) is moved on instead (advanceMirrors,
// the run's writes recognised as its own): what someone else changed
// meanwhile is kept in Drift for the next pass. Only then are the shard's
// mappings read.
func (a *applier) addEcho(ctx context.Context, sh string, echo map[string]*Echo) error {
	ms, err := a.e.loadMirrorState(ctx, sh)
	if err != nil {
		return err
	}
	if ms.Echo == nil {
		ms.Echo = map[string]*Echo{}
	}
	mirrorsChanged := false
	for t, x := range echo {
		have := ms.Echo[t]
		if have == nil {
			have = &Echo{}
			ms.Echo[t] = have
		}
		have.merge(x)
		mirrorsChanged = mirrorsChanged || x.Any
	}
	n := 0
	for _, x := range ms.Echo {
		n += x.size()
	}
	if ms.Link != "" && n <= maxEcho && !mirrorsChanged {
		if len(echo) == 0 {
			return nil
		}
		return a.e.saveMirrorState(ctx, ms)
	}
	ids, _ := a.e.sharding.Shard(sh)
	drift, err := a.e.advanceMirrors(ctx, ms, ids)
	if err != nil || len(drift) == 0 {
		return err
	}
	again, err := a.e.loadMirrorState(ctx, sh)
	if err != nil {
		return err
	}
	again.Drift = drift
	return a.e.saveMirrorState(ctx, again)
}
