package engine

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
)

// noChangeWorld is a converged sync of groups groups of members members
// each, drawn from pool users: every user mapped, every mirror holding
// exactly its source group's members, the full reconcile's snapshot.
func noChangeWorld(groups, members, pool int) (Options, *state, *Snapshot) {
	return planWorld(groups, members, pool, true)
}

// planWorld is noChangeWorld when synced, else the same source before its
// first sync: nothing mapped, no mirror, no target user.
func planWorld(groups, members, pool int, synced bool) (Options, *state, *Snapshot) {
	opts := testOpts()
	opts.UserAttributes = nil
	st := &state{groups: map[string]*GroupMapping{}, users: map[string]*UserMapping{}}
	snap := &Snapshot{Full: true, MirrorsListed: true, Source: map[string]SourceGroup{}, Target: map[string]TargetGroup{}, Mirrors: map[string][]Group{}}
	srcUsers := make([]Member, pool)
	for i := range pool {
		uid := fmt.Sprintf("su%05d", i)
		srcUsers[i] = user(uid, fmt.Sprintf("u%05d@contoso.com", i))
		st.users[uid] = &UserMapping{SourceID: uid, TargetID: fmt.Sprintf("tu%05d", i), Mail: srcUsers[i].Mail, Provenance: Created}
	}
	rng := rand.New(rand.NewPCG(uint64(groups), uint64(members)))
	for g := range groups {
		gid := fmt.Sprintf("sg%04d", g)
		tid := fmt.Sprintf("tg%04d", g)
		sg := sec(gid, "Group "+gid)
		spec, err := opts.targetSpec(sg)
		if err != nil {
			panic(err)
		}
		src := SourceGroup{Found: true, Group: sg}
		tgt := TargetGroup{Group: Group{ID: tid, DisplayName: spec.DisplayName, Description: spec.Description, MailNickname: spec.MailNickname, SecurityEnabled: true}}
		for _, i := range rng.Perm(pool)[:members] {
			src.Members = append(src.Members, srcUsers[i])
			um := st.users[srcUsers[i].ID]
			um.Groups = append(um.Groups, gid) // ascending: groups are generated in order
			tgt.Members = append(tgt.Members, Member{ID: um.TargetID, Type: TypeUser})
		}
		snap.Scope = append(snap.Scope, gid)
		snap.Source[gid] = src
		if !synced {
			continue
		}
		snap.Target[tid] = tgt
		snap.Mirrors[spec.MailNickname] = []Group{tgt.Group}
		st.groups[gid] = &GroupMapping{SourceID: gid, TargetID: tid, SourceName: sg.DisplayName, Members: members}
	}
	if !synced {
		clear(st.users)
	}
	return opts, st, snap
}

// BenchmarkPlanNoChange measures the planner alone on a converged world
// (no reads, no writes): the plan of a no-change full reconcile.
func BenchmarkPlanNoChange(b *testing.B) {
	for _, sz := range []struct{ groups, members, pool int }{{200, 500, 10000}, {1000, 1000, 20000}} {
		b.Run(fmt.Sprintf("%dx%d", sz.groups, sz.members), func(b *testing.B) {
			opts, st, snap := noChangeWorld(sz.groups, sz.members, sz.pool)
			b.ResetTimer()
			for range b.N {
				if p := plan(opts, st, snap); len(p.Actions) != 0 || len(p.Failed) != 0 {
					b.Fatalf("no-change plan: %d actions, %d failed", len(p.Actions), len(p.Failed))
				}
			}
		})
	}
}

// BenchmarkPlanInitial measures the planner alone on the plan of a first
// sync into an empty target (the plan BenchmarkPlan1000x1000 computes, in
// e2e, after its reads): every user invited, every group created.
func BenchmarkPlanInitial(b *testing.B) {
	opts, st, snap := planWorld(1000, 1000, 20000, false)
	b.ResetTimer()
	for range b.N {
		if p := plan(opts, st, snap); len(p.Actions) != 1000*2+20000 {
			b.Fatalf("initial plan: %d actions", len(p.Actions))
		}
	}
}

// TestPlanNoChangeWorld checks the benchmark's world is converged, at a
// size that runs in a test.
func TestPlanNoChangeWorld(t *testing.T) {
	opts, st, snap := noChangeWorld(20, 50, 200)
	p := plan(opts, st, snap)
	if len(p.Actions) != 0 || len(p.Failed) != 0 || len(p.refs) != 0 {
		t.Fatalf("no-change plan: actions %v, failed %v, refs %v", kinds(p), p.Failed, p.refs)
	}
}

// The planned references follow the source: added where a user joins a
// synced group, dropped where it leaves one and for a group that left
// the scope, whatever order the state stored them in.
func TestPlanRefs(t *testing.T) {
	opts := testOpts()
	st := &state{
		groups: map[string]*GroupMapping{
			"g1": {SourceID: "g1", TargetID: "tg1", SourceName: "One"},
			"g2": {SourceID: "g2", TargetID: "tg2", SourceName: "Two"},
			"g3": {SourceID: "g3", TargetID: "tg3", SourceName: "Three"},
		},
		users: map[string]*UserMapping{
			"u1": {SourceID: "u1", TargetID: "t1", Provenance: Created, Groups: []string{"g1", "g2"}},
			"u2": {SourceID: "u2", TargetID: "t2", Provenance: Created, Groups: []string{"g2"}},
			"u3": {SourceID: "u3", TargetID: "t3", Provenance: Created, Groups: []string{"g3", "g1"}}, // unsorted
			"u4": {SourceID: "u4", TargetID: "t4", Provenance: Created, Groups: []string{"g1"}},
		},
	}
	snap := &Snapshot{Scope: []string{"g1", "g2"}, Full: true, Source: map[string]SourceGroup{}, Target: map[string]TargetGroup{}}
	members := map[string][]string{"g1": {"u2", "u3", "u4"}, "g2": {"u1"}}
	for _, gid := range snap.Scope {
		g := sec(gid, st.groups[gid].SourceName)
		spec, _ := opts.targetSpec(g)
		sg := SourceGroup{Found: true, Group: g}
		tg := TargetGroup{Group: Group{ID: st.groups[gid].TargetID, DisplayName: spec.DisplayName, Description: spec.Description, SecurityEnabled: true}}
		for _, uid := range members[gid] {
			sg.Members = append(sg.Members, user(uid, uid+"@contoso.com"))
			tg.Members = append(tg.Members, Member{ID: st.users[uid].TargetID, Type: TypeUser})
		}
		snap.Source[gid] = sg
		snap.Target[tg.Group.ID] = tg
	}
	p := plan(opts, st, snap)
	want := map[string][]string{"u1": {"g2"}, "u2": {"g1"}, "u3": {"g1"}}
	if len(p.refs) != len(want) {
		t.Errorf("refs changed for %v, want %v", p.refs, want)
	}
	for uid, w := range want {
		if got := p.refs[uid]; !slices.Equal(got, w) {
			t.Errorf("refs of %s: %v, want %v", uid, got, w)
		}
	}
	// The state is not changed by planning.
	if got := st.users["u3"].Groups; !slices.Equal(got, []string{"g3", "g1"}) {
		t.Errorf("the plan changed the state's refs of u3: %v", got)
	}
}
