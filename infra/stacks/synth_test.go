package stacks

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"
)

// synthesized is one app, synthesized once and shared by the tests that
// read it (a synth costs seconds).
type synthesized struct {
	dep      *Deployment
	settings Settings
	outdir   string
	state    assertions.Template
	sync     assertions.Template
	// The templates as JSON, for the checks the matchers cannot express.
	stateJSON map[string]any
	syncJSON  map[string]any
}

// synthFixture holds the temporary directory and the synthesized apps.
type synthFixture struct {
	dir string
	// main is the deployment as cdk.json configures it, with a config
	// file; existing references secrets, parameter and topic by ARN/name.
	main, existing func() (*synthesized, error)
}

// fixture is set by TestMain.
var fixture *synthFixture

// Referenced resources of the "existing" variant.
const (
	existingSourceSecret = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:platform/xtsync-source-AbC123"
	existingTargetSecret = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:platform/xtsync-target-dEf456"
	existingTopic        = "arn:aws:sns:eu-west-1:123456789012:platform-alarms"
	existingParameter    = "/platform/xtsync/config"
)

func TestMain(m *testing.M) {
	if _, err := exec.LookPath("node"); err != nil {
		fmt.Fprintln(os.Stderr, "infra tests: the CDK (jsii) needs node on PATH (Node 20+):", err)
		os.Exit(1)
	}
	dir, err := os.MkdirTemp("", "xtsync-infra-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fixture = &synthFixture{dir: dir}
	fixture.main = sync.OnceValues(func() (*synthesized, error) {
		return synthesize(dir, "main", map[string]any{})
	})
	fixture.existing = sync.OnceValues(func() (*synthesized, error) {
		return synthesize(dir, "existing", map[string]any{
			ContextPrefix + KeyStackPrefix:     "XtsyncExisting",
			ContextPrefix + KeyConfigFile:      nil,
			ContextPrefix + KeyConfigParameter: existingParameter,
			ContextPrefix + KeySourceSecretARN: existingSourceSecret,
			ContextPrefix + KeyTargetSecretARN: existingTargetSecret,
			ContextPrefix + KeyAlarmTopicARN:   existingTopic,
			ContextPrefix + KeyAccount:         "123456789012",
			ContextPrefix + KeyRegion:          "eu-west-1",
			ContextPrefix + KeyRevision:        "rotated-2026-11-28",
		})
	})
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// synthesize builds an app the way `cdk synth` does: cdk.json's context
// (feature flags and xtsync settings), placeholder function assets and the
// example configuration, then overrides (a nil value deletes a key).
func synthesize(root, name string, overrides map[string]any) (*synthesized, error) {
	dir := filepath.Join(root, name)
	assets := filepath.Join(dir, "functions")
	for _, fn := range FunctionNames() {
		if err := os.MkdirAll(filepath.Join(assets, fn), 0o755); err != nil {
			return nil, err
		}
		if err := os.WriteFile(filepath.Join(assets, fn, "bootstrap"), []byte("#!/bin/sh\n# placeholder for "+fn+"\n"), 0o755); err != nil {
			return nil, err
		}
	}
	configFile := filepath.Join(dir, "xtsync.yaml")
	if err := os.WriteFile(configFile, []byte(exampleConfig), 0o644); err != nil {
		return nil, err
	}
	raw, err := os.ReadFile(filepath.Join("..", "..", "cdk.json"))
	if err != nil {
		return nil, err
	}
	var cdkJSON struct {
		App     string         `json:"app"`
		Context map[string]any `json:"context"`
	}
	if err := json.Unmarshal(raw, &cdkJSON); err != nil {
		return nil, fmt.Errorf("cdk.json: %w", err)
	}
	ctx := cdkJSON.Context
	ctx[ContextPrefix+KeyFunctionsDir] = assets
	ctx[ContextPrefix+KeyConfigFile] = configFile
	for k, v := range overrides {
		if v == nil {
			delete(ctx, k)
		} else {
			ctx[k] = v
		}
	}
	outdir := filepath.Join(dir, "cdk.out")
	app := awscdk.NewApp(&awscdk.AppProps{Context: &ctx, Outdir: jsii.String(outdir)})
	dep, err := BuildFromContext(app, os.ReadFile)
	if err != nil {
		return nil, err
	}
	if err := Synth(app); err != nil {
		return nil, err
	}
	s := &synthesized{dep: dep, settings: dep.Settings, outdir: outdir}
	if err := jsiiCall(func() {
		s.state = assertions.Template_FromStack(dep.State.Stack, nil)
		s.sync = assertions.Template_FromStack(dep.Sync.Stack, nil)
	}); err != nil {
		return nil, err
	}
	s.stateJSON = *s.state.ToJSON()
	s.syncJSON = *s.sync.ToJSON()
	return s, nil
}

// mainApp returns the main synthesized app, failing the test when it cannot
// be built.
func mainApp(t *testing.T) *synthesized {
	t.Helper()
	s, err := fixture.main()
	if err != nil {
		t.Fatalf("synth: %v", err)
	}
	return s
}

// existingApp returns the app that references existing secrets, parameter
// and topic.
func existingApp(t *testing.T) *synthesized {
	t.Helper()
	s, err := fixture.existing()
	if err != nil {
		t.Fatalf("synth: %v", err)
	}
	return s
}

// jsiiCall runs f, turning the panic a failed jsii call (such as an
// assertions matcher) raises into an error.
func jsiiCall(f func()) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%v", r)
		}
	}()
	f()
	return nil
}

// check runs an assertions matcher, reporting its failure on t without
// stopping the other checks.
func check(t *testing.T, what string, f func()) {
	t.Helper()
	if err := jsiiCall(f); err != nil {
		t.Errorf("%s: %v", what, err)
	}
}
