package main

import (
	"context"
	"encoding/json"
	"fmt"
	"github.com/xtsync/xtsync/internal/testlog"
	"log/slog"
	"math/rand/v2"
	"net"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/xtsync/xtsync/internal/waitfor"
	"github.com/xtsync/xtsync/pkg/config"
	"github.com/xtsync/xtsync/pkg/engine"
	"github.com/xtsync/xtsync/pkg/graphemu"
)

func freeAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// startServe runs serve in-process against an emulator with the sample
// tenants, every sample group in scope; it returns when the initial sync has
// converged and the subscriptions exist.
func startServe(t *testing.T) (*reconcileEnv, *server) {
	t.Helper()
	return startServeWith(t, "", nil)
}

// startServeWith is startServe with extra configuration (YAML) and a change
// of the source before serve starts.
func startServeWith(t *testing.T, extra string, before func(*reconcileEnv)) (*reconcileEnv, *server) {
	t.Helper()
	all := []string{"engineering", "sales", "finance", "allcompany", "marketing", "remoteworkers", "announcements", "sre", "platform", "partnerproject", "executives"}
	return startServeScope(t, all, extra, nil, before)
}

// startServeScope is startServeWith over the groups of scope (nicknames),
// with seed run on the emulator first (to add groups).
func startServeScope(t testing.TB, all []string, extra string, seed func(*graphemu.Emulator), before func(*reconcileEnv)) (*reconcileEnv, *server) {
	t.Helper()
	return startServeServer(t, all, "", extra, seed, before)
}

// startServeServer is startServeScope with more keys of the server section
// (", key: value" YAML flow pairs).
func startServeServer(t testing.TB, all []string, server, extra string, seed func(*graphemu.Emulator), before func(*reconcileEnv)) (*reconcileEnv, *server) {
	t.Helper()
	listen, admin := freeAddr(t), freeAddr(t)
	env := newReconcileEnvSeeded(t, all, fmt.Sprintf("server: {listen: %q, public_url: \"http://%s/xtsync\", admin_listen: %q, workers: 4%s}\n", listen, listen, admin, server)+extra, seed)
	if before != nil {
		before(env)
	}
	cfg, err := config.Load(env.cfg)
	if err != nil {
		t.Fatal(err)
	}
	log := testlog.New(t, slog.LevelInfo)
	srv, err := startServer(context.Background(), cfg, log, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := srv.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	waitConverged(t, env, cfg.Scope.Groups, 30*time.Second)
	// One per group, and the users subscription.
	n := 0
	defer func() {
		if n != len(all)+1 {
			t.Logf("subscriptions: %d, want %d", n, len(all)+1)
		}
	}()
	waitfor.WaitFor(t, 10*time.Second, fmt.Sprintf("%d subscriptions", len(all)+1), func() bool {
		n = len(env.em.Subscriptions(graphemu.SampleSourceTenant))
		return n == len(all)+1
	})
	// And one per mirror and the users one on the target
	// (server.watch_mirrors).
	if *cfg.Server.WatchMirrors {
		waitfor.WaitFor(t, 10*time.Second, "a subscription per mirror and the target's users one", func() bool {
			n := 0
			for _, gid := range cfg.Scope.Groups {
				if _, ok := mirrorOf(env.em, gid); ok {
					n++
				}
			}
			want := n
			if n > 0 {
				want++ // the target's /users
			}
			return n == liveMirrors(t, srv) && len(env.em.Subscriptions(graphemu.SampleTargetTenant)) == want
		})
	}
	return env, srv
}

// liveMirrors is how many mirrors serve's state maps.
func liveMirrors(t testing.TB, srv *server) int {
	t.Helper()
	maps, err := engine.LoadGroupMappings(context.Background(), srv.local.store)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, m := range maps {
		if m.TargetID != "" {
			n++
		}
	}
	return n
}

// waitConverged waits (at most d) for the target to mirror the source's
// groups in scope, and returns how long that took; on a timeout it logs the
// last difference seen.
func waitConverged(t testing.TB, env *reconcileEnv, scope []string, d time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	var err error
	defer func() {
		if err != nil {
			t.Logf("last difference: %v", err)
		}
	}()
	waitfor.WaitFor(t, d, "converged", func() bool {
		err = verifyMirror(env.em, scope)
		return err == nil
	})
	return time.Since(start)
}

func percentile(ds []time.Duration, p float64) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[min(len(s)-1, int(p*float64(len(s))))]
}

// changes makes n random membership changes in the source's synced groups:
// a member removed, or a member of another group added.
func changes(t *testing.T, env *reconcileEnv, rng *rand.Rand, n int, each func(group string)) {
	t.Helper()
	groups := []string{"engineering", "sales", "finance", "allcompany", "marketing", "sre", "executives"}
	src := graphemu.SampleSourceTenant
	users := env.em.Users(src)
	for range n {
		gid := env.nick[groups[rng.IntN(len(groups))]]
		g, _ := env.em.Group(src, gid)
		if rng.IntN(2) == 0 && len(g.Members) > 2 {
			must(t, env.em.RemoveMember(src, gid, g.Members[rng.IntN(len(g.Members))]))
		} else {
			u := users[rng.IntN(len(users))]
			if u.UserType == "Guest" || slices.Contains(g.Members, u.ID) {
				must(t, env.em.RemoveMember(src, gid, g.Members[0]))
			} else {
				must(t, env.em.AddMember(src, gid, u.ID))
			}
		}
		if each != nil {
			each(gid)
		}
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// Proof of issue 4: real notifications from the emulator drive serve; 20
// membership changes each converge, with their latency measured.
func TestServeAppliesNotifications(t *testing.T) {
	env, srv := startServe(t)
	rng := rand.New(rand.NewPCG(4, 20))
	var lat []time.Duration
	changes(t, env, rng, 20, func(gid string) {
		lat = append(lat, waitConverged(t, env, []string{gid}, 10*time.Second))
	})
	t.Logf("change-to-converged over 20 changes: p50 %s, p95 %s, max %s", percentile(lat, 0.5), percentile(lat, 0.95), percentile(lat, 1))
	if st := srv.local.Status(); st.DeltaPasses == 0 || st.ChangesQueued < 20 {
		t.Errorf("service status %+v: changes did not go through notifications and delta passes", st)
	}
	if hs := srv.hook.Stats(); hs.Accepted < 20 {
		t.Errorf("webhook accepted %d notifications", hs.Accepted)
	}
	waitConverged(t, env, allScope(env), 10*time.Second)

	// A burst of ten changes to one group costs one delta pass (two when
	// the first notification lands while the burst is still going on).
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	must(t, srv.queue.WaitIdle(ctx))
	before := srv.local.Status().DeltaPasses
	eng, _ := env.em.Group(graphemu.SampleSourceTenant, env.nick["engineering"])
	for _, m := range eng.Members[:10] {
		must(t, env.em.RemoveMember(graphemu.SampleSourceTenant, eng.ID, m))
	}
	waitConverged(t, env, []string{eng.ID}, 10*time.Second)
	must(t, srv.queue.WaitIdle(ctx))
	if passes := srv.local.Status().DeltaPasses - before; passes < 1 || passes > 2 {
		t.Errorf("a burst of 10 changes cost %d delta passes, want 1 (or 2)", passes)
	}
}

func allScope(env *reconcileEnv) []string {
	var out []string
	for _, id := range env.nick {
		out = append(out, id)
	}
	return out
}

// Proof of issue 4: dropped, duplicated and reordered notifications still end
// in the exact state; what no notification reported, the reconcile repairs
// (here Graph's "missed" lifecycle event asks for one).
func TestServeRepairsLostNotifications(t *testing.T) {
	env, srv := startServe(t)
	src := graphemu.SampleSourceTenant
	must(t, env.em.SetFaults(src, graphemu.Faults{
		NotifyDropRate: 0.3, NotifyDuplicateRate: 0.3, NotifyJitter: graphemu.Duration(300 * time.Millisecond),
	}))
	changes(t, env, rand.New(rand.NewPCG(5, 30)), 30, nil)
	if st := env.em.DeliveryStats(); st.Dropped == 0 || st.Duplicated == 0 {
		t.Fatalf("faults did not fire: %+v", st)
	}
	waitConverged(t, env, allScope(env), 30*time.Second)
	// Let the late (jittered, duplicated) notifications land and be worked.
	quiet := func() bool { return env.em.PendingDeliveries() == 0 && srv.queue.Idle() }
	waitfor.WaitFor(t, 10*time.Second, "notifications and work done", quiet)

	// Every notification lost: only the reconcile can repair.
	must(t, env.em.SetFaults(src, graphemu.Faults{NotifyDropRate: 1}))
	sent := env.em.DeliveryStats()
	changes(t, env, rand.New(rand.NewPCG(6, 5)), 5, nil)
	// The emulator drops a notification when the change is made, so none of
	// the five is queued; with nothing to deliver and serve idle, nothing
	// can repair the changes but a reconcile.
	if st := env.em.DeliveryStats(); st.Queued != sent.Queued || st.Dropped < sent.Dropped+5 {
		t.Fatalf("delivery stats %+v, then %+v: the changes' notifications were not all dropped", sent, st)
	}
	waitfor.WaitFor(t, 10*time.Second, "notifications and work done", quiet)
	if err := verifyMirror(env.em, allScope(env)); err == nil {
		t.Fatal("converged with every notification dropped: the test proves nothing")
	}
	before := srv.local.Status().LastReconcile
	subs := env.em.Subscriptions(src)
	must(t, env.em.FireLifecycle(src, subs[0].ID, "missed"))
	waitConverged(t, env, allScope(env), 30*time.Second)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	must(t, srv.queue.WaitIdle(ctx))
	if st := srv.local.Status(); st.Lifecycle == 0 || !st.LastReconcile.After(before) {
		t.Errorf("status %+v: the missed event did not trigger a reconcile", st)
	}
}

// Lifecycle events: reauthorizationRequired renews, subscriptionRemoved
// recreates; status and audit read the running serve, then the state file;
// unsubscribe removes the subscriptions.
func TestServeLifecycleStatusAuditUnsubscribe(t *testing.T) {
	env, srv := startServe(t)
	src := graphemu.SampleSourceTenant
	subs := env.em.Subscriptions(src)
	first, second := subs[0], subs[1]

	must(t, env.em.FireLifecycle(src, second.ID, "subscriptionRemoved"))
	n, recreated := 0, false
	defer func() {
		if !recreated {
			t.Logf("%d subscriptions", n)
		}
	}()
	waitfor.WaitFor(t, 10*time.Second, "removed subscription recreated", func() bool {
		now := env.em.Subscriptions(src)
		n = len(now)
		gone := !slices.ContainsFunc(now, func(s graphemu.Subscription) bool { return s.ID == second.ID })
		back := slices.ContainsFunc(now, func(s graphemu.Subscription) bool { return s.Resource == second.Resource })
		recreated = gone && back && len(now) == len(subs)
		return recreated
	})
	must(t, env.em.FireLifecycle(src, first.ID, "reauthorizationRequired"))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	// (Expiry times travel with whole seconds, so count the renewals.)
	waitfor.WaitFor(t, 10*time.Second, "subscription renewed after reauthorizationRequired", func() bool {
		now := env.em.Subscriptions(src)
		i := slices.IndexFunc(now, func(s graphemu.Subscription) bool { return s.ID == first.ID })
		return i >= 0 && env.em.Stats(src).Routes["PATCH /subscriptions/{id}"] == 1 && !now[i].ExpirationDateTime.Before(first.ExpirationDateTime)
	})
	must(t, srv.queue.WaitIdle(ctx))

	code, out, errs := xtsync(t, "status", "--config", env.cfg)
	if code != 0 || !strings.Contains(out, "running") || !strings.Contains(out, env.nick["finance"]) || !strings.Contains(out, "/groups/") {
		t.Fatalf("status while serving: %d\n%s\n%s", code, out, errs)
	}
	code, out, _ = xtsync(t, "audit", "--config", env.cfg, "--group", env.nick["finance"], "--json")
	var entries []map[string]any
	if err := json.Unmarshal([]byte(out), &entries); code != 0 || err != nil || len(entries) == 0 {
		t.Fatalf("audit while serving: %d %v %q", code, err, out)
	}
	for _, e := range entries {
		if e["group"] != env.nick["finance"] {
			t.Fatalf("audit --group returned %v", e)
		}
	}
	checkServedAudit(t, env)
	if code, _, errs := xtsync(t, "audit", "--config", env.cfg, "--since", "yesterday"); code != 2 || !strings.Contains(errs, "--since") {
		t.Fatalf("bad --since: %d %s", code, errs)
	}

	must(t, srv.Close())
	code, out, errs = xtsync(t, "status", "--config", env.cfg, "--json")
	var rep statusReport
	targetSubs := len(env.em.Subscriptions(graphemu.SampleTargetTenant))
	if err := json.Unmarshal([]byte(out), &rep); code != 0 || err != nil || rep.Running || len(rep.Groups) != 11 || targetSubs != 11 || len(rep.Subscriptions) != len(subs)+targetSubs {
		t.Fatalf("status from the state file: %d %v %+v %s", code, err, rep, errs)
	}
	if code, out, errs := xtsync(t, "unsubscribe", "--config", env.cfg); code != 0 || !strings.Contains(out, "deleted 23") {
		t.Fatalf("unsubscribe: %d %s %s", code, out, errs)
	}
	if n := len(env.em.Subscriptions(src)); n != 0 {
		t.Fatalf("%d subscriptions left after unsubscribe", n)
	}
}
