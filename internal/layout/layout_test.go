// Package layout checks the dependency rules of the project's structure
// with the go tool: what a package links is what it costs to build and to
// start, and what a newcomer must read.
package layout

import (
	"os/exec"
	"strings"
	"testing"
)

const module = "github.com/xtsync/xtsync"

// deps lists the packages pkg links (go list -deps).
func deps(t *testing.T, pkg string) []string {
	t.Helper()
	out, err := exec.Command("go", "list", "-deps", module+pkg).Output()
	if err != nil {
		t.Fatalf("go list -deps %s: %v", pkg, err)
	}
	return strings.Fields(string(out))
}

func TestDependencyRules(t *testing.T) {
	tests := []struct {
		pkg    string
		forbid string // a package path prefix pkg must not link
		why    string
	}{
		{"/pkg/engine", module + "/", "the domain package imports only the standard library"},
		{"/pkg/contract", "github.com/microsoftgraph/", "the infra contract must not pull the Graph SDK into the CDK app"},
		{"/infra", "github.com/microsoftgraph/", "the CDK app does not link msgraph-sdk-go"},
		{"/functions/webhook", "github.com/microsoftgraph/", "the public, latency-bound webhook function does not link msgraph-sdk-go"},
		{"/pkg/lambdaapp", "github.com/microsoftgraph/", "the Lambda wiring takes the Graph ports from the mains"},
	}
	for _, tt := range tests {
		t.Run(tt.pkg, func(t *testing.T) {
			for _, d := range deps(t, tt.pkg) {
				if strings.HasPrefix(d, tt.forbid) && d != module+tt.pkg {
					t.Errorf("%s links %s: %s", tt.pkg, d, tt.why)
				}
			}
		})
	}
}
