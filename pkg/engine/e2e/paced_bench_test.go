package e2e_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/xtsync/xtsync/pkg/engine"
	"github.com/xtsync/xtsync/pkg/graphemu"
	"github.com/xtsync/xtsync/pkg/msgraph"
)

// pacedRun is one initial sync against Graph's budgets and latency.
type pacedRun struct {
	wall                       time.Duration
	writes, invites, reads, tt int // writes: the fewest the sync can make; tt: 429s received
	bound                      time.Duration
}

// runPaced syncs a generated tenant into an empty target with the
// emulator's budgets and latency set on both tenants, and returns the time
// and the bound: the longest of the writes at 20/s and the invitations at
// 30/s after their bursts, plus the reads' own time (their count times the
// mean latency, over the read concurrency).
func runPaced(b *testing.B, groups, members, pool int, faults graphemu.Faults, writeConc int, pace msgraph.Pace) pacedRun {
	seed, nicks := scaleSeed(groups, members, pool)
	h := newHarnessPaced(b, seed, nicks, func(o *engine.Options) {
		o.Concurrency = 8
		o.WriteConcurrency = writeConc
	}, pace)
	for _, tn := range []string{src, dst} {
		if err := h.em.SetFaults(tn, faults); err != nil {
			b.Fatal(err)
		}
	}
	h.resetCounts()
	start := time.Now()
	rep := h.reconcile(engine.RunOptions{})
	wall := time.Since(start)
	if rep.Failed() {
		b.Fatalf("initial sync failed: %+v", rep.Summary)
	}
	users := map[string]bool{}
	for _, g := range h.em.Groups(src) {
		for _, m := range g.Members {
			users[m] = true
		}
	}
	_, minWrites := bound(groups, members, len(users))
	r := pacedRun{wall: wall, writes: minWrites, invites: len(users)}
	for _, tn := range []string{src, dst} {
		st := h.em.Stats(tn)
		for route, n := range st.Routes {
			if len(route) > 4 && route[:4] == "GET " {
				r.reads += n
			}
		}
		r.tt += st.Throttled
	}
	burst := faults.WriteBurst
	if burst == 0 {
		burst = int(faults.WriteRate * 150)
	}
	writeTime := time.Duration(float64(max(0, r.writes-burst)) / faults.WriteRate * float64(time.Second))
	inviteTime := time.Duration(float64(max(0, r.invites-150)) / 30 * float64(time.Second))
	meanLatency := faults.Latency.D() + faults.LatencyJitter.D()/2
	readTime := time.Duration(r.reads) * meanLatency / 8
	r.bound = max(writeTime, inviteTime) + readTime
	return r
}

// BenchmarkInitialSyncPaced measures the initial sync against Graph's
// budgets with latency, side by side: the applier one write at a time and
// unpaced (how it was before issue 12), and concurrent and paced. It
// reports the wall time, its ratio to the bound, and the 429s per write.
func BenchmarkInitialSyncPaced(b *testing.B) {
	latency := graphemu.Faults{Latency: graphemu.Duration(50 * time.Millisecond), LatencyJitter: graphemu.Duration(100 * time.Millisecond)}
	budget := func(f graphemu.Faults, burst int) graphemu.Faults {
		f.WriteRate, f.WriteBurst, f.ReadRate = 20, burst, 350
		return f
	}
	throttled := budget(latency, 100)
	throttled.ThrottleRate = 0.05
	worlds := []struct {
		name                  string
		groups, members, pool int
		faults                graphemu.Faults
	}{
		{"20x150/burst100+latency", 20, 150, 1000, budget(latency, 100)},
		{"20x150/burst100+latency+5%429", 20, 150, 1000, throttled},
		{"100x300/realistic+latency", 100, 300, 3000, budget(latency, 0)},
	}
	modes := []struct {
		name      string
		writeConc int
		pace      msgraph.Pace
	}{
		{"sequential-unpaced", 1, msgraph.NoPace()},
		{"concurrent-paced", 16, msgraph.Pace{}},
	}
	for _, w := range worlds {
		for _, m := range modes {
			b.Run(fmt.Sprintf("%s/%s", w.name, m.name), func(b *testing.B) {
				for range b.N {
					r := runPaced(b, w.groups, w.members, w.pool, w.faults, m.writeConc, m.pace)
					b.ReportMetric(r.wall.Seconds(), "wall-s")
					b.ReportMetric(r.bound.Seconds(), "bound-s")
					b.ReportMetric(r.wall.Seconds()/r.bound.Seconds(), "wall/bound")
					b.ReportMetric(float64(r.writes), "writes")
					b.ReportMetric(float64(r.tt)/float64(r.writes), "429/write")
				}
			})
		}
	}
}
