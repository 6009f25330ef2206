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

// The packages under pkg/, by role. Adapters are named after what they
// adapt (Graph, bbolt, DynamoDB, SQS, HTTP, Lambda's HTTP events, memory,
// Prometheus, CloudWatch's embedded metric format)
// and import only the core; the core declares the ports; the application
// and the wiring import what they assemble.
var (
	core = map[string]bool{
		"engine": true, "task": true, "config": true, "contract": true, "metrics": true,
	}
	adapters = map[string]bool{
		"msgraph": true, "graphemu": true, "boltstore": true, "dynamostore": true, "memstore": true,
		"memqueue": true, "sqsqueue": true, "webhook": true, "lambdahttp": true,
		"prommetrics": true, "emf": true,
	}
	// application packages: the flow (app), subscription upkeep
	// (subscribe), and the AWS wiring (lambdaapp).
	application = map[string]bool{"app": true, "subscribe": true, "lambdaapp": true}
)

// imports lists the project packages pkg imports directly (tests aside),
// relative to the module ("pkg/engine").
func imports(t *testing.T, pkg string) []string {
	t.Helper()
	out, err := exec.Command("go", "list", "-f", `{{join .Imports "\n"}}`, module+"/"+pkg).Output()
	if err != nil {
		t.Fatalf("go list %s: %v", pkg, err)
	}
	var own []string
	for _, p := range strings.Fields(string(out)) {
		if rel, ok := strings.CutPrefix(p, module+"/"); ok {
			own = append(own, rel)
		}
	}
	return own
}

// TestRoles checks that every package under pkg/ has a role and that
// adapters import only the core (and internal helpers): no adapter imports
// the application or another adapter.
func TestRoles(t *testing.T) {
	out, err := exec.Command("go", "list", module+"/pkg/...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	for _, p := range strings.Fields(string(out)) {
		rel := strings.TrimPrefix(p, module+"/")
		name, _, _ := strings.Cut(strings.TrimPrefix(rel, "pkg/"), "/")
		if rel != "pkg/"+name {
			continue // a package's own test helpers (pkg/engine/e2e, storetest)
		}
		switch {
		case core[name]:
			for _, imp := range imports(t, rel) {
				if imp != "pkg/engine" && !strings.HasPrefix(imp, "internal/") {
					t.Errorf("core package %s imports %s: the core imports only the domain package", rel, imp)
				}
			}
		case adapters[name]:
			for _, imp := range imports(t, rel) {
				other := strings.TrimPrefix(imp, "pkg/")
				if strings.HasPrefix(imp, "pkg/") && !core[other] {
					t.Errorf("adapter %s imports %s: an adapter imports only the core (engine, task, config, contract)", rel, imp)
				}
			}
		case application[name]:
		default:
			t.Errorf("%s has no role: add it to core, adapters or application in this test (and to README's layout)", rel)
		}
	}
}
