package stacks

import (
	"testing"

	"github.com/xtsync/xtsync/pkg/contract"
)

func mustTemplate(t *testing.T, doc string) ConfigTemplate {
	t.Helper()
	tmpl, err := NewConfigTemplate([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	return tmpl
}

func TestFunctionsAreArm64AL2023WithJSONLogsAndRetention(t *testing.T) {
	s := mainApp(t)
	st := s.dep.Sync.Stack
	fns := resources(s.syncJSON, "AWS::Lambda::Function")
	if len(fns) != 3 {
		t.Fatalf("%d functions, want webhook, worker and reconcile (and no CDK helper functions)", len(fns))
	}
	logGroups := resources(s.syncJSON, "AWS::Logs::LogGroup")
	for id, fn := range fns {
		p := props(fn)
		if !same(p["Architectures"], []any{"arm64"}) || p["Runtime"] != "provided.al2023" || p["Handler"] != "bootstrap" {
			t.Errorf("%s: architectures %v, runtime %v, handler %v", id, p["Architectures"], p["Runtime"], p["Handler"])
		}
		lc, _ := p["LoggingConfig"].(map[string]any)
		if lc["LogFormat"] != "JSON" {
			t.Errorf("%s: log format %v, want JSON", id, lc["LogFormat"])
		}
		lgRef, _ := lc["LogGroup"].(map[string]any)
		lgID, _ := lgRef["Ref"].(string)
		lg, ok := logGroups[lgID]
		if !ok {
			t.Errorf("%s: logs to %v, not a log group of the stack", id, lc["LogGroup"])
			continue
		}
		if got := props(lg)["RetentionInDays"]; got != float64(30) {
			t.Errorf("%s: log retention %v days, want 30", id, got)
		}
	}
	for _, c := range []struct {
		fn              *Function
		timeout, memory float64
		secrets         bool
	}{
		{s.dep.Sync.Webhook, 10, 256, false},
		{s.dep.Sync.Worker, 300, 512, true},
		{s.dep.Sync.Reconcile, 900, 1024, true},
	} {
		id := logicalID(st, c.fn.Function)
		p := props(fns[id])
		if p["Timeout"] != c.timeout || p["MemorySize"] != c.memory {
			t.Errorf("%s: timeout %v s, memory %v MB, want %v s, %v MB", id, p["Timeout"], p["MemorySize"], c.timeout, c.memory)
		}
		env, _ := p["Environment"].(map[string]any)
		vars, _ := env["Variables"].(map[string]any)
		want := map[string]any{
			contract.EnvConfigParameter: ref(logicalID(st, s.dep.Sync.Config)),
			contract.EnvQueueURL:        ref(logicalID(st, s.dep.Sync.Queue.Queue)),
			// A configuration change restarts the functions.
			contract.EnvConfigDigest: mustTemplate(t, exampleConfig).Digest(),
			// The functions write their metrics (EMF) where the alarms read.
			contract.EnvMetricsNamespace: "xtsync/Xtsync",
		}
		if c.secrets {
			want[contract.EnvSourceSecretARN] = ref(logicalID(st, s.dep.Sync.SourceSecret))
			want[contract.EnvTargetSecretARN] = ref(logicalID(st, s.dep.Sync.TargetSecret))
			// Five workers at most (the default) and the reconcile.
			want[contract.EnvQuotaShare] = "6"
		}
		for k, v := range want {
			if !same(vars[k], v) {
				t.Errorf("%s: %s = %v, want %v", id, k, vars[k], v)
			}
		}
		if imp, _ := vars[contract.EnvTable].(map[string]any); imp["Fn::ImportValue"] == nil {
			t.Errorf("%s: %s = %v, want the State stack's table", id, contract.EnvTable, vars[contract.EnvTable])
		}
		for k := range vars {
			if _, ok := want[k]; !ok && k != contract.EnvTable {
				t.Errorf("%s: unexpected variable %s (the webhook must not know the secrets)", id, k)
			}
		}
	}
	// The reconcile is not retried by Lambda: a failed run alarms and the
	// next one repairs.
	_, cfg := only(t, s.syncJSON, "AWS::Lambda::EventInvokeConfig")
	if p := props(cfg); !same(p["FunctionName"], ref(logicalID(st, s.dep.Sync.Reconcile.Function))) || p["MaximumRetryAttempts"] != float64(0) {
		t.Errorf("reconcile async config = %v", p)
	}
}
