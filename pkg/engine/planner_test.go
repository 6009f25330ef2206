package engine

import (
	"errors"
	"slices"
	"testing"
	"text/template"
)

func testOpts() Options {
	return Options{
		SourceTenant: "src", UserType: "Member", NestedGroups: NestedSkip, ProvisionMembers: true,
		DeprovisionUsers: DeprovisionDelete, UnscopedGroups: UnscopedDelete, DeletionThreshold: 500,
		NameTemplate: template.Must(template.New("n").Parse("{{.DisplayName}}")),
	}
}

func user(id, mail string) Member {
	return Member{ID: id, Type: TypeUser, Mail: mail, UserType: "Member"}
}

func sec(id, name string) Group { return Group{ID: id, DisplayName: name, SecurityEnabled: true} }

// kinds lists the plan's actions as "kind group user target" strings.
func kinds(p *Plan) []string {
	var out []string
	for _, a := range p.Actions {
		s := string(a.Kind)
		for _, v := range []string{a.Group, a.User, a.Target} {
			if v != "" {
				s += " " + v
			}
		}
		for _, u := range a.Users {
			s += " +" + u
		}
		out = append(out, s)
	}
	return out
}

func TestPlan(t *testing.T) {
	spec, _ := testOpts().targetSpec(sec("g1", "One"))
	tests := []struct {
		name      string
		groups    map[string]*GroupMapping
		users     map[string]*UserMapping
		snap      Snapshot
		opts      func(*Options)
		want      []string
		deletions int
		failed    int
	}{
		{
			name: "new group: create, invite, add; guests and nested skipped",
			snap: Snapshot{Scope: []string{"g1"}, Full: true, Source: map[string]SourceGroup{
				"g1": {Found: true, Group: sec("g1", "One"), Members: []Member{user("u1", "a@x"), {ID: "u2", Type: TypeUser, Mail: "g@y", UserType: "Guest"}, {ID: "g9", Type: TypeGroup}}},
			}},
			want: []string{"invite-user u1", "create-group g1", "add-members g1 +u1"},
		},
		{
			name:   "existing user matched by mail",
			snap:   Snapshot{Scope: []string{"g1"}, Source: map[string]SourceGroup{"g1": {Found: true, Group: sec("g1", "One"), Members: []Member{user("u1", "A@X")}}}, UsersByMail: map[string]User{"a@x": {ID: "t1"}}},
			want:   []string{"match-user u1 t1", "create-group g1", "add-members g1 +u1"},
			groups: map[string]*GroupMapping{},
		},
		{
			name:   "drift: renamed, rogue member, missing member",
			groups: map[string]*GroupMapping{"g1": {SourceID: "g1", TargetID: "tg1", SourceName: "One"}},
			users:  map[string]*UserMapping{"u1": {SourceID: "u1", TargetID: "t1", Provenance: Created, Groups: []string{"g1"}}, "u2": {SourceID: "u2", TargetID: "t2", Provenance: Created, Groups: []string{"g1"}}},
			snap: Snapshot{Scope: []string{"g1"}, Source: map[string]SourceGroup{"g1": {Found: true, Group: sec("g1", "One"), Members: []Member{user("u1", "a@x"), user("u2", "b@x")}}},
				Target: map[string]TargetGroup{"tg1": {Group: Group{ID: "tg1", DisplayName: "Hacked", Description: spec.Description}, Members: []Member{{ID: "t1", Type: TypeUser}, {ID: "rogue", Type: TypeUser}}}}},
			want: []string{"update-group g1 tg1", "add-members g1 +u2", "remove-members g1 +rogue"},
		},
		{
			name:   "target group deleted: restore",
			groups: map[string]*GroupMapping{"g1": {SourceID: "g1", TargetID: "tg1", SourceName: "One"}},
			snap:   Snapshot{Scope: []string{"g1"}, Source: map[string]SourceGroup{"g1": {Found: true, Group: sec("g1", "One")}}},
			want:   []string{"restore-group g1 tg1"},
		},
		{
			name:   "source deleted: target group deleted, its only created user deleted, matched user kept",
			groups: map[string]*GroupMapping{"g1": {SourceID: "g1", TargetID: "tg1", SourceName: "One"}, "g2": {SourceID: "g2", TargetID: "tg2", SourceName: "Two"}},
			users: map[string]*UserMapping{
				"u1": {SourceID: "u1", TargetID: "t1", Provenance: Created, Groups: []string{"g1"}},
				"u2": {SourceID: "u2", TargetID: "t2", Provenance: Created, Groups: []string{"g1", "g2"}},
				"u3": {SourceID: "u3", TargetID: "t3", Provenance: Matched, Groups: []string{"g1"}},
			},
			snap: Snapshot{Scope: []string{"g1", "g2"}, Full: true, Source: map[string]SourceGroup{
				"g1": {Found: false},
				"g2": {Found: true, Group: sec("g2", "Two"), Members: []Member{user("u2", "b@x")}},
			}, Target: map[string]TargetGroup{"tg2": {Group: Group{ID: "tg2", DisplayName: "Two", Description: func() string { s, _ := testOpts().targetSpec(sec("g2", "Two")); return s.Description }()}, Members: []Member{{ID: "t2", Type: TypeUser}}}}},
			want:      []string{"delete-group g1 tg1", "delete-user u1 t1"},
			deletions: 2,
		},
		{
			name:   "keep policies: group released, user kept",
			groups: map[string]*GroupMapping{"g1": {SourceID: "g1", TargetID: "tg1", SourceName: "One"}},
			users:  map[string]*UserMapping{"u1": {SourceID: "u1", TargetID: "t1", Provenance: Created, Groups: []string{"g1"}}},
			snap:   Snapshot{Full: true},
			opts:   func(o *Options) { o.UnscopedGroups, o.DeprovisionUsers = UnscopedKeep, DeprovisionKeep },
			want:   []string{"release-group g1 tg1"},
		},
		{
			name:   "disable once, enable when back",
			groups: map[string]*GroupMapping{"g1": {SourceID: "g1", TargetID: "tg1", SourceName: "One"}},
			users:  map[string]*UserMapping{"u1": {SourceID: "u1", TargetID: "t1", Provenance: Created, Disabled: true}},
			snap: Snapshot{Scope: []string{"g1"}, Source: map[string]SourceGroup{"g1": {Found: true, Group: sec("g1", "One"), Members: []Member{user("u1", "a@x")}}},
				Target: map[string]TargetGroup{"tg1": {Group: Group{ID: "tg1", DisplayName: "One", Description: spec.Description}}}},
			opts: func(o *Options) { o.DeprovisionUsers = DeprovisionDisable },
			want: []string{"add-members g1 +u1", "enable-user u1 t1"},
		},
		{
			name:   "failed read: nothing planned for the group, its users kept",
			groups: map[string]*GroupMapping{"g1": {SourceID: "g1", TargetID: "tg1", SourceName: "One"}},
			users:  map[string]*UserMapping{"u1": {SourceID: "u1", TargetID: "t1", Provenance: Created, Groups: []string{"g1"}}},
			snap:   Snapshot{Scope: []string{"g1"}, Full: true, Source: map[string]SourceGroup{"g1": {Err: errors.New("503")}}},
			failed: 1,
		},
		{
			name:   "empty source read counts removals as deletions",
			groups: map[string]*GroupMapping{"g1": {SourceID: "g1", TargetID: "tg1", SourceName: "One"}},
			users:  map[string]*UserMapping{"u1": {SourceID: "u1", TargetID: "t1", Provenance: Matched, Groups: []string{"g1"}}},
			snap: Snapshot{Scope: []string{"g1"}, Source: map[string]SourceGroup{"g1": {Found: true, Group: sec("g1", "One")}},
				Target: map[string]TargetGroup{"tg1": {Group: Group{ID: "tg1", DisplayName: "One", Description: spec.Description}, Members: []Member{{ID: "t1", Type: TypeUser}, {ID: "t9", Type: TypeUser}}}}},
			want:      []string{"remove-members g1 +t1 +t9"},
			deletions: 2,
		},
		{
			name: "distribution list skipped",
			snap: Snapshot{Scope: []string{"g1"}, Source: map[string]SourceGroup{"g1": {Found: true, Group: Group{ID: "g1", DisplayName: "DL", MailEnabled: true}}}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := testOpts()
			if tt.opts != nil {
				tt.opts(&opts)
			}
			st := &state{groups: tt.groups, users: tt.users}
			if st.groups == nil {
				st.groups = map[string]*GroupMapping{}
			}
			if st.users == nil {
				st.users = map[string]*UserMapping{}
			}
			p := plan(opts, st, &tt.snap)
			if got := kinds(p); !slices.Equal(got, tt.want) {
				t.Errorf("actions:\n got  %q\n want %q", got, tt.want)
			}
			if p.Deletions != tt.deletions {
				t.Errorf("deletions: got %d, want %d", p.Deletions, tt.deletions)
			}
			if len(p.Failed) != tt.failed {
				t.Errorf("failed: got %v, want %d", p.Failed, tt.failed)
			}
		})
	}
}

func TestTargetNickname(t *testing.T) {
	got := TargetNickname("6f1c2b9e-3d4a-4c8e-9b1f-2a7d5e8c0b31")
	if want := "xts-6f1c2b9e3d4a4c8e9b1f2a7d5e8c0b31"; got != want || len(got) > 64 {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestGroupKinds(t *testing.T) {
	tests := []struct {
		g    Group
		want GroupKind
		sync bool
	}{
		{Group{SecurityEnabled: true}, KindSecurity, true},
		{Group{SecurityEnabled: true, GroupTypes: []string{"DynamicMembership"}}, KindDynamicSecurity, true},
		{Group{MailEnabled: true, GroupTypes: []string{"Unified"}}, KindMicrosoft365, true},
		{Group{MailEnabled: true}, KindDistribution, false},
		{Group{MailEnabled: true, SecurityEnabled: true}, KindMailSecurity, false},
	}
	for _, tt := range tests {
		if got := tt.g.Kind(); got != tt.want || got.Syncable() != tt.sync {
			t.Errorf("%+v: got %s (sync %t), want %s (%t)", tt.g, got, got.Syncable(), tt.want, tt.sync)
		}
	}
}
