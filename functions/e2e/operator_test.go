package e2e_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/xtsync/xtsync/internal/awslocal"
	"github.com/xtsync/xtsync/internal/rie"
	"github.com/xtsync/xtsync/internal/waitfor"
	"github.com/xtsync/xtsync/pkg/engine"
	"github.com/xtsync/xtsync/pkg/graphemu"
)

// TestOperatorOnAWS: the operator's xtsync, with the deployment's state
// table, queue and reconcile function in its configuration, against the
// functions under the RIE: status reads the halt the workers' guard set,
// approve shows the held plan and writes nothing, the console (xtsync
// console) shows the halt and its plan and its approve button invokes the
// reconcile function with the approval, and the workers then apply the
// held removals; audit lists them, filtered, as CSV.
func TestOperatorOnAWS(t *testing.T) {
	w := newWorldWith(t, "sync: {deletion_threshold: 3}\n")
	ctx := awslocal.Context(t)
	w.reconcile()
	w.settle(w.worker)
	eng := w.nick["engineering"]
	before := len(w.targetOf(eng).Members)
	if before < 5 {
		t.Fatalf("engineering's mirror has %d members, want at least 5", before)
	}

	// Empty engineering in the source: the guard holds the removals.
	g, _ := w.em.Group(src, eng)
	for _, m := range g.Members {
		must(t, w.em.RemoveMember(src, eng, m))
	}
	w.reconcile()
	w.drain(w.worker) // not settle: the held removals keep the mirror from converging
	guard, err := engine.LoadGuard(ctx, w.store)
	must(t, err)
	if guard.Halt == nil || len(w.targetOf(eng).Members) != before {
		t.Fatalf("the guard did not hold: halt %+v, mirror %d members (was %d)", guard.Halt, len(w.targetOf(eng).Members), before)
	}

	// The operator's configuration: the functions' own, with the state.
	cfgPath, xtsync := w.operator()
	out, errs, err := xtsync("status", "--config", cfgPath)
	if err != nil || !strings.Contains(out, "HOLDING") || !strings.Contains(out, "state.dynamodb_table "+w.table) {
		t.Fatalf("status from the table: %v\n%s\n%s", err, out, errs)
	}
	out, errs, err = xtsync("approve", "--config", cfgPath)
	if err != nil || !strings.Contains(out, "remove-members") || len(w.targetOf(eng).Members) != before {
		t.Fatalf("approve (review): %v, mirror %d members\n%s\n%s", err, len(w.targetOf(eng).Members), out, errs)
	}
	// The approval from the console's button (approve --yes is tested
	// while the workers run, below).
	w.approveFromConsole(eng, before)
	w.settle(w.worker)
	if n := len(w.targetOf(eng).Members); n != 0 {
		t.Errorf("after the approval the mirror has %d members, want 0", n)
	}
	if guard, err := engine.LoadGuard(ctx, w.store); err != nil || guard.Halt != nil {
		t.Errorf("the approval left the halt: %+v (%v)", guard.Halt, err)
	}
	// reconcile through the function: a change whose notification was lost.
	must(t, w.em.SetFaults(src, graphemu.Faults{NotifyDropRate: 1}))
	fin := w.nick["finance"]
	must(t, w.em.UpdateGroup(src, fin, func(g *graphemu.Group) { g.DisplayName = "Finance & Legal" }))
	if out, errs, err := xtsync("reconcile", "--config", cfgPath); err != nil || !strings.Contains(out, "reconciling") {
		t.Fatalf("reconcile through the function: %v\n%s\n%s", err, out, errs)
	}
	w.settle(w.worker)
	if got := w.targetOf(fin).DisplayName; got != "Finance & Legal" {
		t.Errorf("after the reconcile the mirror is named %q", got)
	}
	out, errs, err = xtsync("audit", "--config", cfgPath, "--group", eng, "--action", "remove-members", "--outcome", "ok", "--csv")
	if rows := strings.Count(strings.TrimSpace(out), "\n"); err != nil || rows != before {
		t.Errorf("audit of the removals: %v, %d rows, want %d\n%s\n%s", err, rows, before, out, errs)
	}
}

// operator writes the operator's configuration (the functions' own, with
// the deployment's state table, queue and reconcile function) and returns
// its path and a runner of the xtsync CLI with the AWS environment.
func (w *world) operator() (string, func(args ...string) (string, string, error)) {
	t := w.t
	cfgPath := filepath.Join(t.TempDir(), "xtsync.yaml")
	region := awslocal.Config(t).Region
	doc := w.yaml + "state: {dynamodb_table: " + w.table + ", region: " + region + ", queue_url: \"" + w.queue + "\", reconcile_function: function}\n"
	must(t, os.WriteFile(cfgPath, []byte(doc), 0o600))
	bin := rie.Build(t, "github.com/xtsync/xtsync/cmd/xtsync")
	return cfgPath, func(args ...string) (string, string, error) {
		cmd := exec.Command(bin, args...)
		cmd.Env = append(append(os.Environ(), w.env...), "AWS_ENDPOINT_URL_LAMBDA="+w.recon.Endpoint())
		var out, errb bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errb
		err := cmd.Run()
		return out.String(), errb.String(), err
	}
}

// TestOperatorWhileWorkersRun: the operator's commands while the workers
// apply work from the queue (the event source mapping runs beside the
// test, and Graph answers after 30 ms): status, audit, explain and sync
// --group during the initial sync; a halt set by a worker's delta pass
// (notifications on) reviewed and approved while other groups' changes are
// applied; then the subscriptions turned off through the reconcile
// function (its scheduled run makes none) and on again.
func TestOperatorWhileWorkersRun(t *testing.T) {
	w := newWorldWith(t, "sync: {deletion_threshold: 3}\n")
	ctx := awslocal.Context(t)
	must(t, w.em.SetFaults(dst, graphemu.Faults{Latency: graphemu.Duration(30 * time.Millisecond)}))
	cfgPath, xtsync := w.operator()
	pumpCtx, stop := context.WithCancel(context.Background())
	pumped := w.pump(pumpCtx, w.worker)
	defer func() {
		stop()
		r := <-pumped
		if r.err != nil {
			t.Errorf("event source mapping: %v", r.err)
		}
		t.Logf("the workers ran %d batches", r.batches)
	}()
	run := func(args ...string) string {
		t.Helper()
		out, errs, err := xtsync(args...)
		if err != nil {
			t.Fatalf("xtsync %s: %v\n%s\n%s", strings.Join(args, " "), err, out, errs)
		}
		return out
	}

	// The initial sync in flight.
	w.reconcile()
	eng, fin, sales := w.nick["engineering"], w.nick["finance"], w.nick["sales"]
	if out := run("status", "--config", cfgPath); !strings.Contains(out, "state.dynamodb_table "+w.table) {
		t.Errorf("status during the initial sync:\n%s", out)
	}
	run("audit", "--config", cfgPath, "--csv")
	if out := run("sync", "--config", cfgPath, "--group", fin); !strings.Contains(out, "sent sync-shard") {
		t.Errorf("sync --group during the initial sync:\n%s", out)
	}
	waitfor.WaitFor(t, 60*time.Second, "the initial sync converged", func() bool { return w.mirrored() == nil })
	g, _ := w.em.Group(src, eng)
	member, _ := w.em.User(src, g.Members[0])
	if out := run("explain", "--config", cfgPath, "--user", member.Mail); !strings.Contains(out, w.targetOf(eng).DisplayName) {
		t.Errorf("explain %s does not name the group's mirror:\n%s", member.Mail, out)
	}
	before := len(w.targetOf(eng).Members)

	// Empty engineering (notified: a worker's delta pass is held by the
	// guard) while sales is renamed again and again.
	for _, m := range g.Members {
		must(t, w.em.RemoveMember(src, eng, m))
	}
	churn := make(chan struct{})
	go func() {
		defer close(churn)
		// Each rename after the last one reached the mirror: work in
		// flight all along, paced by the workers themselves.
		for i := range 10 {
			name := fmt.Sprintf("Sales %d", i)
			_ = w.em.UpdateGroup(src, sales, func(g *graphemu.Group) { g.DisplayName = name })
			renamed := func() bool { // not targetOf: this goroutine must not fail the test fatally
				return slices.ContainsFunc(w.em.Groups(dst), func(g graphemu.Group) bool {
					return g.MailNickname == engine.TargetNickname(sales) && g.DisplayName == name
				})
			}
			if !waitfor.Until(60*time.Second, renamed) {
				t.Errorf("the rename to %q did not reach the mirror", name)
				return
			}
		}
	}()
	waitfor.WaitFor(t, 60*time.Second, "a worker's delta pass held by the guard", func() bool {
		guard, err := engine.LoadGuard(ctx, w.store)
		return err == nil && guard.Halt != nil
	})
	out := run("status", "--config", cfgPath)
	if !strings.Contains(out, "HOLDING removals") || !strings.Contains(out, "security") {
		t.Errorf("status does not show engineering held, with its kind:\n%s", out)
	}
	if out := run("approve", "--config", cfgPath); !strings.Contains(out, "remove-members") {
		t.Errorf("approve (review) while the workers run:\n%s", out)
	}
	if n := len(w.targetOf(eng).Members); n != before {
		t.Fatalf("the review removed members: %d, want %d", n, before)
	}
	run("approve", "--config", cfgPath, "--yes")
	<-churn
	waitfor.WaitFor(t, 60*time.Second, "converged after the approval", func() bool { return w.mirrored() == nil })
	if guard, err := engine.LoadGuard(ctx, w.store); err != nil || guard.Halt != nil {
		t.Errorf("the approval left the halt: %+v (%v)", guard.Halt, err)
	}
	out = run("audit", "--config", cfgPath, "--group", eng, "--action", "remove-members", "--outcome", "ok", "--csv")
	if rows := strings.Count(strings.TrimSpace(out), "\n"); rows != before {
		t.Errorf("audit of the removals: %d rows, want %d\n%s", rows, before, out)
	}
	if out := run("audit", "--config", cfgPath, "--outcome", "failed"); strings.Contains(out, "remove-members") || strings.Contains(out, "update-group") {
		t.Errorf("failed writes while the operator acted:\n%s", out)
	}

	// Notifications off through the function; its scheduled run makes none.
	subs := len(w.em.Subscriptions(src))
	if out := run("unsubscribe", "--config", cfgPath); !strings.Contains(out, "notifications off") || len(w.em.Subscriptions(src)) != 0 {
		t.Fatalf("unsubscribe: %d subscriptions left\n%s", len(w.em.Subscriptions(src)), out)
	}
	w.reconcile()
	if n := len(w.em.Subscriptions(src)); n != 0 {
		t.Errorf("the scheduled reconcile after the unsubscribe made %d subscription(s)", n)
	}
	if out := run("status", "--config", cfgPath); !strings.Contains(out, "OFF (xtsync unsubscribe)") {
		t.Errorf("status after the unsubscribe:\n%s", out)
	}
	run("subscribe", "--config", cfgPath)
	if n := len(w.em.Subscriptions(src)); n != subs {
		t.Errorf("after subscribe: %d subscription(s), want %d", n, subs)
	}
}
