package e2e_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/xtsync/xtsync/internal/emutest"
	"github.com/xtsync/xtsync/internal/waitfor"
	"github.com/xtsync/xtsync/pkg/engine"
	"github.com/xtsync/xtsync/pkg/graphemu"
)

// TestLambdaRepairsMirrors: the AWS path watches the mirrors too. After
// the scheduled reconcile the target has a subscription per mirror; a
// rogue member, a rename and a deletion of a mirror in the target are each
// notified to the webhook function (checked against the target's own
// subscription and tenant), queued as the mirror pass of the shard and put
// back by the worker, with no reconcile; then 20 source changes cause no
// write by a mirror pass, and the mirror passes read at most once per own
// write.
func TestLambdaRepairsMirrors(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	w.reconcile()
	w.settle(w.worker)
	groups, err := w.store.List(ctx, engine.RecordGroup)
	must(t, err)
	if got, want := len(w.em.Subscriptions(dst)), len(groups)+1; got != want {
		t.Fatalf("target subscriptions after the initial sync: %d, want one per mirror and the users one (%d)", got, want)
	}
	if got := auditByTrigger(t, w, engine.TriggerMirrorNotification); got != 0 {
		t.Errorf("the initial sync's own writes made %d writes by mirror passes, want 0", got)
	}

	eng, sales, fin := w.nick["engineering"], w.nick["sales"], w.nick["finance"]
	repair := func(what string, change func(), repaired func() bool) time.Duration {
		t.Helper()
		start := time.Now()
		change()
		waitfor.WaitFor(t, 60*time.Second, what+" put back", func() bool {
			w.drain(w.worker)
			return repaired()
		})
		return time.Since(start)
	}
	rogue, err := w.em.CreateUser(dst, graphemu.User{UserPrincipalName: "rogue@" + graphemu.SampleTargetDomain, Mail: "rogue@fabrikam.com", AccountEnabled: true})
	must(t, err)
	tEng, tSales, tFin := w.targetOf(eng), w.targetOf(sales), w.targetOf(fin)
	lat := []string{}
	d := repair("a rogue member", func() { must(t, w.em.AddMember(dst, tEng.ID, rogue.ID)) }, func() bool {
		return !slices.Contains(w.targetOf(eng).Members, rogue.ID) && w.mirrored() == nil
	})
	lat = append(lat, fmt.Sprintf("member added %s", d))
	d = repair("a rename", func() {
		must(t, w.em.UpdateGroup(dst, tSales.ID, func(g *graphemu.Group) { g.DisplayName = "Sales (all access)" }))
	}, func() bool { return w.mirrored() == nil })
	lat = append(lat, fmt.Sprintf("renamed %s", d))
	d = repair("a deletion", func() { must(t, w.em.DeleteGroup(dst, tFin.ID)) }, func() bool {
		return w.targetOf(fin).ID == tFin.ID && w.mirrored() == nil
	})
	lat = append(lat, fmt.Sprintf("deleted %s", d))
	t.Logf("mirror changes put back under the RIE (webhook, SQS, worker): %s", strings.Join(lat, ", "))
	repairs := auditByTrigger(t, w, engine.TriggerMirrorNotification)
	if repairs == 0 {
		t.Fatal("no write by a mirror pass: the repairs came from elsewhere")
	}

	// The echo: 20 source changes, each mirrored by a delta pass.
	must(t, w.em.ResetStats(dst))
	moving := emutest.MembersOutside(t, w.em, sales, eng, 10)
	for i := range 20 {
		if id := moving[i%10]; i < 10 {
			must(t, w.em.AddMember(src, eng, id))
		} else {
			must(t, w.em.RemoveMember(src, eng, id))
		}
		w.settle(w.worker)
	}
	w.drain(w.worker)
	if got := auditByTrigger(t, w, engine.TriggerMirrorNotification); got != repairs {
		t.Errorf("mirror passes wrote %d more times during 20 source changes, want 0", got-repairs)
	}
	st := w.em.Stats(dst)
	reads, writes := st.Routes["GET /groups/delta"], st.ObjectWrites()
	t.Logf("20 source changes: %d own writes to the target, %d mirror pass reads (%.2f per write)", writes, reads, float64(reads)/float64(max(writes, 1)))
	if writes < 20 || reads > writes {
		t.Errorf("%d mirror pass reads for %d own writes, budget 1 per write", reads, writes)
	}
}

// auditByTrigger counts the outcome entries of the audit the trigger made.
func auditByTrigger(t *testing.T, w *world, trigger string) int {
	t.Helper()
	entries, err := w.store.Audit(context.Background(), engine.AuditQuery{})
	must(t, err)
	n := 0
	for _, e := range entries {
		if e.Trigger == trigger && e.Outcome != engine.OutcomeStarted {
			n++
		}
	}
	return n
}
