package app

import (
	"errors"
	"log/slog"

	"github.com/xtsync/xtsync/pkg/engine"
	"github.com/xtsync/xtsync/pkg/task"
)

// LogHeld is the line logged, at WARN, for each task whose removals,
// deletes and disables the deletion guard held (the engine logs
// engine.LogGuardHolding with the guard's figures beside it).
const LogHeld = "task held by the deletion guard"

// Approval instructions for the two deployments, logged with LogHeld.
const (
	ApproveServe = "review the held plan (xtsync approve), then apply it (xtsync approve --yes, the same as xtsync reconcile --allow-deletions)"
	ApproveAWS   = `review the plan (xtsync reconcile --dry-run against the deployed configuration), then invoke the reconcile function with {"detail":{"allowDeletions":true}}`
)

// guardLog is the one place that handles the deletion guard's outcome.
type guardLog struct {
	log     *slog.Logger
	approve string
	metrics Metrics // nil: none
}

// held reports whether err is the deletion guard holding a run's
// destructive actions, and logs it once when it is.
func (g guardLog) held(t task.Task, rep *engine.Report, err error) bool {
	if !errors.Is(err, engine.ErrThreshold) {
		return false
	}
	deletions := 0
	if rep != nil && rep.Plan != nil {
		deletions = rep.Plan.Deletions
	}
	g.log.Warn(LogHeld, "task", t.Key(), "deletions", deletions, "approve", g.approve, "err", err)
	if g.metrics != nil {
		g.metrics.GuardHeld()
	}
	return true
}
