package engine

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
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
// member pages, and mail lookups for unmapped members. Reads that fail for
// one group are recorded on it; reads that fail for all fail the run.
func (e *Engine) read(ctx context.Context, st *state, scope []string, full bool, ro RunOptions) (*Snapshot, error) {
	snap := &Snapshot{Scope: scope, Full: full, Source: map[string]SourceGroup{}, Target: map[string]TargetGroup{}, UsersByMail: map[string]User{}}
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
	for _, id := range scope {
		g, ok := found[id]
		snap.Source[id] = SourceGroup{Found: ok, Group: g}
		if ok && g.Kind().Syncable() {
			jobs = append(jobs, job{id: id})
			if m := st.groups[id]; m != nil {
				mappedTargets = append(mappedTargets, m.TargetID)
			}
		}
	}
	var targets map[string]Group
	if len(mappedTargets) > 0 {
		if targets, err = e.dst.Groups(ctx, mappedTargets); err != nil {
			return nil, fmt.Errorf("read target groups: %w", err)
		}
	}
	for _, tid := range mappedTargets {
		if g, ok := targets[tid]; ok {
			snap.Target[tid] = TargetGroup{Group: g}
			jobs = append(jobs, job{id: tid, target: true})
		}
	}
	var mu sync.Mutex
	flatten := e.opts.NestedGroups == NestedFlatten
	forEach(ctx, len(jobs), e.opts.concurrency(), func(i int) {
		j := jobs[i]
		if j.target {
			ms, err := e.dst.Members(ctx, j.id)
			mu.Lock()
			tg := snap.Target[j.id]
			tg.Members, tg.Err = ms, err
			snap.Target[j.id] = tg
			mu.Unlock()
			return
		}
		ms, err := e.src.Members(ctx, j.id, flatten)
		mu.Lock()
		sg := snap.Source[j.id]
		sg.Members, sg.Err = ms, err
		snap.Source[j.id] = sg
		mu.Unlock()
	}, func(done int) { ro.progress("read", done, len(jobs)) })
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	// One more try, one at a time, for reads that failed (throttling that
	// outlasted the client's retries): a failed read leaves its group alone.
	for _, j := range jobs {
		if j.target {
			if tg := snap.Target[j.id]; tg.Err != nil {
				tg.Members, tg.Err = e.dst.Members(ctx, j.id)
				snap.Target[j.id] = tg
			}
		} else if sg := snap.Source[j.id]; sg.Err != nil {
			sg.Members, sg.Err = e.src.Members(ctx, j.id, flatten)
			snap.Source[j.id] = sg
		}
	}
	// Mail lookups for members the state does not map yet.
	var mails []string
	for _, sg := range snap.Source {
		for _, m := range sg.Members {
			if m.Type == TypeUser && !m.IsGuest() && m.Mail != "" && st.users[m.ID] == nil {
				mails = append(mails, strings.ToLower(m.Mail))
			}
		}
	}
	slices.Sort(mails)
	mails = slices.Compact(mails)
	if len(mails) > 0 {
		if snap.UsersByMail, err = e.dst.UsersByMail(ctx, mails); err != nil {
			return nil, fmt.Errorf("look up target users by mail: %w", err)
		}
	}
	return snap, nil
}
