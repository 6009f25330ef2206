package stacks

import (
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-cdk-go/awscdk/v2/awsssm"

	"github.com/xtsync/xtsync/pkg/config"
)

// exampleConfig is a valid configuration for the AWS form.
const exampleConfig = `source:
  tenant_id: 6f1c2b9e-3d4a-4c8e-9b1f-2a7d5e8c0b31
  client_id: 0b7e4a52-8c1d-4f3a-a6e2-5d9c1b7f3e20
  client_secret: "${XTSYNC_SOURCE_CLIENT_SECRET}"
target:
  tenant_id: c4e8a1d7-5b2f-4e9c-8a3d-7f1b6c0e9d42
  client_id: 9a3f6d1c-2e7b-4b8a-b5c4-1e8d7a2f6c53
  client_secret: "${XTSYNC_TARGET_CLIENT_SECRET}"
scope:
  groups:
    - 2f7c8a41-0d1e-4b9a-8c6f-3e5d7a9b1c20
`

// writeAssets creates dir/<name>/bootstrap placeholders for every function.
func writeAssets(t testing.TB, dir string) {
	t.Helper()
	for _, name := range FunctionNames() {
		if err := os.MkdirAll(filepath.Join(dir, name), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name, "bootstrap"), []byte("#!/bin/sh\n# placeholder for "+name+"\n"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
}

// contextOf returns a Context holding values, reading files from files.
func contextOf(values map[string]any, files map[string]string) Context {
	return Context{
		All: func() map[string]any { return values },
		ReadFile: func(p string) ([]byte, error) {
			if s, ok := files[p]; ok {
				return []byte(s), nil
			}
			return nil, &fs.PathError{Op: "open", Path: p, Err: fs.ErrNotExist}
		},
	}
}

func TestFromContextReadsTypedAndStringValues(t *testing.T) {
	dir := t.TempDir()
	writeAssets(t, dir)
	// cdk.json gives numbers and booleans; `cdk -c` gives strings.
	s, err := FromContext(contextOf(map[string]any{
		"xtsync:functionsDir":            dir,
		"xtsync:configFile":              "x.yaml",
		"xtsync:workerMaxConcurrency":    float64(3),
		"xtsync:workerTimeout":           "2m",
		"xtsync:reconcileRate":           "30m",
		"xtsync:reconcileTimeout":        "10m",
		"xtsync:logRetentionDays":        "90",
		"xtsync:tableDeletionProtection": "false",
		"xtsync:alarmEmail":              "ops@example.com",
		"@aws-cdk/core:someFeatureFlag":  true, // not ours: ignored
	}, map[string]string{"x.yaml": exampleConfig}))
	if err != nil {
		t.Fatal(err)
	}
	if s.WorkerMaxConcurrency != 3 || s.WorkerTimeout != 2*time.Minute || s.ReconcileRate != 30*time.Minute ||
		s.LogRetentionDays != 90 || s.TableDeletionProtection || s.AlarmEmail != "ops@example.com" {
		t.Errorf("settings not read from context: %+v", s)
	}
	if s.ConfigYAML != exampleConfig {
		t.Errorf("ConfigYAML = %q, want the file's content", s.ConfigYAML)
	}
	if got := s.QueueVisibilityTimeout(); got != 12*time.Minute {
		t.Errorf("QueueVisibilityTimeout = %s, want 6 x 2m", got)
	}
	// Untouched keys keep their defaults.
	if d := DefaultSettings(); s.WorkerBatchSize != d.WorkerBatchSize || s.StackPrefix != d.StackPrefix {
		t.Errorf("defaults lost: %+v", s)
	}
}

func TestFromContextRejects(t *testing.T) {
	dir := t.TempDir()
	writeAssets(t, dir)
	base := func() map[string]any {
		return map[string]any{"xtsync:functionsDir": dir, "xtsync:configFile": "x.yaml"}
	}
	files := map[string]string{"x.yaml": exampleConfig}
	cases := []struct {
		name string
		set  map[string]any
		want string
	}{
		{"misspelt key", map[string]any{"xtsync:workerMaxConcurency": 3}, "xtsync:workerMaxConcurency: unknown setting"},
		{"fractional number", map[string]any{"xtsync:workerMaxConcurrency": 2.5}, "xtsync:workerMaxConcurrency: 2.5 is not a whole number"},
		{"bad duration", map[string]any{"xtsync:workerTimeout": "five minutes"}, "xtsync:workerTimeout"},
		{"concurrency below the mapping's minimum", map[string]any{"xtsync:workerMaxConcurrency": 1}, "xtsync:workerMaxConcurrency: 1 is not between 2 and 1000"},
		{"FIFO batch too large", map[string]any{"xtsync:workerBatchSize": 11}, "xtsync:workerBatchSize"},
		{"worker longer than Lambda allows", map[string]any{"xtsync:workerTimeout": "16m"}, "xtsync:workerTimeout"},
		{"webhook beyond the API's limit", map[string]any{"xtsync:webhookTimeout": "30s"}, "xtsync:webhookTimeout"},
		{"rate shorter than a run", map[string]any{"xtsync:reconcileRate": "10m"}, "runs would overlap"},
		{"rate not whole minutes", map[string]any{"xtsync:reconcileRate": "90s"}, "xtsync:reconcileRate"},
		{"retention CloudWatch refuses", map[string]any{"xtsync:logRetentionDays": 31}, "xtsync:logRetentionDays: 31"},
		{"partial secret ARN", map[string]any{"xtsync:sourceSecretArn": "arn:aws:secretsmanager:eu-west-1:123456789012:secret:xtsync/source"}, "xtsync:sourceSecretArn"},
		{"both config file and parameter", map[string]any{"xtsync:configParameterName": "/xtsync/config"}, "set exactly one"},
		{"config file missing", map[string]any{"xtsync:configFile": "missing.yaml"}, "missing.yaml"},
		{"functions not built", map[string]any{"xtsync:functionsDir": t.TempDir()}, "make build-functions"},
		{"account without region", map[string]any{"xtsync:account": "123456789012"}, "xtsync:account"},
		{"revision with a space", map[string]any{"xtsync:revision": "after rotation"}, "xtsync:revision"},
		{"email with an existing topic", map[string]any{"xtsync:alarmTopicArn": "arn:aws:sns:eu-west-1:123456789012:ops", "xtsync:alarmEmail": "ops@example.com"}, "xtsync:alarmEmail"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			values := base()
			for k, v := range c.set {
				values[k] = v
			}
			_, err := FromContext(contextOf(values, files))
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("err = %v, want it to mention %q", err, c.want)
			}
		})
	}
}

func TestFromContextNeedsAConfiguration(t *testing.T) {
	dir := t.TempDir()
	writeAssets(t, dir)
	_, err := FromContext(contextOf(map[string]any{"xtsync:functionsDir": dir}, nil))
	if err == nil || !strings.Contains(err.Error(), "xtsync:configFile") {
		t.Fatalf("err = %v, want a pointer to xtsync:configFile", err)
	}
	s, err := FromContext(contextOf(map[string]any{"xtsync:functionsDir": dir, "xtsync:configParameterName": "/platform/xtsync/config"}, nil))
	if err != nil || s.ConfigParameterName != "/platform/xtsync/config" || s.ConfigYAML != "" {
		t.Fatalf("existing parameter: %+v, %v", s, err)
	}
}

func TestCheckConfigDocument(t *testing.T) {
	if err := CheckConfigDocument([]byte(exampleConfig)); err != nil {
		t.Fatalf("example rejected: %v", err)
	}
	cases := []struct {
		name, doc, want string
	}{
		{"literal secret", strings.Replace(exampleConfig, `"${XTSYNC_SOURCE_CLIENT_SECRET}"`, `"s3cr3t~value"`, 1), "source.client_secret must be"},
		{"swapped secrets", strings.NewReplacer("XTSYNC_SOURCE_CLIENT_SECRET", "XTSYNC_TARGET_CLIENT_SECRET", "XTSYNC_TARGET_CLIENT_SECRET", "XTSYNC_SOURCE_CLIENT_SECRET").Replace(exampleConfig), "source.client_secret must be"},
		{"another variable", strings.Replace(exampleConfig, "XTSYNC_TARGET_CLIENT_SECRET", "TARGET_SECRET", 1), "TARGET_SECRET"},
		{"invalid config", strings.Replace(exampleConfig, "2f7c8a41-0d1e-4b9a-8c6f-3e5d7a9b1c20", "not-a-guid", 1), "scope.groups[0]"},
		{"local CA file", strings.Replace(exampleConfig, "target:\n", "target:\n  ca_file: "+os.Args[0]+"\n", 1), "target.ca_file"},
		{"too large for SSM", exampleConfig + "# " + strings.Repeat("x", advancedParameterMax) + "\n", "at most 8192"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := CheckConfigDocument([]byte(c.doc))
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("err = %v, want it to mention %q", err, c.want)
			}
		})
	}
}

func TestParameterTier(t *testing.T) {
	if got := parameterTier(strings.Repeat("x", standardParameterMax)); got != awsssm.ParameterTier_STANDARD {
		t.Errorf("4096 bytes: %s, want standard", got)
	}
	if got := parameterTier(strings.Repeat("x", standardParameterMax+1)); got != awsssm.ParameterTier_ADVANCED {
		t.Errorf("4097 bytes: %s, want advanced", got)
	}
}

func TestShortDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{
		time.Hour: "1h", 5 * time.Minute: "5m", 90 * time.Minute: "1h30m", 90 * time.Second: "1m30s", 24 * time.Hour: "24h",
	} {
		if got := shortDuration(d); got != want {
			t.Errorf("shortDuration(%s) = %q, want %q", d, got, want)
		}
	}
}

func TestDefaultsAreValidButForTheDeploymentInputs(t *testing.T) {
	// The defaults lack only what a deployment must say: the functions
	// (built) and the configuration.
	err := DefaultSettings().Validate()
	if err == nil {
		t.Fatal("defaults validated without functions or configuration")
	}
	for _, e := range err.(interface{ Unwrap() []error }).Unwrap() {
		if !strings.Contains(e.Error(), KeyFunctionsDir) && !strings.Contains(e.Error(), KeyConfigFile) {
			t.Errorf("a default is invalid: %v", e)
		}
	}
}

func TestBootstrapMustBeArm64(t *testing.T) {
	dir := t.TempDir()
	writeAssets(t, dir)
	// This test binary is an ELF executable for the machine running it.
	self, err := os.ReadFile(os.Args[0])
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, FunctionWorker, "bootstrap"), self, 0o755); err != nil {
		t.Fatal(err)
	}
	if runtime.GOOS != "linux" {
		t.Skip("needs an ELF test binary")
	}
	err = checkFunctionsDir(dir)
	if runtime.GOARCH == "arm64" {
		if err != nil {
			t.Errorf("a linux/arm64 bootstrap refused: %v", err)
		}
		return
	}
	if err == nil || !strings.Contains(err.Error(), "not linux/arm64") {
		t.Errorf("a linux/%s bootstrap: err = %v, want it refused", runtime.GOARCH, err)
	}
}

func TestConfigTemplateFillsPublicURL(t *testing.T) {
	const url = "https://abc123.execute-api.eu-west-1.amazonaws.com"
	lookup := func(name string) (string, bool) { return "x", name == SourceSecretVar || name == TargetSecretVar }
	cases := []struct {
		name, doc, want string
		fills           bool
	}{
		{"no server section", exampleConfig, url, true},
		{"server without public_url", exampleConfig + "server:\n  reconcile_interval: 2h\n", url, true},
		{"empty public_url", exampleConfig + "server:\n  public_url: \"\"\n", url, true},
		{"custom domain kept", exampleConfig + "server:\n  public_url: https://hooks.example.com/xtsync\n", "https://hooks.example.com/xtsync", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tmpl, err := NewConfigTemplate([]byte("# kept comment\n" + c.doc))
			if err != nil {
				t.Fatal(err)
			}
			if tmpl.FillsPublicURL != c.fills {
				t.Errorf("FillsPublicURL = %v, want %v", tmpl.FillsPublicURL, c.fills)
			}
			doc := tmpl.Render(url)
			cfg, err := config.Parse([]byte(doc), lookup)
			if err != nil {
				t.Fatalf("%v\n%s", err, doc)
			}
			if cfg.Server.PublicURL != c.want {
				t.Errorf("public_url = %q, want %q", cfg.Server.PublicURL, c.want)
			}
			if !strings.Contains(doc, "# kept comment") || !strings.Contains(doc, `"${XTSYNC_SOURCE_CLIENT_SECRET}"`) {
				t.Errorf("comments or quoting lost:\n%s", doc)
			}
		})
	}
	if _, err := NewConfigTemplate([]byte("server: 3\n")); err == nil {
		t.Error("a scalar server section accepted")
	}
}
