package engine

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"
)

// Progress reports how far a run has come.
type Progress struct {
	Stage string // "read", "apply"
	Done  int
	Total int
}

// forEach runs f for each index with bounded concurrency, reporting progress.
func forEach(ctx context.Context, n, workers int, f func(i int), progress func(done int)) {
	var wg sync.WaitGroup
	sem := make(chan struct{}, workers)
	var mu sync.Mutex
	done := 0
	for i := 0; i < n; i++ {
		if ctx.Err() != nil {
			break
		}
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			f(i)
			mu.Lock()
			done++
			d := done
			mu.Unlock()
			if progress != nil {
				progress(d)
			}
		}()
	}
	wg.Wait()
}

// read builds the snapshot of scope from both tenants: batched group reads,
// member pages, the mirrors found by mailNickname for groups without one,
// and the link and address lookups for unmapped members. Reads that fail
// for one group are recorded on it; reads that fail for all fail the run.
func (e *Engine) read(ctx context.Context, st *state, scope []string, full bool, ro RunOptions) (*Snapshot, error) {
	snap := &Snapshot{Scope: scope, Full: full, Source: map[string]SourceGroup{}, Target: map[string]TargetGroup{}, Mirrors: map[string][]Group{}}
	found, err := e.src.Groups(ctx, scope)
	if err != nil {
		return nil, fmt.Errorf("read source groups: %w", err)
	}
	type job struct {
		id     string
		target bool
	}
	var jobs []job
	var mappedTargets []string
	var syncable []string
	for _, id := range scope {
		g, ok := found[id]
		snap.Source[id] = SourceGroup{Found: ok, Group: g}
		if ok && g.Kind().Syncable() {
			jobs = append(jobs, job{id: id})
			syncable = append(syncable, id)
			if m := st.groups[id]; m.live() {
				mappedTargets = append(mappedTargets, m.TargetID)
			}
		}
	}
	// A full reconcile lists every mirror (to see duplicates); the mapped
	// targets it lists need no read by id.
	targets := map[string]Group{}
	if full {
		gs, err := e.dst.Mirrors(ctx)
		if err != nil {
			return nil, fmt.Errorf("read target mirrors: %w", err)
		}
		addMirrors(snap, gs)
		snap.MirrorsListed = true
		for _, g := range gs {
			targets[g.ID] = g
		}
	}
	var byID []string
	for _, tid := range mappedTargets {
		if _, listed := targets[tid]; !listed {
			byID = append(byID, tid)
		}
	}
	if len(byID) > 0 {
		gs, err := e.dst.Groups(ctx, byID)
		if err != nil {
			return nil, fmt.Errorf("read target groups: %w", err)
		}
		maps.Copy(targets, gs)
	}
	for _, tid := range mappedTargets {
		if g, ok := targets[tid]; ok {
			snap.Target[tid] = TargetGroup{Group: g}
			jobs = append(jobs, job{id: tid, target: true})
		}
	}
	if err := e.readMirrors(ctx, st, snap, syncable); err != nil {
		return nil, err
	}
	for _, gid := range syncable {
		for _, g := range snap.Mirrors[TargetNickname(gid)] {
			if _, known := snap.Target[g.ID]; !known {
				snap.Target[g.ID] = TargetGroup{Group: g}
				jobs = append(jobs, job{id: g.ID, target: true})
			}
		}
	}
	var mu sync.Mutex
	flatten := e.opts.NestedGroups == NestedFlatten
	users := userInterner{}
	readJob := func(j job) {
		if j.target {
			ms, err := e.dst.Members(ctx, j.id)
			mu.Lock()
			users.intern(ms)
			tg := snap.Target[j.id]
			tg.Members, tg.Err = ms, err
			snap.Target[j.id] = tg
			mu.Unlock()
			return
		}
		ms, err := e.src.Members(ctx, j.id, flatten)
		mu.Lock()
		users.intern(ms)
		sg := snap.Source[j.id]
		sg.Members, sg.Err = ms, err
		snap.Source[j.id] = sg
		mu.Unlock()
	}
	forEach(ctx, len(jobs), e.opts.concurrency(), func(i int) { readJob(jobs[i]) }, func(done int) { ro.progress("read", done, len(jobs)) })
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	// One more try, one at a time, for reads that failed (throttling that
	// outlasted the client's retries): a failed read leaves its group alone.
	// A source read that came back without users while the mirror has
	// members is read once more too: an empty read must not become removals
	// unless it is confirmed.
	for _, j := range jobs {
		if j.target {
			if tg := snap.Target[j.id]; tg.Err != nil {
				readJob(j)
			}
			continue
		}
		sg := snap.Source[j.id]
		if sg.Err != nil || (!hasUsers(sg.Members) && e.mirrorHasUsers(st, snap, j.id)) {
			readJob(j)
		}
	}
	// Once per user and address: a user is a member of many groups.
	type key struct{ id, mail string }
	var unmapped []Member
	seen := map[key]bool{}
	for _, sg := range snap.Source {
		for _, m := range sg.Members {
			k := key{m.ID, m.Mail}
			if m.Type == TypeUser && !m.IsGuest() && !seen[k] && !st.users[m.ID].mapped() {
				seen[k] = true
				unmapped = append(unmapped, m)
			}
		}
	}
	snap.UsersByLink, snap.UsersByAddress, err = e.lookupUsers(ctx, unmapped)
	return snap, err
}

// userInterner shares one copy of a user's strings and Attrs map among the
// member lists of a snapshot. A user in many scoped groups is read once per
// group, and each read allocates its own strings and map (the map is most of
// a member's size): at 200 groups x 500 members over 10,000 users, the
// snapshot held 100,000 maps for 10,000 users. A member shares only values
// equal to the first read's, so what the plan sees is unchanged. The shared
// maps are read, never written (pick and attrDiff build new ones).
type userInterner map[string]Member

func (in userInterner) intern(ms []Member) {
	for i := range ms {
		m := &ms[i]
		if m.Type != TypeUser {
			continue
		}
		c, ok := in[m.ID]
		if !ok {
			in[m.ID] = *m
			continue
		}
		m.ID = c.ID
		m.DisplayName = same(c.DisplayName, m.DisplayName)
		m.Mail = same(c.Mail, m.Mail)
		m.UserPrincipalName = same(c.UserPrincipalName, m.UserPrincipalName)
		m.UserType = same(c.UserType, m.UserType)
		m.Link = same(c.Link, m.Link)
		if m.Attrs != nil && c.Attrs != nil && maps.Equal(c.Attrs, m.Attrs) {
			m.Attrs = c.Attrs
		}
	}
}

// same returns canonical when it equals v (so v's copy can be freed).
func same(canonical, v string) string {
	if canonical == v {
		return canonical
	}
	return v
}

func hasUsers(ms []Member) bool {
	return slices.ContainsFunc(ms, func(m Member) bool { return m.Type == TypeUser })
}

// mirrorHasUsers reports whether the mirror of gid, as read, has user
// members.
func (e *Engine) mirrorHasUsers(st *state, snap *Snapshot, gid string) bool {
	if m := st.groups[gid]; m.live() {
		if tg, ok := snap.Target[m.TargetID]; ok && hasUsers(tg.Members) {
			return true
		}
	}
	for _, g := range snap.Mirrors[TargetNickname(gid)] {
		if hasUsers(snap.Target[g.ID].Members) {
			return true
		}
	}
	return false
}

// pendingSettle is how long after an interrupted creation a missing mirror
// is looked for again before it is created: a group created moments ago
// may not be listed yet. mirrorRetries are the waits between the looks.
const pendingSettle = 2 * time.Minute

var mirrorRetries = []time.Duration{time.Second, 2 * time.Second}

// addMirrors indexes groups by lowercased mailNickname, once each.
func addMirrors(snap *Snapshot, gs []Group) {
	for _, g := range gs {
		nick := strings.ToLower(g.MailNickname)
		if !slices.ContainsFunc(snap.Mirrors[nick], func(o Group) bool { return o.ID == g.ID }) {
			snap.Mirrors[nick] = append(snap.Mirrors[nick], g)
		}
	}
}

// readMirrors finds the mirrors of the scoped groups without a live one by
// mailNickname (a full reconcile has listed every mirror already), and looks
// again for an interrupted creation's mirror not listed yet.
func (e *Engine) readMirrors(ctx context.Context, st *state, snap *Snapshot, syncable []string) error {
	add := func(gs []Group) { addMirrors(snap, gs) }
	var need []string
	for _, gid := range syncable {
		if m := st.groups[gid]; !m.live() {
			need = append(need, TargetNickname(gid))
		} else if _, live := snap.Target[m.TargetID]; !live {
			need = append(need, TargetNickname(gid))
		}
	}
	if !snap.MirrorsListed && len(need) > 0 {
		gs, err := e.dst.GroupsByNickname(ctx, need)
		if err != nil {
			return fmt.Errorf("find target mirrors: %w", err)
		}
		add(gs)
	}
	// An interrupted creation whose mirror is not listed yet: look again
	// before the plan creates it a second time.
	for _, d := range mirrorRetries {
		var missing []string
		now := e.clock.Now()
		for _, gid := range syncable {
			m := st.groups[gid]
			nick := TargetNickname(gid)
			if m != nil && !m.live() && !m.Pending.IsZero() && now.Sub(m.Pending) < pendingSettle && len(snap.Mirrors[nick]) == 0 {
				missing = append(missing, nick)
			}
		}
		if len(missing) == 0 {
			return nil
		}
		e.log.Info("interrupted group creation not listed yet, looking again", "groups", len(missing), "wait", d)
		if err := sleep(ctx, d); err != nil {
			return err
		}
		gs, err := e.dst.GroupsByNickname(ctx, missing)
		if err != nil {
			return fmt.Errorf("find target mirrors: %w", err)
		}
		add(gs)
	}
	return nil
}

// lookupUsers finds target users for unmapped source members: by their
// link (users xtsync created, after a lost state), then by address.
func (e *Engine) lookupUsers(ctx context.Context, members []Member) (map[string]User, map[string][]User, error) {
	var links []string
	seen := map[string]bool{}
	for _, m := range members {
		if !seen[m.ID] {
			seen[m.ID] = true
			links = append(links, LinkValue(e.opts.SourceTenant, m.ID))
		}
	}
	byLink := map[string]User{}
	byAddr := map[string][]User{}
	if len(links) == 0 {
		return byLink, byAddr, nil
	}
	slices.Sort(links)
	var err error
	if byLink, err = lookupChunked(ctx, e, links, e.dst.UsersByLink); err != nil {
		return nil, nil, fmt.Errorf("look up target users by link: %w", err)
	}
	var addrs []string
	for _, m := range members {
		if _, linked := byLink[LinkValue(e.opts.SourceTenant, m.ID)]; !linked && m.Mail != "" {
			addrs = append(addrs, strings.ToLower(m.Mail))
		}
	}
	slices.Sort(addrs)
	addrs = slices.Compact(addrs)
	if len(addrs) > 0 {
		if byAddr, err = lookupChunked(ctx, e, addrs, e.dst.UsersByAddress); err != nil {
			return nil, nil, fmt.Errorf("look up target users by address: %w", err)
		}
	}
	return byLink, byAddr, nil
}

// lookupChunked runs a lookup over keys in chunks, Options.Concurrency at
// once, and merges the answers. A chunk is a multiple of readChunk keys
// (the adapters ask 15 values, or 5 addresses, per request), so the
// requests are the same as one call's would be, only in flight together.
func lookupChunked[V any](ctx context.Context, e *Engine, keys []string, lookup func(context.Context, []string) (map[string]V, error)) (map[string]V, error) {
	per := readChunk * max(1, (len(keys)+readChunk*e.opts.concurrency()-1)/(readChunk*e.opts.concurrency()))
	chunks := slices.Collect(slices.Chunk(keys, per))
	out := map[string]V{}
	errs := make([]error, len(chunks))
	var mu sync.Mutex
	forEach(ctx, len(chunks), e.opts.concurrency(), func(i int) {
		got, err := lookup(ctx, chunks[i])
		if err != nil {
			errs[i] = err
			return
		}
		mu.Lock()
		maps.Copy(out, got)
		mu.Unlock()
	}, nil)
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return out, ctx.Err()
}

// sleep waits d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
