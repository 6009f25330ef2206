package e2e_test

import (
	"context"
	"testing"

	"github.com/xtsync/xtsync/pkg/engine"
	"github.com/xtsync/xtsync/pkg/graphemu"
)

// Behaviour 9: a delta pass applies exactly the changes, for far fewer
// requests than a full reconcile, and falls back on an expired token.
func TestDeltaPass(t *testing.T) {
	h := newHarness(t, allSample, nil)
	ctx := context.Background()
	// The first pass has no link: it syncs fully and takes one.
	if _, err := h.eng.DeltaSync(ctx, engine.RunOptions{}); err != nil {
		t.Fatal(err)
	}
	h.assertMirrored(false)
	if recs, _ := h.store.List(ctx, engine.RecordDelta); len(recs) != 1 {
		t.Fatalf("delta links stored: %d, want 1", len(recs))
	}

	// One membership removal: at most 3 operations in total.
	eng := groupID(t, h.em, "engineering")
	adele := sourceUser(t, h.em, "adelev")
	must(t, h.em.RemoveMember(src, eng, adele.ID))
	h.resetCounts()
	rep, err := h.eng.DeltaSync(ctx, engine.RunOptions{})
	if err != nil {
		t.Fatal(err)
	}
	srcOps, dstOps, _ := h.ops()
	if srcOps+dstOps > 3 || rep.Summary.MembersRemoved != 1 {
		t.Fatalf("one removal cost %d+%d operations (want ≤ 3); summary %+v", srcOps, dstOps, rep.Summary)
	}
	h.assertMirrored(false)

	// Several changes at once: an add of a known user, an add of a new user,
	// a rename, a removal, a deleted group.
	sales := groupID(t, h.em, "sales")
	fin := groupID(t, h.em, "finance")
	must(t, h.em.AddMember(src, sales, adele.ID))
	newcomer, err := h.em.CreateUser(src, graphemu.User{UserPrincipalName: "newbie@contoso.onmicrosoft.com", Mail: "newbie@contoso.com", AccountEnabled: true})
	must(t, err)
	must(t, h.em.AddMember(src, sales, newcomer.ID))
	must(t, h.em.UpdateGroup(src, fin, func(g *graphemu.Group) { g.DisplayName = "Finance & Legal" }))
	salesGroup, _ := h.em.Group(src, sales)
	must(t, h.em.RemoveMember(src, sales, salesGroup.Members[0]))
	exec := groupID(t, h.em, "executives")
	tExec, _ := h.targetGroup(exec)
	must(t, h.em.DeleteGroup(src, exec))
	h.resetCounts()
	if _, err := h.eng.DeltaSync(ctx, engine.RunOptions{}); err != nil {
		t.Fatal(err)
	}
	srcOps, dstOps, dstWrites := h.ops()
	h.opts.Scope = withoutID(h.opts.Scope, exec)
	h.assertMirrored(false)
	if _, live := h.em.Group(dst, tExec.ID); live {
		t.Error("the target of a group deleted in the source is still there")
	}
	deltaOps, deltaReads := srcOps+dstOps, srcOps+dstOps-dstWrites

	// The same world costs a full reconcile far more.
	h.resetCounts()
	h.reconcile(engine.RunOptions{})
	srcOps, dstOps, writes := h.ops()
	if writes != 0 {
		t.Errorf("reconcile after delta found %d writes to do: delta missed something", writes)
	}
	t.Logf("delta pass: %d operations (%d reads); no-change full reconcile: %d reads", deltaOps, deltaReads, srcOps+dstOps)
	// The delta pass reads what the changes need and no more: the delta
	// round, the newcomer in the source, its link and address lookups in
	// the target, the invited user read back (did the invitation create
	// it?), and the proofs of ownership before a user delete and a group
	// delete: 7. A full reconcile reads every group.
	if deltaReads > 7 || deltaReads*3 > srcOps+dstOps {
		t.Errorf("delta pass read %d times (budget 7), a full reconcile %d", deltaReads, srcOps+dstOps)
	}

	// An expired token falls back to a full sync of the shard.
	must(t, h.em.ExpireDeltaTokens(src))
	must(t, h.em.RemoveMember(src, sales, adele.ID))
	if _, err := h.eng.DeltaSync(ctx, engine.RunOptions{}); err != nil {
		t.Fatal(err)
	}
	h.assertMirrored(false)
	h.resetCounts()
	must(t, h.em.AddMember(src, sales, adele.ID))
	if _, err := h.eng.DeltaSync(ctx, engine.RunOptions{}); err != nil {
		t.Fatal(err)
	}
	h.assertMirrored(false)
	if srcOps, dstOps, _ := h.ops(); srcOps+dstOps > 3 {
		t.Errorf("after the fallback the next pass is incremental again: %d ops", srcOps+dstOps)
	}
}

func withoutID(ids []string, id string) []string {
	var out []string
	for _, v := range ids {
		if v != id {
			out = append(out, v)
		}
	}
	return out
}
