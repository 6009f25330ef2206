package main

import (
	"context"
	"testing"
	"time"

	"github.com/xtsync/xtsync/internal/waitfor"
	"github.com/xtsync/xtsync/pkg/engine"
	"github.com/xtsync/xtsync/pkg/graphemu"
)

// usersLinkVersion is the version of the users delta record (0: none).
func usersLinkVersion(t *testing.T, srv *server) int64 {
	t.Helper()
	rec, err := srv.local.store.Get(context.Background(), engine.RecordDelta, "users")
	if err != nil {
		return 0
	}
	return rec.Version
}

// Issue 10, serve: a source user disabled while a member of a synced group
// is disabled in the target within seconds (notification, users delta
// pass); a change of a user xtsync does not map costs no write.
func TestServeUsersFollowInSeconds(t *testing.T) {
	env, srv := startServe(t)
	src, dst := graphemu.SampleSourceTenant, graphemu.SampleTargetTenant
	waitfor.WaitFor(t, 10*time.Second, "the users delta link", func() bool { return usersLinkVersion(t, srv) > 0 })

	// A non-member's job title: the pass runs, nothing is written.
	before := usersLinkVersion(t, srv)
	outsider, err := env.em.CreateUser(src, graphemu.User{DisplayName: "Not synced", UserPrincipalName: "outsider@" + graphemu.SampleSourceDomain, Mail: "outsider@contoso.com", UserType: "Member", AccountEnabled: true})
	must(t, err)
	waitfor.WaitFor(t, 10*time.Second, "the users pass after a creation", func() bool { return usersLinkVersion(t, srv) > before })
	before, writes := usersLinkVersion(t, srv), env.em.Stats(dst).ObjectWrites()
	f := "Somebody else"
	must(t, env.em.UpdateUser(src, outsider.ID, graphemu.UserUpdate{JobTitle: &f}))
	waitfor.WaitFor(t, 10*time.Second, "the users pass after a non-member's change", func() bool { return usersLinkVersion(t, srv) > before })
	if w := env.em.Stats(dst).ObjectWrites() - writes; w != 0 {
		t.Errorf("a non-member's change cost %d target writes, want 0", w)
	}

	// Members disabled one after another: each target user disabled, the
	// latency measured from the source change.
	eng, _ := env.em.Group(src, env.nick["engineering"])
	var lat []time.Duration
	off := false
	for _, id := range eng.Members {
		u, ok := env.em.User(src, id)
		if !ok || u.UserType == "Guest" || len(lat) == 8 {
			continue
		}
		tid := targetIDOf(env, u)
		start := time.Now()
		must(t, env.em.UpdateUser(src, u.ID, graphemu.UserUpdate{AccountEnabled: &off}))
		waitfor.WaitFor(t, 10*time.Second, "the target user disabled", func() bool {
			tu, _ := env.em.User(dst, tid)
			return !tu.AccountEnabled
		})
		lat = append(lat, time.Since(start))
	}
	t.Logf("source disable -> target disabled: p50 %s, p95 %s, max %s over %d users", percentile(lat, 0.5), percentile(lat, 0.95), percentile(lat, 1), len(lat))
	if p95 := percentile(lat, 0.95); p95 > 5*time.Second {
		t.Errorf("p95 %s, budget 5 s", p95)
	}
}
