package e2e_test

import (
	"context"
	"slices"
	"testing"

	"github.com/xtsync/xtsync/internal/emutest"
	"github.com/xtsync/xtsync/pkg/engine"
	"github.com/xtsync/xtsync/pkg/graphemu"
	"github.com/xtsync/xtsync/pkg/msgraph"
)

// TestMirrorPass: the mirror pass of a shard reads the target's delta of
// its mirrors; xtsync's own writes (a delta pass's removal, the pass's own
// repairs) cost that one read and no write; what someone else did in the
// target (a member added, the mirror renamed, the mirror deleted) is put
// back as the source says.
func TestMirrorPass(t *testing.T) {
	h := newHarness(t, []string{"engineering", "sales", "finance", "allcompany"}, nil)
	h.eng.WatchMirrors(msgraph.NewSource(h.dstC, msgraph.SchemaOf(h.opts)))
	ctx := context.Background()
	h.reconcile(engine.RunOptions{})
	keys := engine.NewSharding(h.opts.Scope).Keys()
	if len(keys) != 1 {
		t.Fatalf("%d shards, want 1", len(keys))
	}
	key := keys[0]
	pass := func(what string) (*engine.Report, int, int) {
		t.Helper()
		h.resetCounts()
		rep, err := h.eng.MirrorShard(ctx, key, engine.RunOptions{Trigger: engine.TriggerMirrorNotification})
		if err != nil {
			t.Fatalf("mirror pass after %s: %v", what, err)
		}
		_, dstOps, dstWrites := h.ops()
		return rep, dstOps, dstWrites
	}
	// The reconcile took the link: the first pass reads once.
	if _, reads, writes := pass("the initial sync"); reads != 1 || writes != 0 {
		t.Errorf("the first mirror pass: %d target requests, %d writes; want 1 and 0", reads, writes)
	}

	// An own write: the delta pass removes a member; the mirror pass reads
	// once and writes nothing.
	eng := groupID(t, h.em, "engineering")
	must(t, h.em.RemoveMember(src, eng, sourceUser(t, h.em, "adelev").ID))
	if _, err := h.eng.DeltaSync(ctx, engine.RunOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, reads, writes := pass("an own removal"); reads != 1 || writes != 0 {
		t.Errorf("the mirror pass after xtsync's own removal: %d target requests, %d writes; want 1 and 0", reads, writes)
	}

	tEng, _ := h.targetGroup(eng)
	repaired := func(what string) {
		t.Helper()
		rep, _, writes := pass(what)
		if writes == 0 || rep.Summary.Failures > 0 {
			t.Errorf("%s: the mirror pass wrote %d times (summary %+v), want a repair", what, writes, rep.Summary)
		}
		h.assertMirrored(false)
		// The repair's own echo: one read, no write.
		if _, reads, writes := pass("the repair of " + what); reads != 1 || writes != 0 {
			t.Errorf("the mirror pass after the repair of %s: %d target requests, %d writes; want 1 and 0", what, reads, writes)
		}
	}

	// xtsync removes a member and, before the next pass, someone adds it
	// back: the delta shows it added, which xtsync did not write.
	// A member of two scoped groups leaves one (the user stays).
	var from, leaver string
	for _, gid := range h.opts.Scope {
		g, _ := h.em.Group(src, gid)
		for _, other := range h.opts.Scope {
			o, _ := h.em.Group(src, other)
			if i := slices.IndexFunc(g.Members, func(id string) bool { return slices.Contains(o.Members, id) }); other != gid && i >= 0 && leaver == "" {
				from, leaver = gid, g.Members[i]
			}
		}
	}
	if leaver == "" {
		t.Fatal("no member of two scoped groups")
	}
	tFrom, _ := h.targetGroup(from)
	_, removed := deltaMirrors(t, h, from, func() { must(t, h.em.RemoveMember(src, from, leaver)) })
	if removed == "" {
		t.Fatal("the delta pass removed no member")
	}
	must(t, h.em.AddMember(dst, tFrom.ID, removed))
	repaired("a member xtsync removed, added back")
	if g, _ := h.targetGroup(from); slices.Contains(g.Members, removed) {
		t.Error("the member xtsync removed is back in the mirror")
	}

	// The reverse: xtsync adds a member and, before the next pass, someone
	// removes it: the delta shows it removed, which xtsync did not write.
	joiner := emutest.MembersOutside(t, h.em, groupID(t, h.em, "sales"), eng, 1)[0]
	added, _ := deltaMirrors(t, h, eng, func() { must(t, h.em.AddMember(src, eng, joiner)) })
	if added == "" {
		t.Fatal("the delta pass added no member")
	}
	must(t, h.em.RemoveMember(dst, tEng.ID, added))
	repaired("a member xtsync added, removed again")
	if g, _ := h.targetGroup(eng); !slices.Contains(g.Members, added) {
		t.Error("the member xtsync added is still missing from the mirror")
	}

	// Someone adds a member to the mirror in the target.
	rogue, err := h.em.CreateUser(dst, graphemu.User{UserPrincipalName: "rogue@fabrikam.onmicrosoft.com", Mail: "rogue@fabrikam.com", AccountEnabled: true})
	must(t, err)
	must(t, h.em.AddMember(dst, tEng.ID, rogue.ID))
	repaired("a rogue member")
	if g, _ := h.targetGroup(eng); slices.Contains(g.Members, rogue.ID) {
		t.Error("the rogue member is still in the mirror")
	}

	// Someone renames the mirror.
	must(t, h.em.UpdateGroup(dst, tEng.ID, func(g *graphemu.Group) { g.DisplayName = "Engineering (all access)" }))
	repaired("a rename")

	// Someone deletes the mirror: restored from deleted items, same id.
	must(t, h.em.DeleteGroup(dst, tEng.ID))
	repaired("a deletion")
	if g, ok := h.targetGroup(eng); !ok || g.ID != tEng.ID {
		t.Errorf("the deleted mirror came back as %q (found %t), want restored %s", g.ID, ok, tEng.ID)
	}

	// Someone deletes it for good (deleted, then purged from deleted
	// items): a new mirror is made.
	must(t, h.em.DeleteGroup(dst, tEng.ID))
	must(t, h.em.PurgeDeleted(dst, tEng.ID))
	if rep, _, writes := pass("a permanent deletion"); writes == 0 || rep.Summary.GroupsCreated != 1 {
		t.Errorf("after a permanent deletion: %d writes, summary %+v; want the mirror made again", writes, rep.Summary)
	}
	h.assertMirrored(false)
	if g, ok := h.targetGroup(eng); !ok || g.ID == tEng.ID {
		t.Errorf("the purged mirror: found %t, id %q; want a new one", ok, g.ID)
	}
}

// deltaMirrors makes change in the source, runs a delta pass, and returns
// a target member the pass added to source group gid's mirror and one it
// removed ("" for none).
func deltaMirrors(t *testing.T, h *harness, gid string, change func()) (added, removed string) {
	t.Helper()
	before, _ := h.targetGroup(gid)
	change()
	if _, err := h.eng.DeltaSync(context.Background(), engine.RunOptions{}); err != nil {
		t.Fatal(err)
	}
	after, _ := h.targetGroup(gid)
	for _, id := range after.Members {
		if !slices.Contains(before.Members, id) {
			added = id
		}
	}
	for _, id := range before.Members {
		if !slices.Contains(after.Members, id) {
			removed = id
		}
	}
	return added, removed
}
