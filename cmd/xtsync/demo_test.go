package main

import (
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/xtsync/xtsync/internal/waitfor"

	"github.com/xtsync/xtsync/pkg/engine"
	"github.com/xtsync/xtsync/pkg/graphemu"
)

func TestDemoRunsToCompletion(t *testing.T) {
	code, stdout, stderr := runCLI(t, "demo")
	if code != exitOK {
		t.Fatalf("exit code %d; stderr:\n%s\nstdout:\n%s", code, stderr, stdout)
	}
	for _, g := range graphemu.SampleSeed().Tenants[0].Groups {
		if !strings.Contains(stdout, g.DisplayName) {
			t.Errorf("the report does not show group %q", g.DisplayName)
		}
	}
	for _, want := range []string{
		"initial sync", "converged in", "Finance & Legal", "change notification, delta pass",
		"target's notification, mirror pass", "target's notification, target users pass", "distribution list", "mirroring the source exactly",
		"Contoso", "Fabrikam",
		"distribution list", "Microsoft 365", "dynamic", "security",
		"GET /groups/{id}/members", "GET /groups",
	} {
		if !strings.Contains(stdout, want) {
			t.Errorf("the report does not say %q", want)
		}
	}
	if t.Failed() {
		t.Logf("stdout:\n%s", stdout)
	}
}

func TestGroupKind(t *testing.T) {
	tests := []struct {
		g    engine.Group
		want string
	}{
		{engine.Group{SecurityEnabled: true, GroupTypes: []string{}}, "security"},
		{engine.Group{MailEnabled: true, GroupTypes: []string{"Unified"}}, "Microsoft 365"},
		{engine.Group{MailEnabled: true, GroupTypes: []string{"Unified", "DynamicMembership"}}, "Microsoft 365, dynamic"},
		{engine.Group{SecurityEnabled: true, GroupTypes: []string{"DynamicMembership"}}, "dynamic security"},
		{engine.Group{MailEnabled: true}, "distribution list"},
		{engine.Group{MailEnabled: true, SecurityEnabled: true}, "mail-enabled security"},
	}
	for _, tc := range tests {
		if got := groupKind(tc.g); got != tc.want {
			t.Errorf("groupKind(%+v) = %q, want %q", tc.g, got, tc.want)
		}
	}
}

// TestDemoKeep: demo --keep leaves serve running with a configuration
// file that the operator commands take (status answers from serve), until
// interrupted.
func TestDemoKeep(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out, errOut syncBuffer
	done := make(chan int, 1)
	go func() { done <- run(ctx, []string{"demo", "--keep"}, &out, &errOut) }()
	re := regexp.MustCompile(`Its configuration is (\S+);`)
	var cfgPath string
	waitfor.WaitFor(t, 90*time.Second, "demo --keep to print its configuration", func() bool {
		if m := re.FindStringSubmatch(out.String()); m != nil {
			cfgPath = m[1]
			return true
		}
		return false
	})
	code, stdout, stderr := runCLI(t, "status", "--config", cfgPath)
	if code != 0 || !strings.Contains(stdout, "xtsync serve: running") {
		t.Errorf("status against the kept demo: exit %d\n%s\n%s", code, stdout, stderr)
	}
	cancel()
	if code := <-done; code != 0 {
		t.Errorf("demo --keep exited %d after the interrupt\n%s", code, errOut.String())
	}
}
