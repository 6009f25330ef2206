package main

import (
	"bytes"
	"context"
	"strings"
	"sync"
	"testing"
	"time"
)

// syncBuffer is a bytes.Buffer safe for a command writing while a test
// reads.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// runCLI runs the CLI in-process and returns its exit code and output.
func runCLI(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var out, errOut syncBuffer
	code = run(ctx, args, &out, &errOut)
	return code, out.String(), errOut.String()
}

func TestBadFlagsExit2NamingTheFlag(t *testing.T) {
	badFaults := writeFile(t, "faults.json", `{"throttleRate": 2}`)
	unknownFault := writeFile(t, "faults2.json", `{"throttle": 0.1}`)
	tests := []struct {
		args []string
		want string // must appear in stderr
	}{
		{[]string{"emulator", "--bogus"}, "-bogus"},
		{[]string{"emulator", "--listen"}, "-listen"},
		{[]string{"emulator", "--listen", "nonsense"}, "--listen"},
		{[]string{"emulator", "--listen", "0.0.0.0:8443"}, "--listen"},
		{[]string{"emulator", "--listen", "127.0.0.1:99999"}, "--listen"},
		{[]string{"emulator", "--seed", "/does/not/exist.json"}, "--seed"},
		{[]string{"emulator", "--faults", badFaults}, "throttleRate"},
		{[]string{"emulator", "--faults", unknownFault}, "--faults"},
		{[]string{"emulator", "--seed-out", "x.json", "--seed", "y.json"}, "--seed-out"},
		{[]string{"emulator", "stray"}, `"stray"`},
		{[]string{"demo", "--keep=maybe"}, "-keep"},
		{[]string{"demo", "--nope"}, "-nope"},
		{[]string{"version", "--short"}, "-short"},
		{[]string{"--log-level", "loud", "version"}, "--log-level"},
		{[]string{"--nope", "version"}, "-nope"},
		{[]string{"no-such-command"}, `"no-such-command"`},
		{nil, "Commands:"},
	}
	for _, tc := range tests {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			code, _, stderr := runCLI(t, tc.args...)
			if code != exitUsage {
				t.Errorf("exit code %d, want %d; stderr:\n%s", code, exitUsage, stderr)
			}
			if !strings.Contains(stderr, tc.want) {
				t.Errorf("stderr does not name %q:\n%s", tc.want, stderr)
			}
		})
	}
}

func TestHelpListsCommands(t *testing.T) {
	for _, args := range [][]string{{"-h"}, {"help"}} {
		code, stdout, _ := runCLI(t, args...)
		if code != exitOK {
			t.Fatalf("%v: exit code %d", args, code)
		}
		for _, c := range commands() {
			if !strings.Contains(stdout, c.name) {
				t.Errorf("%v: usage does not list %q:\n%s", args, c.name, stdout)
			}
		}
	}
	for _, c := range commands() {
		code, stdout, stderr := runCLI(t, c.name, "-h")
		if code != exitOK || !strings.Contains(stdout, "Usage: xtsync "+c.name) {
			t.Errorf("%s -h: exit code %d, stdout:\n%s\nstderr:\n%s", c.name, code, stdout, stderr)
		}
	}
}

func TestVersion(t *testing.T) {
	code, stdout, stderr := runCLI(t, "version")
	if code != exitOK || !strings.HasPrefix(stdout, "xtsync ") {
		t.Fatalf("exit code %d, stdout %q, stderr %q", code, stdout, stderr)
	}
}
