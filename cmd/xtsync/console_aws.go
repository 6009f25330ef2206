package main

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/xtsync/xtsync/pkg/config"
	"github.com/xtsync/xtsync/pkg/engine"
	"github.com/xtsync/xtsync/pkg/metrics"
)

const consoleAbout = `Console serves the web console (the overview, the deletion guard's halt
with its approval, the provisioning log, a user's explanation) for the AWS
deployment (state.dynamodb_table) on a loopback address, from the
deployment's table: the approval invokes the reconcile function
(state.reconcile_function), a sync is sent to its queue (state.queue_url).
Its charts are on the CloudWatch dashboard. xtsync serve serves the same
console on server.admin_listen. A --listen address that is not loopback
needs XTSYNC_ADMIN_TOKEN, which every request must then carry. It runs
until interrupted.`

// runConsole is `xtsync console`: the web console of the AWS deployment.
func runConsole(ctx context.Context, e env, args []string) error {
	fs := newFlagSet(e, "console", "--config FILE [--listen HOST:PORT]", consoleAbout)
	cfgPath := fs.configFlag()
	listen := fs.String("listen", "127.0.0.1:8090", "where the console listens (`host:port`)")
	cfg, err := fs.parseConfig(args, cfgPath)
	if err != nil {
		return err
	}
	if cfg.State.DynamoDBTable == "" {
		return usagef("the console serves the AWS deployment (state.dynamodb_table); with state.path, xtsync serve serves it on server.admin_listen (%s)", cfg.Server.AdminListen)
	}
	token := os.Getenv(adminTokenEnv)
	if err := checkAdminListen("--listen", *listen, token); err != nil {
		return err
	}
	h, err := awsConsoleHandler(cfg, e, token)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return fmt.Errorf("--listen: %w", err)
	}
	hs := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
	fmt.Fprintf(e.stdout, "xtsync console: http://%s/ (state.dynamodb_table %s)\n", ln.Addr(), cfg.State.DynamoDBTable)
	done := make(chan error, 1)
	go func() { done <- hs.Serve(ln) }()
	select {
	case err := <-done:
		return fmt.Errorf("console: %w", err)
	case <-ctx.Done():
	}
	e.log.Info("stopping")
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	return hs.Shutdown(sctx)
}

// awsConsoleHandler is the console over the AWS deployment, guarded as
// serve's admin listener is.
func awsConsoleHandler(cfg *config.Config, e env, token string) (http.Handler, error) {
	c, err := newConsole(awsConsole{cfg: cfg, e: e}, e.log)
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	c.routes(mux)
	c.loginRoutes(mux, token)
	return adminOnly(token, mux), nil
}

// awsConsole is the console's backend over the AWS deployment: its table,
// its reconcile function and its queue, as the CLI's commands reach them.
type awsConsole struct {
	cfg *config.Config
	e   env
}

// Config is the console's configuration.
func (a awsConsole) Config() *config.Config { return a.cfg }

// Status is the stored status from the table.
func (a awsConsole) Status(ctx context.Context) (statusReport, error) {
	var rep statusReport
	err := withStore(ctx, a.cfg, func(s engine.Store) error {
		var err error
		rep, err = storedStatus(ctx, s, a.cfg)
		return err
	})
	if err != nil {
		return rep, fmt.Errorf("read the state: %w", err)
	}
	return rep, nil
}

// Audit reads the entries from the table.
func (a awsConsole) Audit(ctx context.Context, v url.Values, q engine.AuditQuery) ([]engine.AuditEntry, error) {
	return auditEntries(ctx, a.cfg, v, q)
}

// Explain explains a user from the table and the tenants.
func (a awsConsole) Explain(ctx context.Context, user, group string) (*engine.Explanation, error) {
	return explainWith(ctx, a.e, a.cfg, user, group)
}

// HeldPlan is the plan xtsync approve shows on AWS: a dry run here with
// the deletions allowed.
func (a awsConsole) HeldPlan(ctx context.Context) (*engine.Report, error) {
	rep, err := reconcileWith(ctx, a.e, a.cfg, engine.RunOptions{DryRun: true, AllowDeletions: true})
	if err != nil {
		return rep, fmt.Errorf("plan: %w", err)
	}
	return rep, nil
}

// Approve invokes the reconcile function with the deletions allowed.
func (a awsConsole) Approve(ctx context.Context) (string, error) {
	if a.cfg.State.ReconcileFunction == "" {
		return "", errAWSWrites(a.cfg, `set state.reconcile_function (the stack's reconcile function) to approve from here, or invoke it with {"detail":{"allowDeletions":true}}`)
	}
	var b bytes.Buffer
	e := a.e
	e.stdout = &b
	if err := invokeReconcile(ctx, e, a.cfg, true); err != nil {
		return "", err
	}
	return strings.TrimSpace(b.String()), nil
}

// Sync sends the group's shard to the deployment's queue.
func (a awsConsole) Sync(ctx context.Context, group string) (string, error) {
	var b bytes.Buffer
	e := a.e
	e.stdout = &b
	if err := queueSync(ctx, e, a.cfg, group); err != nil {
		return "", err
	}
	return strings.TrimSpace(b.String()), nil
}

// Samples: none here; the charts are on the CloudWatch dashboard.
func (a awsConsole) Samples() ([]metrics.Sample, bool) { return nil, false }
