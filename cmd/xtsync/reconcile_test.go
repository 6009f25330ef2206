package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/xtsync/xtsync/internal/emutest"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/xtsync/xtsync/pkg/engine"
	"github.com/xtsync/xtsync/pkg/graphemu"
)

// reconcileEnv is an emulator with the sample tenants and a config file
// pointing xtsync at it.
type reconcileEnv struct {
	em   *graphemu.Emulator
	cfg  string
	dir  string
	nick map[string]string
}

func newReconcileEnv(t testing.TB, scope []string, extra string) *reconcileEnv {
	t.Helper()
	return newReconcileEnvSeeded(t, scope, extra, nil)
}

// newReconcileEnvSeeded is newReconcileEnv with seed run on the emulator
// before the scope's nicknames are looked up (to add groups).
func newReconcileEnvSeeded(t testing.TB, scope []string, extra string, seed func(*graphemu.Emulator)) *reconcileEnv {
	t.Helper()
	em, ca := emutest.StartSample(t, graphemu.Options{AllowHTTPNotifications: true, NotifyRetryBase: 100 * time.Millisecond})
	if seed != nil {
		seed(em)
	}
	dir := t.TempDir()
	nick := map[string]string{}
	for _, g := range em.Groups(graphemu.SampleSourceTenant) {
		nick[g.MailNickname] = g.ID
	}
	var ids []string
	for _, n := range scope {
		ids = append(ids, nick[n])
	}
	t.Setenv("XTSYNC_TEST_SRC_SECRET", graphemu.SampleSourceSecret)
	cfg := fmt.Sprintf(`source:
  tenant_id: %s
  client_id: %s
  client_secret: "${XTSYNC_TEST_SRC_SECRET}"
  graph_endpoint: %s
  authority_host: %s
  ca_file: %s
target:
  tenant_id: %s
  client_id: %s
  client_secret: %s
  graph_endpoint: %s
  authority_host: %s
  ca_file: %s
scope:
  groups: [%s]
state:
  path: %s
%s`, graphemu.SampleSourceTenant, graphemu.SampleSourceClientID, em.URL(), em.URL(), ca,
		graphemu.SampleTargetTenant, graphemu.SampleTargetClientID, graphemu.SampleTargetSecret, em.URL(), em.URL(), ca,
		strings.Join(ids, ", "), filepath.Join(dir, "state.db"), extra)
	path := filepath.Join(dir, "xtsync.yaml")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return &reconcileEnv{em: em, cfg: path, dir: dir, nick: nick}
}

func xtsync(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(context.Background(), args, &out, &errb)
	return code, out.String(), errb.String()
}

func TestReconcileCommand(t *testing.T) {
	env := newReconcileEnv(t, []string{"finance", "sales", "announcements"}, "sync:\n  deletion_threshold: 3\n")
	// Dry run: the plan, nothing written.
	code, out, errs := xtsync(t, "reconcile", "--config", env.cfg, "--dry-run")
	if code != 0 || !strings.Contains(out, "create-group") || !strings.Contains(out, "distribution list") {
		t.Fatalf("dry run: exit %d\n%s\n%s", code, out, errs)
	}
	if n := len(env.em.Groups(graphemu.SampleTargetTenant)); n != 0 {
		t.Fatalf("dry run created %d groups", n)
	}
	if _, err := os.Stat(filepath.Join(env.dir, "state.db")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the dry run created the state file (stat: %v)", err)
	}
	// Apply.
	code, out, errs = xtsync(t, "reconcile", "--config", env.cfg)
	if code != 0 || !strings.Contains(out, "2 created") {
		t.Fatalf("reconcile: exit %d\n%s\n%s", code, out, errs)
	}
	if strings.Contains(out+errs, graphemu.SampleSourceSecret) || strings.Contains(out+errs, graphemu.SampleTargetSecret) {
		t.Fatal("a client secret was printed")
	}
	// Status names the skipped distribution list and why.
	if code, st, errs := xtsync(t, "status", "--config", env.cfg); code != 0 || !regexp.MustCompile(`Announcements\s.*skipped: distribution list`).MatchString(st) {
		t.Errorf("status does not name the skipped group and its reason: exit %d\n%s\n%s", code, st, errs)
	}
	// Converged: JSON report with no actions and request counts.
	code, out, _ = xtsync(t, "reconcile", "--config", env.cfg, "--json")
	var rep engine.Report
	if err := json.Unmarshal([]byte(out), &rep); err != nil || code != 0 {
		t.Fatalf("json: exit %d err %v\n%s", code, err, out)
	}
	if len(rep.Plan.Actions) != 0 || rep.Requests["target"]["GET /groups/{id}/members"] != 2 {
		t.Fatalf("second run: %d actions, requests %v", len(rep.Plan.Actions), rep.Requests)
	}
	// Above the threshold: exit 3, nothing deleted.
	fin, _ := env.em.Group(graphemu.SampleSourceTenant, env.nick["finance"])
	for _, m := range fin.Members {
		env.em.RemoveMember(graphemu.SampleSourceTenant, fin.ID, m)
	}
	users := len(env.em.Users(graphemu.SampleTargetTenant))
	code, out, errs = xtsync(t, "reconcile", "--config", env.cfg)
	if code != 3 || !strings.Contains(errs, "--allow-deletions") || !strings.Contains(out, "delete-user") {
		t.Fatalf("threshold: exit %d\n%s\n%s", code, out, errs)
	}
	if n := len(env.em.Users(graphemu.SampleTargetTenant)); n != users {
		t.Fatalf("halted run deleted users: %d -> %d", users, n)
	}
	code, _, errs = xtsync(t, "reconcile", "--config", env.cfg, "--allow-deletions")
	if code != 0 {
		t.Fatalf("allowed: exit %d %s", code, errs)
	}
}

func TestReconcileBadConfig(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name, body, want string
	}{
		{"missing file", "", "no such file"},
		{"bad tenant", "source: {tenant_id: nope}\n", "source.tenant_id"},
		{"unknown key", "sauce: {}\n", "sauce"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(dir, strings.ReplaceAll(tt.name, " ", "_")+".yaml")
			if tt.body != "" {
				os.WriteFile(path, []byte(tt.body), 0o600)
			}
			code, _, errs := xtsync(t, "reconcile", "--config", path)
			if code != 2 || !strings.Contains(errs, tt.want) {
				t.Fatalf("exit %d, stderr %q; want 2 naming %q", code, errs, tt.want)
			}
		})
	}
	if code, _, errs := xtsync(t, "reconcile"); code != 2 || !strings.Contains(errs, "--config") {
		t.Fatalf("no --config: exit %d %q", code, errs)
	}
	if code, _, _ := xtsync(t, "reconcile", "--bogus"); code != 2 {
		t.Fatalf("bad flag: exit %d", code)
	}
}
