package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"
)

// MirrorWatch reads the target tenant's changes to the mirrors: Graph's
// group delta on the target, as Source reads the source's. With one, the
// engine's mirror pass (MirrorShard) repairs what others changed in the
// mirrors within seconds instead of at the next reconcile.
type MirrorWatch interface {
	// GroupDelta runs one delta round over the target group ids from link;
	// ErrDeltaExpired when the link is no longer valid.
	GroupDelta(ctx context.Context, ids []string, link string) (DeltaResult, error)
	// LatestDeltaLink returns a delta link over ids positioned at now.
	LatestDeltaLink(ctx context.Context, ids []string) (string, error)
}

// ErrNoWatch is a mirror pass asked of an engine that does not watch the
// mirrors (server.watch_mirrors false).
var ErrNoWatch = errors.New("the engine does not watch the mirrors")

// WatchMirrors gives the engine the target's group delta: from then on
// every run records its writes to the mirrors (the echo the mirror pass
// recognises) and MirrorShard works. Call it before the engine runs.
func (e *Engine) WatchMirrors(w MirrorWatch) { e.mirrors = w }

// mirrorKeyPrefix prefixes a shard's key for its MirrorState record.
const mirrorKeyPrefix = "mirrors:"

// MirrorState is the mirror pass's record of one delta shard: the delta
// link over the shard's mirrors (IDs, target group ids) and what xtsync
// wrote to them since the link (Echo, by target group id), which the next
// pass finds in the delta and recognises as its own.
type MirrorState struct {
	Key  string           `json:"key"`
	IDs  []string         `json:"ids"`
	Link string           `json:"link"`
	Echo map[string]*Echo `json:"echo,omitempty"`
	// Drift are source groups whose mirror a run found changed by someone
	// else when it moved the link on (the mirrors changed): the next pass
	// syncs them.
	Drift   []string  `json:"drift,omitempty"`
	Updated time.Time `json:"updated"`
	Version int64     `json:"-"`
}

// MirrorShard is the mirror pass of one delta shard, run when the target
// notifies a change of one of its mirrors: it reads the target's delta of
// the shard's mirrors (one cheap request), drops the changes xtsync made
// itself (the echo its runs recorded), and fully syncs the source groups
// whose mirror someone else changed (a member added or removed, renamed,
// deleted: restored or recreated), which puts the mirror back as the
// source says. Without a link (or with an expired one) it takes a fresh
// link and checks nothing (the reconcile repairs what changed before);
// when the shard's mirrors are no longer the link's, it reads the old link
// first, then takes a fresh one over the mirrors now. It writes nothing
// when the changes are all xtsync's own. It is no dry run: ro goes to the
// syncs it starts.
func (e *Engine) MirrorShard(ctx context.Context, key string, ro RunOptions) (*Report, error) {
	ids, ok := e.sharding.Shard(key)
	if !ok {
		return nil, fmt.Errorf("mirror pass of shard %s: %w", key, ErrNotFound)
	}
	if e.mirrors == nil {
		return nil, fmt.Errorf("mirror pass of shard %s: %w", key, ErrNoWatch)
	}
	drift, err := e.mirrorDrift(ctx, key, ids)
	if err != nil || len(drift) == 0 {
		return &Report{Run: newRunID(), Started: e.clock.Now(), Finished: e.clock.Now(), Plan: &Plan{}}, err
	}
	e.log.Info("mirrors changed in the target", "shard", key, "groups", len(drift))
	rep, err := e.SyncGroups(ctx, drift, ro)
	if rep != nil {
		rep.Drifted = drift
	}
	return rep, err
}

// mirrorDrift reads the shard's mirror delta and returns the source
// groups whose mirror changed other than by xtsync (with those a run found
// so, MirrorState.Drift). The read is made without the groups' locks, so
// that a run's writes do not wait for it; under the locks after, the echo
// is read again (a run may have recorded writes meanwhile: they are
// recognised, and kept for the next pass, which their notifications
// queue), and the next link stored. When the link moved on meanwhile, or
// the shard's mirrors changed, the pass is made again under the locks.
func (e *Engine) mirrorDrift(ctx context.Context, key string, ids []string) ([]string, error) {
	ms, err := e.loadMirrorState(ctx, key)
	if err != nil {
		return nil, err
	}
	var res *DeltaResult
	if ms.Link != "" && len(ms.IDs) > 0 {
		r, err := e.mirrors.GroupDelta(ctx, ms.IDs, ms.Link)
		switch {
		case errors.Is(err, ErrDeltaExpired):
		case err != nil:
			return nil, fmt.Errorf("read the mirrors' delta of shard %s: %w", key, err)
		default:
			res = &r
		}
	}
	unlock := e.locks.lock(ids)
	defer unlock()
	cur, err := e.loadMirrorState(ctx, key)
	if err != nil {
		return nil, err
	}
	sourceOf, err := e.shardMirrors(ctx, ids)
	if err != nil {
		return nil, err
	}
	if res == nil || cur.Link != ms.Link || !slices.Equal(cur.IDs, slices.Sorted(maps.Keys(sourceOf))) {
		return e.advanceMirrors(ctx, cur, ids)
	}
	drift := driftOf(res.Changes, sourceOf, cur.Echo, cur.Drift)
	next := MirrorState{Key: key, IDs: cur.IDs, Link: res.Link, Echo: echoSince(cur.Echo, ms.Echo), Version: cur.Version}
	if err := e.saveMirrorState(ctx, next); err != nil {
		return nil, err
	}
	return drift, nil
}

// driftOf adds to drift the source groups of the changes that are not
// xtsync's own (echo), sorted.
func driftOf(changes []GroupChange, sourceOf map[string]*GroupMapping, echo map[string]*Echo, drift []string) []string {
	drift = slices.Clone(drift)
	for _, ch := range changes {
		m := sourceOf[strings.ToLower(ch.ID)]
		if m != nil && !slices.Contains(drift, m.SourceID) && !echo[strings.ToLower(ch.ID)].ours(ch, m.TargetName) {
			drift = append(drift, m.SourceID)
		}
	}
	slices.Sort(drift)
	return drift
}

// advanceMirrors reads the delta of ms's link, if it has a good one, and
// stores the next link: the delta's, or a fresh one over the shard's
// mirrors now when there was none, it expired or the mirrors changed. It
// returns the groups whose mirror someone else changed, with ms.Drift.
// Call it with the shard's groups locked.
func (e *Engine) advanceMirrors(ctx context.Context, ms MirrorState, ids []string) ([]string, error) {
	sourceOf, err := e.shardMirrors(ctx, ids)
	if err != nil {
		return nil, err
	}
	targets := slices.Sorted(maps.Keys(sourceOf))
	drift, link := ms.Drift, ""
	if len(targets) == 0 {
		return drift, nil
	}
	if ms.Link != "" {
		res, err := e.mirrors.GroupDelta(ctx, ms.IDs, ms.Link)
		switch {
		case errors.Is(err, ErrDeltaExpired):
		case err != nil:
			return nil, fmt.Errorf("read the mirrors' delta of shard %s: %w", ms.Key, err)
		default:
			link = res.Link
			drift = driftOf(res.Changes, sourceOf, ms.Echo, drift)
		}
	}
	if link == "" || !slices.Equal(ms.IDs, targets) {
		if link, err = e.mirrors.LatestDeltaLink(ctx, targets); err != nil {
			return nil, fmt.Errorf("start the mirrors' delta of shard %s: %w", ms.Key, err)
		}
		e.log.Info("mirror link taken", "shard", ms.Key, "mirrors", len(targets))
	}
	// The echo is spent: the delta has passed everything written before.
	next := MirrorState{Key: ms.Key, IDs: targets, Link: link, Version: ms.Version}
	if err := e.saveMirrorState(ctx, next); err != nil {
		return nil, err
	}
	slices.Sort(drift)
	return drift, nil
}

// shardMirrors are the live mirrors of a shard's groups, by target id.
func (e *Engine) shardMirrors(ctx context.Context, ids []string) (map[string]*GroupMapping, error) {
	st, err := loadStateOf(ctx, e.store, ids, nil, e.opts.concurrency())
	if err != nil {
		return nil, err
	}
	out := map[string]*GroupMapping{}
	for _, id := range ids {
		if m := st.groups[id]; m.live() {
			out[strings.ToLower(m.TargetID)] = m
		}
	}
	return out, nil
}

// loadMirrorState reads a shard's mirror record (empty when none).
func (e *Engine) loadMirrorState(ctx context.Context, key string) (MirrorState, error) {
	rec, err := e.store.Get(ctx, RecordDelta, mirrorKeyPrefix+key)
	switch {
	case errors.Is(err, ErrNotFound):
		return MirrorState{Key: key}, nil
	case err != nil:
		return MirrorState{}, fmt.Errorf("load the mirror link of shard %s: %w", key, err)
	}
	var ms MirrorState
	if err := json.Unmarshal(rec.Data, &ms); err != nil {
		return MirrorState{}, fmt.Errorf("decode the mirror link of shard %s: %w", key, err)
	}
	ms.Version = rec.Version
	return ms, nil
}

// saveMirrorState stores ms over the version it was read at.
func (e *Engine) saveMirrorState(ctx context.Context, ms MirrorState) error {
	ms.Updated = e.clock.Now()
	data, _ := json.Marshal(ms)
	if _, err := e.store.Put(ctx, RecordDelta, mirrorKeyPrefix+ms.Key, ms.Version, data); err != nil {
		return fmt.Errorf("save the mirror link of shard %s: %w", ms.Key, err)
	}
	return nil
}
