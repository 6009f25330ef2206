package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/xtsync/xtsync/pkg/graphemu"
)

const demoAbout = `Start the Graph emulator in-process with the sample tenants (Contoso, the
source, and an empty Fabrikam, the target) on a free loopback port, sign in
to both with client credentials over HTTPS, and print what the emulator
serves and the Graph requests the demo made. Then run the sync engine, as
'xtsync reconcile' would, to mirror every sample group into the target, and
play a story of changes on both sides, checking after each step that the
target mirrors the source exactly.`

func runDemo(ctx context.Context, e env, args []string) error {
	fs := newFlagSet(e, "demo", "[--keep]", demoAbout)
	keep := fs.Bool("keep", false, "keep the emulator running after the report and print how to reach it, until interrupted")
	if err := fs.parse(args); err != nil {
		return err
	}
	seed := graphemu.SampleSeed()
	em, err := startEmulator(emulatorConfig{log: e.log, seed: seed, listen: "127.0.0.1:0"})
	if err != nil {
		return err
	}
	defer em.Close()

	hc := em.HTTPClient()
	defer hc.CloseIdleConnections()
	src, err := signIn(ctx, hc, em.URL(), em.GraphURL(), graphemu.SampleSourceTenant, graphemu.SampleSourceClientID, graphemu.SampleSourceSecret)
	if err != nil {
		return err
	}
	dst, err := signIn(ctx, hc, em.URL(), em.GraphURL(), graphemu.SampleTargetTenant, graphemu.SampleTargetClientID, graphemu.SampleTargetSecret)
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
	if err := runDemoSync(ctx, e.stdout, e.log, em); err != nil {
		return err
	}
	if !*keep {
		return nil
	}

	dir, err := os.MkdirTemp("", "xtsync-demo-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	caPath := filepath.Join(dir, "emulator-ca.pem")
	if err := em.CA().WriteFile(caPath); err != nil {
		return err
	}
	fmt.Fprintln(e.stdout)
	printEndpoints(e.stdout, em, caPath, seed)
	fmt.Fprintln(e.stdout, "\nThe emulator keeps running until interrupted (Ctrl-C); the CA file is removed then.")
	<-ctx.Done()
	e.log.Info("stopping the emulator")
	return em.Close()
}
