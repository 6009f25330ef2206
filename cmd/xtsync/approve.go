package main

import (
	"context"
	"fmt"

	"github.com/xtsync/xtsync/pkg/app"
	"github.com/xtsync/xtsync/pkg/engine"
)

const approveAbout = `Approve shows what the deletion guard holds (the halt, and the plan a
reconcile would apply with it lifted: the removals, deletes and disables
included) and, with --yes, applies it: a reconcile with the deletions
allowed, in the running xtsync serve when one answers, else here. Without a
halt there is nothing to approve. Exit status: 0 shown, applied, or nothing
held; 2 bad flags or configuration; 1 any other failure.`

// runApprove is `xtsync approve [--yes]`: review, then lift, a halt of
// the deletion guard.
func runApprove(ctx context.Context, e env, args []string) error {
	fs := newFlagSet(e, "approve", "--config FILE [--yes] [--json]", approveAbout)
	cfgPath := fs.configFlag()
	yes := fs.Bool("yes", false, "apply the held plan (without it, only show it)")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	cfg, err := fs.parseConfig(args, cfgPath)
	if err != nil {
		return err
	}
	st, err := statusOf(ctx, cfg)
	if err != nil {
		return err
	}
	h := st.Guard.Halt
	if h == nil {
		fmt.Fprintf(e.stdout, "Deletion guard: nothing held (%d of %d removals, deletes and disables used in the last %s); nothing to approve.\n", st.Guard.Used, st.Guard.Threshold, st.Guard.Window)
		return nil
	}
	fmt.Fprintln(e.stdout, st.Guard.holding())
	if *yes && cfg.State.DynamoDBTable != "" {
		if cfg.State.ReconcileFunction == "" {
			return errAWSWrites(cfg, `set state.reconcile_function (the stack's reconcile function) to approve from here, or invoke it with {"detail":{"allowDeletions":true}}`)
		}
		return invokeReconcile(ctx, e, cfg, true)
	}
	ro := engine.RunOptions{DryRun: !*yes, AllowDeletions: true, Progress: app.LogProgress(e.log)}
	rep, err := reconcileWith(ctx, e, cfg, ro)
	if rep != nil {
		printReport(e.stdout, rep, *asJSON)
	}
	if !*yes && err == nil {
		fmt.Fprintf(e.stdout, "\nThis is the plan with the deletions allowed; nothing was written. Apply it: xtsync approve --config %s --yes\n", *cfgPath)
		return nil
	}
	return runOutcome(rep, err)
}
