package engine

import (
	"errors"
	"slices"
	"testing"
	"text/template"
	"time"
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
	t0 := time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC)
	tests := []struct {
		name      string
		groups    map[string]*GroupMapping
		users     map[string]*UserMapping
		snap      Snapshot
		opts      func(*Options)
		want      []string
		deletions int
		failed    int
		skipped   int
		// wantLink is the link a link-user action writes.
		wantLink string
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
			snap:   Snapshot{Scope: []string{"g1"}, Source: map[string]SourceGroup{"g1": {Found: true, Group: sec("g1", "One"), Members: []Member{user("u1", "A@X")}}}, UsersByAddress: map[string][]User{"a@x": {{ID: "t1", Mail: "a@x"}}}},
			want:   []string{"match-user u1 t1", "create-group g1", "add-members g1 +u1"},
			groups: map[string]*GroupMapping{},
		},
		{
			name:   "drift: renamed, rogue member, missing member",
			groups: map[string]*GroupMapping{"g1": {SourceID: "g1", TargetID: "tg1", SourceName: "One"}},
			users:  map[string]*UserMapping{"u1": {SourceID: "u1", TargetID: "t1", Provenance: Created, Groups: []string{"g1"}}, "u2": {SourceID: "u2", TargetID: "t2", Provenance: Created, Groups: []string{"g1"}}},
			snap: Snapshot{Scope: []string{"g1"}, Source: map[string]SourceGroup{"g1": {Found: true, Group: sec("g1", "One"), Members: []Member{user("u1", "a@x"), user("u2", "b@x")}}},
				Target: map[string]TargetGroup{"tg1": {Group: Group{ID: "tg1", DisplayName: "Hacked", Description: spec.Description}, Members: []Member{{ID: "t1", Type: TypeUser}, {ID: "rogue", Type: TypeUser}}}}},
			want:      []string{"update-group g1 tg1", "add-members g1 +u2", "remove-members g1 +rogue"},
			deletions: 1,
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
			name: "lost state: the mirror found by mailNickname is adopted, not created again",
			snap: Snapshot{Scope: []string{"g1"}, Source: map[string]SourceGroup{"g1": {Found: true, Group: sec("g1", "One"), Members: []Member{user("u1", "a@x")}}},
				Mirrors:     map[string][]Group{"xts-g1": {Group{ID: "tm1", DisplayName: "One", Description: spec.Description, MailNickname: "xts-g1", SecurityEnabled: true, Created: t0}}},
				Target:      map[string]TargetGroup{"tm1": {Group: Group{ID: "tm1", DisplayName: "One", Description: spec.Description, MailNickname: "xts-g1", SecurityEnabled: true, Created: t0}, Members: []Member{{ID: "t1", Type: TypeUser}}}},
				UsersByLink: map[string]User{LinkValue("src", "u1"): {ID: "t1", Link: LinkValue("src", "u1")}}},
			want: []string{"link-user u1 t1", "adopt-group g1 tm1"},
		},
		{
			name:   "interrupted creation: the intent's mirror is adopted; a duplicate is deleted, counted as its members",
			groups: map[string]*GroupMapping{"g1": {SourceID: "g1", Pending: t0}},
			snap: Snapshot{Scope: []string{"g1"}, Full: true, MirrorsListed: true, Source: map[string]SourceGroup{"g1": {Found: true, Group: sec("g1", "One")}},
				Mirrors: map[string][]Group{"xts-g1": {Group{ID: "tm1", DisplayName: "One", Description: spec.Description, MailNickname: "xts-g1", SecurityEnabled: true, Created: t0}, {ID: "tm2", MailNickname: "xts-g1", SecurityEnabled: true, Created: t0.Add(time.Second)}}},
				Target:  map[string]TargetGroup{"tm1": {Group: Group{ID: "tm1", DisplayName: "One", Description: spec.Description, MailNickname: "xts-g1", SecurityEnabled: true, Created: t0}}, "tm2": {Members: []Member{{ID: "t1", Type: TypeUser}, {ID: "t2", Type: TypeUser}, {ID: "t3", Type: TypeUser}}}}},
			want:      []string{"adopt-group g1 tm1", "delete-group g1 tm2"},
			deletions: 3,
		},
		{
			name:  "interrupted invitation: the user created after the intent is linked and gets its marker",
			users: map[string]*UserMapping{"u1": {SourceID: "u1", Mail: "a@x", Pending: t0}},
			snap: Snapshot{Scope: []string{"g1"}, Source: map[string]SourceGroup{"g1": {Found: true, Group: sec("g1", "One"), Members: []Member{user("u1", "a@x")}}},
				Mirrors: map[string][]Group{"xts-g1": {Group{ID: "tm1", DisplayName: "One", Description: spec.Description, MailNickname: "xts-g1", SecurityEnabled: true, Created: t0}}}, Target: map[string]TargetGroup{"tm1": {Group: Group{ID: "tm1", DisplayName: "One", Description: spec.Description, MailNickname: "xts-g1", SecurityEnabled: true, Created: t0}}},
				UsersByAddress: map[string][]User{"a@x": {{ID: "t1", Mail: "a@x", Created: t0.Add(time.Second)}}}},
			want:     []string{"link-user u1 t1", "adopt-group g1 tm1", "add-members g1 +u1"},
			wantLink: LinkValue("src", "u1"),
		},
		{
			name:  "a guest that existed before the intent is matched, not linked",
			users: map[string]*UserMapping{"u1": {SourceID: "u1", Mail: "a@x", Pending: t0}},
			snap: Snapshot{Scope: []string{"g1"}, Source: map[string]SourceGroup{"g1": {Found: true, Group: sec("g1", "One"), Members: []Member{user("u1", "a@x")}}},
				Mirrors: map[string][]Group{"xts-g1": {Group{ID: "tm1", DisplayName: "One", Description: spec.Description, MailNickname: "xts-g1", SecurityEnabled: true, Created: t0}}}, Target: map[string]TargetGroup{"tm1": {Group: Group{ID: "tm1", DisplayName: "One", Description: spec.Description, MailNickname: "xts-g1", SecurityEnabled: true, Created: t0}}},
				UsersByAddress: map[string][]User{"a@x": {{ID: "t1", Mail: "guest@elsewhere", OtherMails: []string{"a@x"}, CreationType: "Invitation", Created: t0.Add(-24 * time.Hour)}}}},
			want: []string{"match-user u1 t1", "adopt-group g1 tm1", "add-members g1 +u1"},
		},
		{
			name: "an address held by another source user's mirror is skipped, not matched or invited",
			snap: Snapshot{Scope: []string{"g1"}, Source: map[string]SourceGroup{"g1": {Found: true, Group: sec("g1", "One"), Members: []Member{user("u1", "a@x")}}},
				Mirrors: map[string][]Group{"xts-g1": {Group{ID: "tm1", DisplayName: "One", Description: spec.Description, MailNickname: "xts-g1", SecurityEnabled: true, Created: t0}}}, Target: map[string]TargetGroup{"tm1": {Group: Group{ID: "tm1", DisplayName: "One", Description: spec.Description, MailNickname: "xts-g1", SecurityEnabled: true, Created: t0}}},
				UsersByAddress: map[string][]User{"a@x": {{ID: "t9", Mail: "a@x", Link: LinkValue("src", "u9")}}}},
			want:    []string{"adopt-group g1 tm1"},
			skipped: 1,
		},
		{
			name:   "full reconcile: a created user in no group whose deprovisioning was held is planned again",
			groups: map[string]*GroupMapping{"g1": {SourceID: "g1", TargetID: "tm1", SourceName: "One"}},
			users:  map[string]*UserMapping{"u1": {SourceID: "u1", TargetID: "t1", Provenance: Created}, "u2": {SourceID: "u2", TargetID: "t2", Provenance: Matched}},
			snap: Snapshot{Scope: []string{"g1"}, Full: true, Source: map[string]SourceGroup{"g1": {Found: true, Group: sec("g1", "One")}},
				Target: map[string]TargetGroup{"tm1": {Group: Group{ID: "tm1", DisplayName: "One", Description: spec.Description, MailNickname: "xts-g1", SecurityEnabled: true, Created: t0}}}},
			want:      []string{"delete-user u1 t1"},
			deletions: 1,
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
			if tt.skipped > 0 && len(p.Skipped) != tt.skipped {
				t.Errorf("skipped: got %v, want %d", p.Skipped, tt.skipped)
			}
			for _, a := range p.Actions {
				if a.Kind == ActLinkUser && a.Link != tt.wantLink {
					t.Errorf("link-user %s writes link %q, want %q", a.User, a.Link, tt.wantLink)
				}
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
