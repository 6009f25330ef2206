package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"

	"github.com/xtsync/xtsync/pkg/graphemu"
)

// emulatorFlags are the flags of `xtsync emulator`.
type emulatorFlags struct {
	listen    string
	caOut     string
	seed      string
	faults    string
	allowHTTP bool
	seedOut   string
}

const emulatorAbout = `Run the local Microsoft Graph emulator: an HTTPS server on loopback holding
several Entra tenants, with client-credentials sign-in and the Graph v1.0
routes xtsync uses. It serves until interrupted (Ctrl-C or SIGTERM).
The credentials it prints are the emulator's own test credentials.
See docs/emulator.md.`

func runEmulator(ctx context.Context, e env, args []string) error {
	fs := newFlagSet(e, "emulator", "[flags]", emulatorAbout)
	var f emulatorFlags
	fs.StringVar(&f.listen, "listen", "127.0.0.1:8443", "loopback `address` to serve HTTPS on (port 0 picks a free port)")
	fs.StringVar(&f.caOut, "ca-out", filepath.Join(".xtsync", "emulator-ca.pem"), "`path` to write the emulator's CA certificate (PEM) to")
	fs.StringVar(&f.seed, "seed", "", "JSON seed `file` with the tenants to load (default: the built-in sample)")
	fs.StringVar(&f.faults, "faults", "", "JSON `file` with faults (graphemu.Faults) to apply to every tenant")
	fs.BoolVar(&f.allowHTTP, "allow-http-notifications", false, "let subscriptions use plain-http notification URLs on loopback")
	fs.StringVar(&f.seedOut, "seed-out", "", "write the built-in sample seed as JSON to `file` (- for stdout) and exit")
	if err := fs.parse(args); err != nil {
		return err
	}
	if f.seedOut != "" {
		if f.seed != "" || f.faults != "" {
			return usagef("--seed-out writes the built-in sample seed and exits: it cannot be combined with --seed or --faults")
		}
		return writeSampleSeed(e, f.seedOut)
	}
	if err := checkLoopback(f.listen); err != nil {
		return err
	}
	if f.caOut == "" {
		return usagef("--ca-out: empty path")
	}
	seed, err := seedFromFlag(f.seed)
	if err != nil {
		return err
	}
	faults, err := faultsFromFlag(f.faults)
	if err != nil {
		return err
	}
	em, err := startEmulator(emulatorConfig{
		log: e.log, seed: seed, seedFlag: f.seed, faults: faults, listen: f.listen, allowHTTPNotifications: f.allowHTTP,
	})
	if err != nil {
		return err
	}
	defer em.Close()
	if err := writeCA(em, f.caOut); err != nil {
		return err
	}
	printEndpoints(e.stdout, em, f.caOut, seed)
	fmt.Fprintln(e.stdout, "\nServing until interrupted (Ctrl-C).")
	<-ctx.Done()
	e.log.Info("stopping the emulator")
	if err := em.Close(); err != nil {
		return fmt.Errorf("close emulator: %w", err)
	}
	return nil
}

// checkLoopback refuses a listen address that is not host:port on a
// loopback host: the emulator's certificate names only loopback, and its
// control API has no authentication.
func checkLoopback(addr string) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return usagef("--listen %q: %v (want host:port, e.g. 127.0.0.1:8443)", addr, err)
	}
	if _, err := net.LookupPort("tcp", port); err != nil {
		return usagef("--listen %q: bad port %q", addr, port)
	}
	if host == "localhost" {
		return nil
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		return nil
	}
	return usagef("--listen %q: the emulator listens on loopback only (127.0.0.1, ::1 or localhost): its control API has no authentication", addr)
}

// writeCA writes the emulator's CA certificate to path, creating its
// directory.
func writeCA(em *graphemu.Emulator, path string) error {
	if dir := filepath.Dir(path); dir != "." {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return fmt.Errorf("--ca-out %s: %w", path, err)
		}
	}
	if err := em.CA().WriteFile(path); err != nil {
		return fmt.Errorf("--ca-out %s: %w", path, err)
	}
	return nil
}
