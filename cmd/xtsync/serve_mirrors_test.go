package main

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/xtsync/xtsync/internal/emutest"
	"github.com/xtsync/xtsync/internal/waitfor"
	"github.com/xtsync/xtsync/pkg/engine"
	"github.com/xtsync/xtsync/pkg/graphemu"
	"github.com/xtsync/xtsync/pkg/metrics"
)

// TestServeRepairsMirrorsInSeconds: with the reconcile an hour away, what
// someone does to a mirror in the target (a member added, the mirror
// renamed, the mirror deleted, or deleted for good) is put back by serve
// within seconds of the
// target's change notification; the latency of each is measured from the
// change (budget: p95 under 5 s, the emulator answering without delay).
func TestServeRepairsMirrorsInSeconds(t *testing.T) {
	env, srv := startServeScope(t, []string{"engineering", "sales", "finance"}, "", nil, nil)
	must(t, srv.queue.WaitIdle(context.Background()))
	src, dst := graphemu.SampleSourceTenant, graphemu.SampleTargetTenant
	lastReconcile := srv.local.Status().LastReconcile
	eng, sales, fin := env.nick["engineering"], env.nick["sales"], env.nick["finance"]
	mirror := func(gid string) graphemu.Group {
		t.Helper()
		g, ok := mirrorOf(env.em, gid)
		if !ok {
			t.Fatalf("no mirror of %s", gid)
		}
		return g
	}
	measure := func(what string, change func(), repaired func() bool) time.Duration {
		t.Helper()
		start := time.Now()
		change()
		waitfor.WaitFor(t, 20*time.Second, what+" put back", repaired)
		return time.Since(start)
	}
	lat := map[string][]time.Duration{}
	for i := range 5 {
		// A member added in the target.
		rogue, err := env.em.CreateUser(dst, graphemu.User{UserPrincipalName: fmt.Sprintf("rogue%d@fabrikam.onmicrosoft.com", i), Mail: fmt.Sprintf("rogue%d@fabrikam.com", i), AccountEnabled: true})
		must(t, err)
		tEng := mirror(eng)
		lat["member added"] = append(lat["member added"], measure("a rogue member", func() {
			must(t, env.em.AddMember(dst, tEng.ID, rogue.ID))
		}, func() bool {
			return !slices.Contains(mirror(eng).Members, rogue.ID) && verifyMirror(env.em, []string{eng}) == nil
		}))

		// The mirror renamed in the target.
		tSales := mirror(sales)
		lat["renamed"] = append(lat["renamed"], measure("a rename", func() {
			must(t, env.em.UpdateGroup(dst, tSales.ID, func(g *graphemu.Group) { g.DisplayName = "Sales (all access)" }))
		}, func() bool { sg, _ := env.em.Group(src, sales); return mirror(sales).DisplayName == sg.DisplayName }))

		// The mirror deleted in the target: restored, same id, members.
		tFin := mirror(fin)
		lat["deleted"] = append(lat["deleted"], measure("a deletion", func() {
			must(t, env.em.DeleteGroup(dst, tFin.ID))
		}, func() bool {
			g, ok := mirrorOf(env.em, fin)
			return ok && g.ID == tFin.ID && verifyMirror(env.em, []string{fin}) == nil
		}))
		// Before the next round, the repairs' own echo passes are done.
		must(t, srv.queue.WaitIdle(context.Background()))
	}
	// Deleted for good (purged from deleted items): made again, and the
	// new mirror is watched too.
	tFin := mirror(fin)
	lat["deleted for good"] = append(lat["deleted for good"], measure("a permanent deletion", func() {
		must(t, env.em.DeleteGroup(dst, tFin.ID))
		must(t, env.em.PurgeDeleted(dst, tFin.ID))
	}, func() bool {
		g, ok := mirrorOf(env.em, fin)
		return ok && g.ID != tFin.ID && verifyMirror(env.em, []string{fin}) == nil
	}))
	waitfor.WaitFor(t, 10*time.Second, "a subscription on the new mirror", func() bool {
		for _, s := range env.em.Subscriptions(dst) {
			if s.Resource == "/groups/"+mirror(fin).ID {
				return true
			}
		}
		return false
	})
	rogue, err := env.em.CreateUser(dst, graphemu.User{UserPrincipalName: "rogue-new@fabrikam.onmicrosoft.com", Mail: "rogue-new@fabrikam.com", AccountEnabled: true})
	must(t, err)
	lat["member added"] = append(lat["member added"], measure("a rogue member of the new mirror", func() {
		must(t, env.em.AddMember(dst, mirror(fin).ID, rogue.ID))
	}, func() bool { return !slices.Contains(mirror(fin).Members, rogue.ID) }))
	for _, what := range []string{"member added", "renamed", "deleted", "deleted for good"} {
		ds := lat[what]
		t.Logf("mirror %s -> put back: p50 %s, p95 %s, max %s over %d", what, percentile(ds, 0.5), percentile(ds, 0.95), percentile(ds, 1), len(ds))
		if p95 := percentile(ds, 0.95); p95 > 5*time.Second {
			t.Errorf("mirror %s: p95 %s, budget 5 s", what, p95)
		}
	}
	// /metrics counts the repairs: one per mirror changed by someone else.
	must(t, srv.queue.WaitIdle(context.Background()))
	repairs := 0
	for _, ds := range lat {
		repairs += len(ds)
	}
	if got := metricSum(scrape(t, srv), metrics.MirrorRepairs, nil); int(got) < repairs {
		t.Errorf("%s = %v, want at least the %d repairs", metrics.MirrorRepairs, got, repairs)
	}
	if got := srv.local.Status().LastReconcile; !got.Equal(lastReconcile) {
		t.Errorf("a reconcile ran (%s): the repairs are to come from the mirror passes", got)
	}
	if got := auditCount(t, srv, engine.TriggerMirrorNotification); got == 0 {
		t.Error("no audit entry was made by a mirror pass")
	}
}

// TestServeEchoCostsOneRead: xtsync's own writes come back as the target's
// notifications; an initial sync and 20 source changes cause no write by
// a mirror pass, and the mirror passes' reads (the target's group delta)
// are at most one per own write.
func TestServeEchoCostsOneRead(t *testing.T) {
	env, srv := startServeScope(t, []string{"engineering", "sales", "finance"}, "", nil, nil)
	must(t, srv.queue.WaitIdle(context.Background()))
	src, dst := graphemu.SampleSourceTenant, graphemu.SampleTargetTenant
	eng := env.nick["engineering"]
	moving := emutest.MembersOutside(t, env.em, env.nick["sales"], eng, 10) // added, then removed
	for i := range 20 {
		id := moving[i%10]
		if i < 10 {
			must(t, env.em.AddMember(src, eng, id))
		} else {
			must(t, env.em.RemoveMember(src, eng, id))
		}
		waitfor.WaitFor(t, 20*time.Second, fmt.Sprintf("source change %d mirrored", i+1), func() bool {
			return verifyMirror(env.em, []string{eng}) == nil
		})
	}
	// Every echo has come back and been looked at.
	waitfor.WaitFor(t, 20*time.Second, "the echo passes done", func() bool { return srv.queue.Idle() && env.em.PendingDeliveries() == 0 })
	must(t, srv.queue.WaitIdle(context.Background()))

	if got := auditCount(t, srv, engine.TriggerMirrorNotification); got != 0 {
		t.Errorf("mirror passes made %d writes, want 0: xtsync's own writes came back as drift", got)
	}
	st := env.em.Stats(dst)
	reads, writes := st.Routes["GET /groups/delta"], st.ObjectWrites()
	t.Logf("own writes to the target %d (initial sync and 20 changes), mirror pass reads %d: %.2f per write; mirror passes %d", writes, reads, float64(reads)/float64(writes), srv.local.Status().MirrorPasses)
	if writes == 0 || reads > writes {
		t.Errorf("%d mirror pass reads for %d own writes, budget 1 per write", reads, writes)
	}
}

// auditCount is how many audit entries of serve's state the trigger made
// (outcomes, not the started entries).
func auditCount(t *testing.T, srv *server, trigger string) int {
	t.Helper()
	entries, err := srv.local.store.Audit(context.Background(), engine.AuditQuery{})
	must(t, err)
	n := 0
	for _, e := range entries {
		if e.Trigger == trigger && e.Outcome != engine.OutcomeStarted {
			n++
		}
	}
	return n
}

// TestServeMirrorSubscriptionLifecycle: the target's subscriptions have
// their own lifecycle: reauthorizationRequired renews the mirror's
// subscription on the target, subscriptionRemoved makes it again there (the
// source's are untouched), and the mirror is still watched after.
func TestServeMirrorSubscriptionLifecycle(t *testing.T) {
	env, srv := startServeScope(t, []string{"engineering", "finance"}, "", nil, nil)
	must(t, srv.queue.WaitIdle(context.Background()))
	src, dst := graphemu.SampleSourceTenant, graphemu.SampleTargetTenant
	fin := env.nick["finance"]
	tFin, _ := mirrorOf(env.em, fin)
	subOf := func() (graphemu.Subscription, bool) {
		for _, s := range env.em.Subscriptions(dst) {
			if s.Resource == "/groups/"+tFin.ID {
				return s, true
			}
		}
		return graphemu.Subscription{}, false
	}
	sourceSubs := len(env.em.Subscriptions(src))
	oneSubscriptionEach(t, env.em, dst, 3)
	sub, ok := subOf()
	if !ok {
		t.Fatalf("no subscription on the mirror %s", tFin.ID)
	}
	// Renewed on reauthorizationRequired: a PATCH of it on the target,
	// same id, none on the source.
	patches := func(tenant string) int { return env.em.Stats(tenant).Routes["PATCH /subscriptions/{id}"] }
	before := patches(dst)
	must(t, env.em.FireLifecycle(dst, sub.ID, "reauthorizationRequired"))
	waitfor.WaitFor(t, 10*time.Second, "the mirror's subscription renewed", func() bool {
		s, ok := subOf()
		return ok && s.ID == sub.ID && patches(dst) == before+1
	})
	if n := patches(src); n != 0 {
		t.Errorf("the target's reauthorizationRequired renewed %d source subscriptions", n)
	}
	// Made again on subscriptionRemoved, on the target.
	must(t, env.em.FireLifecycle(dst, sub.ID, "subscriptionRemoved"))
	waitfor.WaitFor(t, 10*time.Second, "the mirror's subscription made again", func() bool {
		s, ok := subOf()
		return ok && s.ID != sub.ID
	})
	must(t, srv.queue.WaitIdle(context.Background()))
	if got := len(env.em.Subscriptions(src)); got != sourceSubs {
		t.Errorf("the target's lifecycle changed the source's subscriptions: %d, had %d", got, sourceSubs)
	}
	oneSubscriptionEach(t, env.em, dst, 3)
	// Still watched: a rogue member is put back.
	rogue, err := env.em.CreateUser(dst, graphemu.User{UserPrincipalName: "rogue@fabrikam.onmicrosoft.com", Mail: "rogue@fabrikam.com", AccountEnabled: true})
	must(t, err)
	must(t, env.em.AddMember(dst, tFin.ID, rogue.ID))
	waitfor.WaitFor(t, 10*time.Second, "the rogue member put back", func() bool {
		g, _ := mirrorOf(env.em, fin)
		return !slices.Contains(g.Members, rogue.ID)
	})
}

// oneSubscriptionEach checks that tenant has n subscriptions, each on its own
// resource: the initial sync's runs and the upkeep, ensuring the
// subscriptions at once, make no duplicate.
func oneSubscriptionEach(t *testing.T, em *graphemu.Emulator, tenant string, n int) {
	t.Helper()
	var got []string
	for _, s := range em.Subscriptions(tenant) {
		got = append(got, s.Resource)
	}
	slices.Sort(got)
	if len(got) != n || len(slices.Compact(slices.Clone(got))) != n {
		t.Errorf("subscriptions on %s: %v, want %d, one per resource", tenant, got, n)
	}
}
