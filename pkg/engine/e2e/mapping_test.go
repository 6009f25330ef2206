package e2e_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/xtsync/xtsync/pkg/engine"
	"github.com/xtsync/xtsync/pkg/graphemu"
)

// TestMappingRecordsTheLastSync: each mirrored group's mapping keeps what
// the console shows of it: the members read in the source and left in the
// mirror, the mirror's name, and, after a notified change, its lag.
func TestMappingRecordsTheLastSync(t *testing.T) {
	h := newHarness(t, []string{"engineering", "sales"}, nil)
	ctx := context.Background()
	h.reconcile(engine.RunOptions{})
	mappingOf := func(gid string) engine.GroupMapping {
		t.Helper()
		maps, err := engine.LoadGroupMappings(ctx, h.store)
		must(t, err)
		for _, m := range maps {
			if m.SourceID == gid {
				return m
			}
		}
		t.Fatalf("no mapping of %s", gid)
		return engine.GroupMapping{}
	}
	for _, gid := range h.opts.Scope {
		sg, _ := h.em.Group(src, gid)
		tg, _ := h.targetGroup(gid)
		m := mappingOf(gid)
		if m.SourceMembers != len(sg.Members) || m.Members != len(tg.Members) || m.TargetName != tg.DisplayName || m.Lag != 0 {
			t.Errorf("mapping of %s: source %d, mirror %d members, name %q, lag %v; want %d, %d, %q, no lag", sg.DisplayName, m.SourceMembers, m.Members, m.TargetName, m.Lag, len(sg.Members), len(tg.Members), tg.DisplayName)
		}
	}

	// A delta round: a removal, an addition elsewhere, a rename.
	eng, sales := groupID(t, h.em, "engineering"), groupID(t, h.em, "sales")
	adele := sourceUser(t, h.em, "adelev")
	must(t, h.em.RemoveMember(src, eng, adele.ID))
	if sg, _ := h.em.Group(src, sales); !slices.Contains(sg.Members, adele.ID) {
		must(t, h.em.AddMember(src, sales, adele.ID))
	}
	must(t, h.em.UpdateGroup(src, sales, func(g *graphemu.Group) { g.DisplayName = "Sales & Growth" }))
	changed := time.Now().Add(-2 * time.Second) // notified two seconds ago
	if _, err := h.eng.DeltaSync(ctx, engine.RunOptions{Changed: changed}); err != nil {
		t.Fatal(err)
	}
	for _, gid := range []string{eng, sales} {
		sg, _ := h.em.Group(src, gid)
		tg, _ := h.targetGroup(gid)
		m := mappingOf(gid)
		if m.SourceMembers != len(sg.Members) || m.Members != len(tg.Members) || m.TargetName != tg.DisplayName {
			t.Errorf("after the delta round, mapping of %s: source %d, mirror %d members, name %q; want %d, %d, %q", sg.DisplayName, m.SourceMembers, m.Members, m.TargetName, len(sg.Members), len(tg.Members), tg.DisplayName)
		}
		if m.Lag < 2*time.Second || m.Lag > time.Minute {
			t.Errorf("after the notified change of %s: lag %v, want ≥ 2 s", sg.DisplayName, m.Lag)
		}
	}
}
