package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"
)

// The deletion guard's log messages (at WARN); the AWS alarms match the
// first (pkg/contract).
const (
	LogGuardHolding  = "deletion guard holding"
	LogGuardApproved = "deletion guard approved"
)

// guardKey is the meta record of the deletion guard.
const guardKey = "deletion-guard"

// defaultDeletionWindow is the guard's rolling window unless configured.
const defaultDeletionWindow = time.Hour

// GuardState is the deletion guard's record: what went through in the
// rolling window, and the halt that holds everything destructive until an
// operator approves it. Every path that removes members, deletes or
// disables users or deletes groups (reconcile, delta passes, workers) goes
// through the one guard, with this record in the shared state store.
type GuardState struct {
	// Used are the destructive changes applied in the window.
	Used []GuardUse `json:"used,omitempty"`
	// Halt, when set, holds every destructive change until approved.
	Halt *Halt `json:"halt,omitempty"`
	// Allowance is what an operator approved beyond the threshold.
	Allowance *Allowance `json:"allowance,omitempty"`
	Version   int64      `json:"-"`
}

// GuardUse is one run's destructive changes.
type GuardUse struct {
	Time  time.Time `json:"time"`
	Run   string    `json:"run"`
	Count int       `json:"count"`
}

// Halt is a stop of destructive changes by the deletion guard.
type Halt struct {
	Since time.Time `json:"since"`
	Run   string    `json:"run"`
	// Planned is what the run that halted wanted to apply; Used what the
	// window had already applied then.
	Planned int `json:"planned"`
	Used    int `json:"used"`
	// Held counts the destructive changes held since.
	Held int `json:"held"`
	// Groups are the source groups whose member removals or mirror
	// deletes are held (user deletes and disables belong to none).
	Groups []string `json:"groups,omitempty"`
}

// holdGroups adds groups to the halt's, sorted and once each.
func (h *Halt) holdGroups(groups []string) {
	for _, g := range groups {
		if !slices.Contains(h.Groups, g) {
			h.Groups = append(h.Groups, g)
		}
	}
	slices.Sort(h.Groups)
}

// Allowance lets N more destructive changes through until Until: an
// operator's approval of a plan over the threshold.
type Allowance struct {
	N     int       `json:"n"`
	Until time.Time `json:"until"`
}

// InWindow sums the uses at or after since.
func (g *GuardState) InWindow(since time.Time) int {
	n := 0
	for _, u := range g.Used {
		if !u.Time.Before(since) {
			n += u.Count
		}
	}
	return n
}

// guard is the deletion guard.
type guard struct {
	store     Store
	clock     Clock
	log       *slog.Logger
	threshold int
	window    time.Duration
}

func newGuard(store Store, clock Clock, log *slog.Logger, opts Options) *guard {
	w := opts.DeletionWindow
	if w <= 0 {
		w = defaultDeletionWindow
	}
	return &guard{store: store, clock: clock, log: log, threshold: opts.DeletionThreshold, window: w}
}

// LoadGuard reads the deletion guard's record (zero when none).
func LoadGuard(ctx context.Context, s Store) (GuardState, error) {
	var g GuardState
	rec, err := s.Get(ctx, RecordMeta, guardKey)
	switch {
	case errors.Is(err, ErrNotFound):
		return g, nil
	case err != nil:
		return g, fmt.Errorf("load deletion guard: %w", err)
	}
	if err := json.Unmarshal(rec.Data, &g); err != nil {
		return g, fmt.Errorf("decode deletion guard: %w", err)
	}
	g.Version = rec.Version
	return g, nil
}

// update applies f to the guard record until its conditional write wins.
func (gd *guard) update(ctx context.Context, f func(g *GuardState, now time.Time)) (GuardState, error) {
	for attempt := 0; ; attempt++ {
		g, err := LoadGuard(ctx, gd.store)
		if err != nil {
			return g, err
		}
		now := gd.clock.Now()
		since := now.Add(-gd.window)
		kept := g.Used[:0]
		for _, u := range g.Used {
			if !u.Time.Before(since) {
				kept = append(kept, u)
			}
		}
		g.Used = kept
		if g.Allowance != nil && !now.Before(g.Allowance.Until) {
			g.Allowance = nil
		}
		f(&g, now)
		data, _ := json.Marshal(g)
		v, err := gd.store.Put(ctx, RecordMeta, guardKey, g.Version, data)
		if errors.Is(err, ErrConflict) && attempt < 20 {
			continue
		}
		if err != nil {
			return g, fmt.Errorf("save deletion guard: %w", err)
		}
		g.Version = v
		return g, nil
	}
}

// budget is what the window still lets through: what the threshold leaves,
// plus an approved allowance.
func (gd *guard) budget(g *GuardState, now time.Time) int {
	b := max(0, gd.threshold-g.InWindow(now.Add(-gd.window)))
	if g.Allowance != nil {
		b += g.Allowance.N
	}
	return b
}

// use records n admitted changes, taking what the threshold does not
// cover from the allowance.
func (gd *guard) use(g *GuardState, now time.Time, run string, n int) {
	if g.Allowance != nil {
		over := n - max(0, gd.threshold-g.InWindow(now.Add(-gd.window)))
		if g.Allowance.N -= max(0, over); g.Allowance.N <= 0 {
			g.Allowance = nil
		}
	}
	g.Used = append(g.Used, GuardUse{Time: now, Run: run, Count: n})
}

// lift ends a halt and allows n changes now even above the threshold (an
// operator's approval).
func (gd *guard) lift(g *GuardState, now time.Time, run string, n int) {
	if g.Halt != nil {
		gd.log.Warn(LogGuardApproved, "run", run, "held", g.Halt.Held, "halted_run", g.Halt.Run)
	}
	g.Halt = nil
	if over := n - gd.budget(g, now); over > 0 {
		if g.Allowance == nil {
			g.Allowance = &Allowance{}
		}
		g.Allowance.N += over
		g.Allowance.Until = now.Add(gd.window)
	}
}

// admit asks to apply n destructive changes for run. It reports false
// when they are held: the guard is halted, or they would take the window
// over the threshold (which halts it). approve (an operator's
// --allow-deletions) lifts the halt and lets them through.
func (gd *guard) admit(ctx context.Context, run string, n int, groups []string, approve bool) (bool, error) {
	if n == 0 && approve {
		return true, gd.approve(ctx, run, 0) // an approval lifts a halt even when nothing is left to remove
	}
	if n == 0 {
		return true, nil
	}
	admitted := false
	g, err := gd.update(ctx, func(g *GuardState, now time.Time) {
		admitted = false
		if approve {
			gd.lift(g, now, run, n)
		}
		switch {
		case g.Halt != nil:
			g.Halt.Held += n
			g.Halt.holdGroups(groups)
		case n > gd.budget(g, now):
			g.Halt = &Halt{Since: now, Run: run, Planned: n, Used: g.InWindow(now.Add(-gd.window)), Held: n}
			g.Halt.holdGroups(groups)
		default:
			admitted = true
			gd.use(g, now, run, n)
		}
	})
	if err != nil {
		return false, err
	}
	if !admitted {
		gd.log.Warn(LogGuardHolding, "run", run, "planned", n, "held", g.Halt.Held, "since", g.Halt.Since, "threshold", gd.threshold, "window", gd.window)
	}
	return admitted, nil
}

// wouldAdmit reports, without writing, whether n destructive changes would
// go through now (a dry run).
func (gd *guard) wouldAdmit(ctx context.Context, n int, approve bool) (bool, error) {
	if n == 0 || approve {
		return true, nil
	}
	g, err := LoadGuard(ctx, gd.store)
	if err != nil {
		return false, err
	}
	now := gd.clock.Now()
	if g.Allowance != nil && !now.Before(g.Allowance.Until) {
		g.Allowance = nil
	}
	return g.Halt == nil && n <= gd.budget(&g, now), nil
}

// hold halts the guard for a plan of n destructive changes that will be
// applied piecewise (the AWS reconcile's fan-out), so that no piece goes
// through before an operator approves the whole.
func (gd *guard) hold(ctx context.Context, run string, n int, groups []string) error {
	_, err := gd.update(ctx, func(g *GuardState, now time.Time) {
		if g.Halt == nil {
			g.Halt = &Halt{Since: now, Run: run, Planned: n, Used: g.InWindow(now.Add(-gd.window))}
		}
		g.Halt.holdGroups(groups)
	})
	if err == nil {
		gd.log.Warn(LogGuardHolding, "run", run, "planned", n, "threshold", gd.threshold, "window", gd.window)
	}
	return err
}

// approve lifts a halt and allows n destructive changes beyond the
// threshold for one window (an approved fan-out).
func (gd *guard) approve(ctx context.Context, run string, n int) error {
	if n == 0 {
		g, err := LoadGuard(ctx, gd.store)
		if err != nil || g.Halt == nil {
			return err
		}
	}
	_, err := gd.update(ctx, func(g *GuardState, now time.Time) { gd.lift(g, now, run, n) })
	return err
}
