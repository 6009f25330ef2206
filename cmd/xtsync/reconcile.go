package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"

	"github.com/xtsync/xtsync/pkg/app"
	"github.com/xtsync/xtsync/pkg/config"
	"github.com/xtsync/xtsync/pkg/engine"
)

// haltError is a run stopped by the deletion threshold: exit 3.
type haltError struct{ err error }

func (h *haltError) Error() string { return h.err.Error() }
func (h *haltError) Unwrap() error { return h.err }

// loadConfig reads --config; a bad file is a usage error (exit 2).
func loadConfig(path string) (*config.Config, error) {
	if path == "" {
		return nil, usagef("--config is required")
	}
	cfg, err := config.Load(path)
	if err != nil {
		return nil, &usageError{err}
	}
	return cfg, nil
}

const reconcileAbout = `Reconcile reads every scoped group of the source and its mirror in the
target, plans the difference (create, restore, rename, add and remove
members, invite users, delete what the tool created and no longer needs) and
applies it. Exit status: 0 converged, 3 halted by sync.deletion_threshold
(nothing deleted; the plan is printed), 2 bad configuration or flags, 1 any
other failure.`

// runReconcile is `xtsync reconcile`: one full sync of the scope.
func runReconcile(ctx context.Context, e env, args []string) error {
	fs := newFlagSet(e, "reconcile", "--config FILE [--dry-run] [--allow-deletions] [--json]", reconcileAbout)
	cfgPath := fs.configFlag()
	dry := fs.Bool("dry-run", false, "print the plan and write nothing")
	allow := fs.Bool("allow-deletions", false, "proceed even above sync.deletion_threshold")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	cfg, err := fs.parseConfig(args, cfgPath)
	if err != nil {
		return err
	}
	if cfg.State.DynamoDBTable != "" && !*dry && cfg.State.ReconcileFunction != "" {
		return invokeReconcile(ctx, e, cfg, *allow)
	}
	rep, err := reconcileWith(ctx, e, cfg, engine.RunOptions{DryRun: *dry, AllowDeletions: *allow, Trigger: engine.TriggerReconcile, Progress: app.LogProgress(e.log)})
	if rep != nil {
		printReport(e.stdout, rep, *asJSON)
	}
	return runOutcome(rep, err)
}

// runOutcome is a run's result as the command's error: a halt of the
// deletion guard (exit 3), a failure, or a report with failed actions.
func runOutcome(rep *engine.Report, err error) error {
	switch {
	case errors.Is(err, engine.ErrThreshold):
		return &haltError{fmt.Errorf("%w; nothing was removed, deleted or disabled (additions were applied). Review the held plan (xtsync approve), then apply it (xtsync approve --yes, the same as xtsync reconcile --allow-deletions)", err)}
	case err != nil:
		return err
	case rep.Failed():
		return fmt.Errorf("%d action(s) or read(s) failed; the next run retries them", rep.FailureCount())
	}
	return nil
}

// reconcileWith runs the reconcile in the running serve when one answers on
// server.admin_listen (it holds the state), else here.
func reconcileWith(ctx context.Context, e env, cfg *config.Config, ro engine.RunOptions) (*engine.Report, error) {
	v := url.Values{}
	if ro.AllowDeletions {
		v.Set("allow-deletions", "1")
	}
	return runWith(ctx, e, cfg, "reconcile", "/reconcile", v, ro, func(l *local) (*engine.Report, error) {
		return l.Engine.Reconcile(ctx, ro)
	})
}

// runWith runs a run in the running serve (POST path with v, and
// ?dry-run=1 for a dry run) when one answers on server.admin_listen, else
// here with run.
func runWith(ctx context.Context, e env, cfg *config.Config, what, path string, v url.Values, ro engine.RunOptions, run func(*local) (*engine.Report, error)) (*engine.Report, error) {
	if ro.DryRun {
		v.Set("dry-run", "1")
	}
	var ans reconcileAnswer
	running, err := callServer(ctx, cfg, http.MethodPost, path+"?"+v.Encode(), &ans)
	switch {
	case err != nil:
		return nil, err
	case running:
		e.log.Info(what+" run by the running xtsync serve", "admin", cfg.Server.AdminListen)
		return ans.outcome()
	}
	l, err := openLocalDry(ctx, cfg, e.log, nil, ro.DryRun)
	if err != nil {
		return nil, err
	}
	defer l.Close()
	rep, err := run(l)
	if rep != nil {
		rep.Requests = l.requests()
	}
	return rep, err
}

func printReport(w io.Writer, rep *engine.Report, asJSON bool) {
	if asJSON {
		_ = printJSON(w, rep)
		return
	}
	rep.PrintSummary(w)
	total := 0
	for _, routes := range rep.Requests {
		for _, n := range routes {
			total += n
		}
	}
	fmt.Fprintf(w, "  graph requests: %d (source %d, target %d)\n", total, sum(rep.Requests["source"]), sum(rep.Requests["target"]))
}

func sum(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}
