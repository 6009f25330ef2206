package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/xtsync/xtsync/internal/waitfor"
	"github.com/xtsync/xtsync/pkg/config"
	"github.com/xtsync/xtsync/pkg/contract"
	"github.com/xtsync/xtsync/pkg/graphemu"
)

// TestCheckAllGood: against a running serve with the sample's apps (every
// permission), every check passes, the handshake included.
func TestCheckAllGood(t *testing.T) {
	env, _ := startServeScope(t, []string{"finance", "sales"}, "", nil, nil)
	code, out, errs := xtsync(t, "check", "--config", env.cfg)
	if code != 0 || strings.Contains(out, "FAIL") {
		t.Fatalf("check: exit %d\n%s\n%s", code, out, errs)
	}
	for _, want := range []string{"source: signed in", "target: permission User.Invite.All", "scope.groups: Finance", "answers Graph's validation handshake"} {
		if !strings.Contains(out, want) {
			t.Errorf("check output lacks %q:\n%s", want, out)
		}
	}
}

// TestCheckNamesWhatToFix: a target app without User.Invite.All, a
// distribution list in scope and a public_url nothing answers: one FAIL
// line each, naming the fix; exit 1; nothing written.
func TestCheckNamesWhatToFix(t *testing.T) {
	env := newReconcileEnv(t, []string{"finance", "announcements"}, "server: {public_url: \"http://127.0.0.1:1/xtsync\"}\n")
	const id, secret = "7f3e4d5c-6b7a-4c8d-9e0f-1a2b3c4d5e6f", "limited-target-secret"
	must(t, env.em.AddApp(graphemu.SampleTargetTenant, graphemu.App{ClientID: id, Secret: secret, Permissions: []string{"Group.ReadWrite.All", "User.Read.All"}}))
	raw, err := os.ReadFile(env.cfg)
	must(t, err)
	cfg := strings.Replace(string(raw), "client_id: "+graphemu.SampleTargetClientID, "client_id: "+id, 1)
	cfg = strings.Replace(cfg, "client_secret: "+graphemu.SampleTargetSecret, "client_secret: "+secret, 1)
	must(t, os.WriteFile(env.cfg, []byte(cfg), 0o600))
	before := env.em.Stats(graphemu.SampleTargetTenant).Writes()

	code, out, errs := xtsync(t, "check", "--config", env.cfg)
	if code != exitFailure {
		t.Fatalf("check: exit %d, want %d\n%s\n%s", code, exitFailure, out, errs)
	}
	for _, want := range []string{
		"FAIL  target: permission User.Invite.All not granted",
		"FAIL  target: permission User.ReadWrite.All not granted",
		"ok    target: permission Group.ReadWrite.All",
		"is a distribution list, which xtsync does not mirror",
		"FAIL  server.public_url: http://127.0.0.1:1/xtsync did not answer the validation handshake",
		"ok    scope.groups: Finance",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("check output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out+errs, secret) || strings.Contains(out+errs, graphemu.SampleSourceSecret) {
		t.Error("check printed a client secret")
	}
	if got := env.em.Stats(graphemu.SampleTargetTenant).Writes() - before; got != 0 {
		t.Errorf("check wrote %d times to the target", got)
	}
}

// TestServeSubscriptionFailureIsAnError: when Graph cannot validate
// server.public_url, serve logs it at ERROR, naming the key and the
// check that tries it, instead of an INFO retry note.
func TestServeSubscriptionFailureIsAnError(t *testing.T) {
	listen, admin := freeAddr(t), freeAddr(t)
	env := newReconcileEnv(t, []string{"finance"}, fmt.Sprintf("server: {listen: %q, public_url: \"http://127.0.0.1:1/xtsync\", admin_listen: %q}\n", listen, admin))
	cfg, err := config.Load(env.cfg)
	must(t, err)
	logs := &syncBuffer{}
	srv, err := startServer(context.Background(), cfg, slog.New(slog.NewTextHandler(logs, nil)), nil)
	must(t, err)
	t.Cleanup(func() { _ = srv.Close() })
	waitfor.WaitFor(t, 20*time.Second, "an ERROR line about the subscriptions", func() bool {
		for _, line := range strings.Split(logs.String(), "\n") {
			if strings.Contains(line, "level=ERROR") && strings.Contains(line, "msg="+contract.LogSubscriptions) && strings.Contains(line, "server.public_url") && strings.Contains(line, "xtsync check") {
				return true
			}
		}
		return false
	})
}
