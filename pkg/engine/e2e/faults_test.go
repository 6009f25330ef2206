package e2e_test

import (
	"testing"
	"time"

	"github.com/xtsync/xtsync/pkg/engine"
	"github.com/xtsync/xtsync/pkg/graphemu"
	"github.com/xtsync/xtsync/pkg/msgraph"
)

// Behaviour 8: Graph misbehaving on both sides still ends in the exact
// state, in one run.
func TestConvergesUnderFaults(t *testing.T) {
	// Paced as in production: under concurrent writes, a 429 pauses the
	// whole class of requests for its Retry-After (the emulator, like
	// Graph, throttles the app, not the request).
	h := newHarnessPaced(t, graphemu.SampleSeed(), allSample, nil, msgraph.Pace{})
	faults := graphemu.Faults{
		ThrottleRate: 0.25, RetryAfterMin: graphemu.Duration(50 * time.Millisecond), RetryAfterMax: graphemu.Duration(350 * time.Millisecond),
		ServerErrorRate: 0.05, ReplicationDelay: graphemu.Duration(2 * time.Second), PageSize: 7,
	}
	must(t, h.em.SetFaults(dst, faults))
	// The source's groups are old: no replication delay there.
	faults.ReplicationDelay = 0
	must(t, h.em.SetFaults(src, faults))
	rep := h.reconcile(engine.RunOptions{})
	if rep.Failed() {
		var buf testWriter
		rep.PrintSummary(&buf)
		t.Fatalf("run under faults failed:\n%s", buf)
	}
	h.assertMirrored(false)
	s, d := h.em.Stats(src), h.em.Stats(dst)
	if s.Throttled+d.Throttled == 0 || s.ServerErrors+d.ServerErrors == 0 {
		t.Fatalf("faults did not fire: %+v %+v", s, d)
	}
	t.Logf("throttled %d, 503s %d; ops source %d target %d", s.Throttled+d.Throttled, s.ServerErrors+d.ServerErrors, s.Ops(), d.Ops())

	// Drift plus faults: still exact.
	eng := groupID(t, h.em, "engineering")
	must(t, h.em.RemoveMember(src, eng, sourceUser(t, h.em, "adelev").ID))
	rep = h.reconcile(engine.RunOptions{})
	if rep.Failed() {
		var buf testWriter
		rep.PrintSummary(&buf)
		t.Fatalf("second run under faults failed:\n%s", buf)
	}
	h.assertMirrored(false)
}

type testWriter []byte

func (w *testWriter) Write(p []byte) (int, error) { *w = append(*w, p...); return len(p), nil }
func (w testWriter) String() string               { return string(w) }
