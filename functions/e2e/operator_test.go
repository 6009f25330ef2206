package e2e_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/xtsync/xtsync/internal/awslocal"
	"github.com/xtsync/xtsync/internal/rie"
	"github.com/xtsync/xtsync/pkg/engine"
	"github.com/xtsync/xtsync/pkg/graphemu"
)

// TestOperatorOnAWS: the operator's xtsync, with the deployment's state
// table, queue and reconcile function in its configuration, against the
// functions under the RIE: status reads the halt the workers' guard set,
// approve shows the held plan and writes nothing, approve --yes invokes the
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
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "xtsync.yaml")
	region := awslocal.Config(t).Region
	doc := w.yaml + "state: {dynamodb_table: " + w.table + ", region: " + region + ", queue_url: \"" + w.queue + "\", reconcile_function: function}\n"
	must(t, os.WriteFile(cfgPath, []byte(doc), 0o600))
	bin := rie.Build(t, "github.com/xtsync/xtsync/cmd/xtsync")
	xtsync := func(args ...string) (string, string, error) {
		cmd := exec.Command(bin, args...)
		cmd.Env = append(append(os.Environ(), w.env...), "AWS_ENDPOINT_URL_LAMBDA="+w.recon.Endpoint())
		var out, errb bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errb
		err := cmd.Run()
		return out.String(), errb.String(), err
	}
	out, errs, err := xtsync("status", "--config", cfgPath)
	if err != nil || !strings.Contains(out, "HOLDING") || !strings.Contains(out, "state.dynamodb_table "+w.table) {
		t.Fatalf("status from the table: %v\n%s\n%s", err, out, errs)
	}
	out, errs, err = xtsync("approve", "--config", cfgPath)
	if err != nil || !strings.Contains(out, "remove-members") || len(w.targetOf(eng).Members) != before {
		t.Fatalf("approve (review): %v, mirror %d members\n%s\n%s", err, len(w.targetOf(eng).Members), out, errs)
	}
	out, errs, err = xtsync("approve", "--config", cfgPath, "--yes")
	if err != nil || !strings.Contains(out, "approved") {
		t.Fatalf("approve --yes: %v\n%s\n%s", err, out, errs)
	}
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
