package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/xtsync/xtsync/pkg/config"
	"github.com/xtsync/xtsync/pkg/engine"
	"github.com/xtsync/xtsync/pkg/metrics"
)

// serveConsole is the console's backend in a running serve: its state,
// engine and metrics' history.
type serveConsole struct{ srv *server }

// Config is serve's configuration.
func (s serveConsole) Config() *config.Config { return s.srv.cfg }

// Status is GET /status's report.
func (s serveConsole) Status(ctx context.Context) (statusReport, error) { return s.srv.status(ctx) }

// Audit reads the entries from serve's state.
func (s serveConsole) Audit(ctx context.Context, _ url.Values, q engine.AuditQuery) ([]engine.AuditEntry, error) {
	return s.srv.local.store.Audit(ctx, q)
}

// Explain explains a user with serve's engine.
func (s serveConsole) Explain(ctx context.Context, user, group string) (*engine.Explanation, error) {
	return s.srv.local.Engine.Explain(ctx, user, group)
}

// HeldPlan is a dry run with the deletions allowed.
func (s serveConsole) HeldPlan(ctx context.Context) (*engine.Report, error) {
	rep, err := s.srv.local.Engine.Reconcile(ctx, engine.RunOptions{DryRun: true, AllowDeletions: true})
	if err != nil {
		return rep, fmt.Errorf("plan: %w", err)
	}
	return rep, nil
}

// Approve runs what xtsync approve --yes runs in serve: a reconcile with
// the deletions allowed. It runs to its end when the browser goes.
func (s serveConsole) Approve(ctx context.Context) (string, error) {
	s.srv.log.Info("reconcile requested by an operator", "dry_run", false, "allow_deletions", true, "from", "console")
	rep, err := s.srv.local.Engine.Reconcile(context.WithoutCancel(ctx), engine.RunOptions{AllowDeletions: true, Trigger: engine.TriggerReconcile})
	return runText("approved", rep, err)
}

// Sync runs what xtsync sync --group runs in serve.
func (s serveConsole) Sync(ctx context.Context, group string) (string, error) {
	rep, err := s.srv.local.Engine.SyncGroups(context.WithoutCancel(ctx), []string{group}, engine.RunOptions{Trigger: engine.TriggerOnDemand})
	return runText("synced "+group, rep, err)
}

// Samples are serve's metrics' history.
func (s serveConsole) Samples() ([]metrics.Sample, bool) { return s.srv.history.Samples(), true }

// runText tells a run's outcome in a line: what was done and the run's
// summary, or why it failed (a halt names the approval).
func runText(what string, rep *engine.Report, err error) (string, error) {
	var b bytes.Buffer
	if rep != nil {
		rep.PrintSummary(&b)
	}
	var lines []string
	for _, l := range strings.Split(b.String(), "\n") {
		if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "skipped") {
			lines = append(lines, l)
		}
	}
	summary := strings.Join(lines, "; ")
	switch {
	case errors.Is(err, engine.ErrThreshold):
		return "", fmt.Errorf("held by the deletion guard: %w; nothing was removed, deleted or disabled (review and approve at /halt). %s", err, summary)
	case err != nil:
		return "", fmt.Errorf("%s failed: %w", what, err)
	case rep != nil && rep.Failed():
		return "", fmt.Errorf("%s with %d failed action(s) or read(s), the next run retries them: %s", what, rep.FailureCount(), summary)
	}
	return what + ": " + summary, nil
}
