// Command xtsync is the operator CLI of xtsync: it mirrors Microsoft Entra
// security groups of a source tenant into a target tenant (reconcile), and
// runs the local Microsoft Graph emulator and its demo.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

// main only wires: the process's arguments, streams and signals go to run,
// and run's result becomes the exit code.
func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
