package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/xtsync/xtsync/pkg/graphemu"
	"github.com/xtsync/xtsync/pkg/msgraph"
)

const demoAbout = `Start the Graph emulator in-process with the sample tenants (Contoso, the
source, and an empty Fabrikam, the target) on a free loopback port, sign in
to both with client credentials over HTTPS, and print what the emulator
serves. Then run serve mode against it (webhook, subscriptions, queue,
workers, reconcile), show the initial sync, and play a story of changes on
both sides, printing for each the time from the change to a target that
mirrors the source exactly (checked group by group).`

func runDemo(ctx context.Context, e env, args []string) error {
	fs := newFlagSet(e, "demo", "[--keep]", demoAbout)
	keep := fs.Bool("keep", false, "keep the emulator running after the report and print how to reach it, until interrupted")
	verbose := fs.Bool("verbose", false, "log what serve does (info level) on stderr")
	if err := fs.parse(args); err != nil {
		return err
	}
	if !*verbose {
		e.log = slog.New(slog.NewTextHandler(e.stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	seed := graphemu.SampleSeed()
	em, err := startEmulator(emulatorConfig{log: e.log, seed: seed, listen: "127.0.0.1:0", allowHTTPNotifications: true})
	if err != nil {
		return err
	}
	defer em.Close()

	hc := em.HTTPClient()
	defer hc.CloseIdleConnections()
	client := func(tenant, clientID, secret string) (*msgraph.Client, error) {
		return msgraph.New(msgraph.Config{TenantID: tenant, ClientID: clientID, ClientSecret: secret, GraphEndpoint: em.URL(), AuthorityHost: em.URL(), HTTPClient: hc}, e.log)
	}
	src, err := client(graphemu.SampleSourceTenant, graphemu.SampleSourceClientID, graphemu.SampleSourceSecret)
	if err != nil {
		return err
	}
	dst, err := client(graphemu.SampleTargetTenant, graphemu.SampleTargetClientID, graphemu.SampleTargetSecret)
	if err != nil {
		return err
	}
	source, err := readTenant(ctx, src)
	if err != nil {
		return fmt.Errorf("read the source tenant: %w", err)
	}
	target, err := readTenant(ctx, dst)
	if err != nil {
		return fmt.Errorf("read the target tenant: %w", err)
	}
	hc.CloseIdleConnections() // done with Graph: lets the emulator shut down at once
	printDemoReport(e.stdout, demoReport{
		emulatorURL: em.URL(),
		source:      source,
		target:      target,
		sourceStats: em.Stats(graphemu.SampleSourceTenant),
		targetStats: em.Stats(graphemu.SampleTargetTenant),
	})
	dir, err := os.MkdirTemp("", "xtsync-demo-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	srv, cfg, err := runDemoServe(ctx, e.stdout, e.log, em, dir)
	if err != nil {
		return err
	}
	if !*keep {
		return srv.Close()
	}
	fmt.Fprintln(e.stdout)
	printEndpoints(e.stdout, em, filepath.Join(dir, "emulator-ca.pem"), seed)
	kept := filepath.Join(dir, "xtsync.yaml")
	if err := os.WriteFile(kept, []byte(demoConfigDoc(em, dir, cfg.Server.Listen, srv.adminAddr)), 0o600); err != nil {
		return errors.Join(err, srv.Close())
	}
	fmt.Fprintf(e.stdout, "\nxtsync serve keeps running: webhook %s/notifications, admin http://%s (/status, /audit).\n", cfg.Server.PublicURL, srv.adminAddr)
	fmt.Fprintf(e.stdout, "Its configuration is %s; in another terminal:\n", kept)
	for _, c := range []string{"status", "audit", "check", "explain --user adelev@contoso.com"} {
		fmt.Fprintf(e.stdout, "  xtsync %s --config %s\n", c, kept)
	}
	fmt.Fprintln(e.stdout, "Change the source with the control API (docs/emulator.md) and watch the target follow.")
	fmt.Fprintln(e.stdout, "Both run until interrupted (Ctrl-C); the CA file and state are removed then.")
	<-ctx.Done()
	e.log.Info("stopping")
	return errors.Join(srv.Close(), em.Close())
}
