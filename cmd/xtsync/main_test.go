package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
	"testing"
)

// childEnv, set to 1 in a child's environment, makes the test binary run
// the CLI instead of the tests: a test can then run `xtsync ...` as a real
// process (one it can SIGKILL) without building a second binary.
const childEnv = "XTSYNC_TEST_MAIN"

// TestMain runs the tests, or, in a child started with childEnv=1, the CLI
// on the child's arguments, exactly as main does.
func TestMain(m *testing.M) {
	if os.Getenv(childEnv) == "1" {
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
		stop()
		os.Exit(code)
	}
	os.Exit(m.Run())
}
