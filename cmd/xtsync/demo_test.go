package main

import (
	"strings"
	"testing"

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
		"scheduled reconcile", "distribution list", "mirroring the source exactly",
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
