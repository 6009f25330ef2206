package main

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/xtsync/xtsync/pkg/graphemu"
)

// BenchmarkServeChanges measures serve's change-to-converged time: one
// membership change in each of 50 synced groups at once, each timed from
// the change to its mirror matching, with Graph's latency (100 ms ± 50 ms
// per request, both tenants) and its budgets (graphemu.Realistic: 20
// writes/s with Graph's bucket of 3,000, 350 resource units/s), after an
// initial sync run without them. Reports p50, p95 and max in seconds.
func BenchmarkServeChanges(b *testing.B) {
	const groups = 50
	for _, c := range []struct {
		lat   time.Duration
		watch bool
	}{{0, true}, {100 * time.Millisecond, true}, {0, false}, {100 * time.Millisecond, false}} {
		lat := c.lat
		b.Run(fmt.Sprintf("latency=%s/watch_mirrors=%t", lat, c.watch), func(b *testing.B) {
			var all []string
			for i := range groups {
				all = append(all, fmt.Sprintf("bench%02d", i))
			}
			seed := func(em *graphemu.Emulator) {
				users := em.Users(graphemu.SampleSourceTenant)
				for i := range groups {
					name := all[i]
					var ms []string
					for j := range 8 {
						if u := users[(i*3+j)%len(users)]; u.UserType != "Guest" {
							ms = append(ms, u.ID)
						}
					}
					if _, err := em.CreateGroup(graphemu.SampleSourceTenant, graphemu.Group{DisplayName: "Bench " + name, MailNickname: name, SecurityEnabled: true, Members: ms}); err != nil {
						b.Fatal(err)
					}
				}
			}
			env, _ := startServeServer(b, all, fmt.Sprintf(", watch_mirrors: %t", c.watch), "", seed, nil)
			faults := graphemu.Realistic() // Graph's budgets: 20 writes/s, a bucket of 3,000
			if lat > 0 {
				faults.Latency, faults.LatencyJitter = graphemu.Duration(lat/2), graphemu.Duration(lat)
			}
			for _, tn := range []string{graphemu.SampleSourceTenant, graphemu.SampleTargetTenant} {
				if err := env.em.SetFaults(tn, faults); err != nil {
					b.Fatal(err)
				}
			}
			users := env.em.Users(graphemu.SampleSourceTenant)
			var took []time.Duration
			b.ResetTimer()
			for n := range b.N {
				changed := map[string]time.Time{}
				for i, name := range all {
					gid := env.nick[name]
					g, _ := env.em.Group(graphemu.SampleSourceTenant, gid)
					var add string
					for k := range users {
						u := users[(i*7+k+n*11)%len(users)]
						if u.UserType != "Guest" && !slices.Contains(g.Members, u.ID) {
							add = u.ID
							break
						}
					}
					if err := env.em.AddMember(graphemu.SampleSourceTenant, gid, add); err != nil {
						b.Fatal(err)
					}
					changed[gid] = time.Now()
				}
				deadline := time.Now().Add(60 * time.Second)
				for len(changed) > 0 && time.Now().Before(deadline) {
					for gid, at := range changed {
						if verifyMirror(env.em, []string{gid}) == nil {
							took = append(took, time.Since(at))
							delete(changed, gid)
						}
					}
					time.Sleep(5 * time.Millisecond)
				}
				if len(changed) > 0 {
					b.Fatalf("%d groups not converged after 60 s", len(changed))
				}
			}
			b.ReportMetric(percentile(took, 0.5).Seconds(), "p50-s")
			b.ReportMetric(percentile(took, 0.95).Seconds(), "p95-s")
			b.ReportMetric(percentile(took, 1).Seconds(), "max-s")
		})
	}
}
