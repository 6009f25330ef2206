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
	for _, args := range [][]string{{"version"}, {"--version"}, {"-version"}} {
		code, stdout, stderr := runCLI(t, args...)
		if code != exitOK || stdout != versionString()+"\n" || !strings.HasPrefix(stdout, "xtsync ") {
			t.Errorf("%v: exit code %d, stdout %q, stderr %q; want 0 and %q", args, code, stdout, stderr, versionString())
		}
	}
}

// TestHelpCommand: help CMD prints CMD's usage, as CMD -h does.
func TestHelpCommand(t *testing.T) {
	for _, c := range commands() {
		code, stdout, _ := runCLI(t, "help", c.name)
		_, want, _ := runCLI(t, c.name, "-h")
		if code != exitOK || stdout != want {
			t.Errorf("help %s: exit code %d, stdout:\n%s\nwant:\n%s", c.name, code, stdout, want)
		}
	}
	if code, _, stderr := runCLI(t, "help", "nope"); code != exitUsage || !strings.Contains(stderr, `"nope"`) {
		t.Errorf("help nope: exit code %d, stderr %q", code, stderr)
	}
}

// TestGlobalFlagsAfterTheCommand: --log-level is taken before or after
// the command's name; a bad value is refused either way.
func TestGlobalFlagsAfterTheCommand(t *testing.T) {
	tests := []struct {
		args     []string
		wantCode int
		want     string // in stderr
	}{
		{[]string{"version", "--log-level", "debug"}, exitOK, ""},
		{[]string{"version", "--log-level=warn"}, exitOK, ""},
		{[]string{"version", "-log-level", "error"}, exitOK, ""},
		{[]string{"version", "--log-level", "loud"}, exitUsage, "--log-level"},
		{[]string{"version", "--log-level"}, exitUsage, "--log-level"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			code, _, stderr := runCLI(t, tt.args...)
			if code != tt.wantCode || !strings.Contains(stderr, tt.want) {
				t.Errorf("exit code %d, stderr %q; want %d naming %q", code, stderr, tt.wantCode, tt.want)
			}
		})
	}
	rest, level, err := globalLogLevel([]string{"--config", "x.yaml", "--log-level", "debug", "--", "--log-level", "info"})
	if err != nil || level != "debug" || strings.Join(rest, " ") != "--config x.yaml -- --log-level info" {
		t.Errorf("globalLogLevel: rest %q, level %q, err %v", rest, level, err)
	}
}
