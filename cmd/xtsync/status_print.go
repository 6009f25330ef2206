package main

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"text/tabwriter"
	"time"
)

// printStatus writes the status as an operator reads it: the groups, the
// subscriptions, the deletion guard, and, while serve runs, its queue,
// worker, router and webhook counters, in sentences, not Go values.
func printStatus(w io.Writer, r statusReport, now time.Time) {
	if r.Running {
		fmt.Fprintln(w, "xtsync serve: running")
	} else {
		from := r.From
		if from == "" {
			from = "state.path"
		}
		fmt.Fprintf(w, "xtsync serve: not running (state read from %s)\n", from)
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "\nSOURCE GROUP\tNAME\tKIND\tTARGET GROUP\tMEMBERS\tLAST SYNC\tNOTE")
	unknown := 0
	for _, g := range r.Groups {
		name, target, note := g.Name, g.TargetID, ""
		if target == "" {
			target = "-"
			if name == "" {
				name = "(not mirrored)"
			}
			note = "skipped: " + g.Skipped
			if g.Skipped == "" {
				note = "not mirrored yet"
				unknown++
			}
		}
		if g.Held {
			note = "HOLDING removals (xtsync approve)"
		}
		kind := g.Kind
		if kind == "" {
			kind = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%s\t%s\n", g.SourceID, name, kind, target, g.Members, when(g.LastSync), note)
	}
	_ = tw.Flush()
	if unknown > 0 {
		fmt.Fprintf(w, "%d group(s) not mirrored yet: the next reconcile mirrors them or says why not (xtsync reconcile --dry-run shows it now).\n", unknown)
	}
	fmt.Fprintln(w, "\nSubscriptions:")
	switch {
	case r.SubscriptionsOff:
		fmt.Fprintln(w, "  OFF (xtsync unsubscribe): changes reach the target with the scheduled reconcile only; xtsync subscribe turns them on")
	case len(r.Subscriptions) == 0:
		fmt.Fprintln(w, "  none")
	}
	for _, s := range r.Subscriptions {
		fmt.Fprintf(w, "  %s %s %s expires %s (in %s)\n", s.ID, s.Tenant(), s.Resource, s.Expires.UTC().Format(time.RFC3339), s.Expires.Sub(now).Round(time.Minute))
	}
	g := r.Guard
	switch {
	case g.Halt != nil:
		fmt.Fprintf(w, "\n%s\n  Review: xtsync approve; approve: xtsync approve --yes\n", g.holding())
	default:
		fmt.Fprintf(w, "\nDeletion guard: ok, %d of %d removals, deletes and disables used in the last %s\n", g.Used, g.Threshold, g.Window)
	}
	if g.Allowance != nil {
		fmt.Fprintf(w, "  approved beyond the threshold: %d more until %s\n", g.Allowance.N, g.Allowance.Until.UTC().Format(time.RFC3339))
	}
	if r.Queue != nil {
		q := r.Queue
		fmt.Fprintf(w, "\nQueue: %d pending, %d running, %d retrying, %d parked; %d done, %d failed since start\n", q.Pending, q.Running, q.Retrying, q.Parked, q.Processed, q.Failed)
	}
	for _, p := range r.Parked {
		fmt.Fprintf(w, "  PARKED %s after %d attempts since %s: %s\n", p.Task, p.Attempts, p.ParkedAt.UTC().Format(time.RFC3339), p.LastError)
	}
	if r.App != nil {
		ws, rs := r.App.WorkerStatus, r.App.RouterStatus
		fmt.Fprintf(w, "Last reconcile: %s", when(ws.LastReconcile))
		if ws.LastReconcileRun != "" {
			fmt.Fprintf(w, " (run %s)", ws.LastReconcileRun)
		}
		if ws.LastReconcileErr != "" {
			fmt.Fprintf(w, ", FAILED: %s", ws.LastReconcileErr)
		}
		fmt.Fprintf(w, "\nDelta passes: %d, the last %s; mirror passes: %d\n", ws.DeltaPasses, when(ws.LastDelta), ws.MirrorPasses)
		fmt.Fprintf(w, "Changes queued: %d from the source, %d from the mirrors; lifecycle events: %d; refused, queue full: %d\n", rs.ChangesQueued, rs.MirrorChanges, rs.Lifecycle, rs.QueueFull)
	}
	if h := r.Webhook; h != nil {
		fmt.Fprintf(w, "Webhook: %d notifications accepted (%d of mirrors), %d validations, %d lifecycle events (%d coalesced), %d bad requests (%d too many items), %d refused over concurrency, %d over buffered bytes",
			h.Accepted, h.AcceptedMirrors, h.Validations, h.Lifecycle, h.LifecycleCoalesced, h.BadRequests, h.TooManyItems, h.OverConcurrency, h.OverBufferedBytes)
		for _, reason := range slices.Sorted(maps.Keys(h.Rejected)) {
			fmt.Fprintf(w, "; rejected %s: %d", reason, h.Rejected[reason])
		}
		fmt.Fprintln(w)
	}
}

// when is a time as status shows it: RFC 3339 in UTC, or "never".
func when(t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	return t.UTC().Format(time.RFC3339)
}

// holding is the line that tells a halt of the deletion guard (g.Halt
// set), for status and approve.
func (g guardStatus) holding() string {
	h := g.Halt
	return fmt.Sprintf("Deletion guard: HOLDING since %s: %d removals, deletes and disables held (run %s planned %d with %d already used of %d per %s).",
		h.Since.UTC().Format(time.RFC3339), h.Held, h.Run, h.Planned, h.Used, g.Threshold, g.Window)
}
