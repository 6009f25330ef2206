package e2e_test

import (
	"context"
	"github.com/xtsync/xtsync/internal/testlog"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"text/template"
	"time"

	"github.com/xtsync/xtsync/pkg/engine"
	"github.com/xtsync/xtsync/pkg/graphemu"
	"github.com/xtsync/xtsync/pkg/memstore"
	"github.com/xtsync/xtsync/pkg/msgraph"
)

const (
	src = graphemu.SampleSourceTenant
	dst = graphemu.SampleTargetTenant
)

func testLogger(t testing.TB) *slog.Logger { return testlog.New(t, slog.LevelInfo) }

// harness is the engine wired to the emulator's two sample tenants.
type harness struct {
	t     testing.TB
	em    *graphemu.Emulator
	store *memstore.Store
	opts  engine.Options
	eng   *engine.Engine
	srcC  *msgraph.Client
	dstC  *msgraph.Client
	pace  msgraph.Pace
}

// sampleIDs maps the sample's group mail nicknames to ids.
func groupID(t testing.TB, em *graphemu.Emulator, nick string) string {
	t.Helper()
	for _, g := range em.Groups(src) {
		if g.MailNickname == nick {
			return g.ID
		}
	}
	t.Fatalf("no source group %s", nick)
	return ""
}

func defaultOptions(scope []string) engine.Options {
	return engine.Options{
		SourceTenant: src, Scope: scope, UserType: "Member", NestedGroups: engine.NestedSkip,
		ProvisionMembers: true, DeprovisionUsers: engine.DeprovisionDelete, UnscopedGroups: engine.UnscopedDelete,
		DeletionThreshold: 500, NameTemplate: template.Must(template.New("n").Parse("{{.DisplayName}}")),
		InviteRedirectURL: "https://myapps.microsoft.com",
		UserAttributes:    engine.DefaultUserAttributes(), LinkAttribute: engine.DefaultLinkAttribute,
	}
}

// newHarness starts an emulator with the sample; scope names sample groups
// by mail nickname.
func newHarness(t testing.TB, scopeNicks []string, tweak func(*engine.Options)) *harness {
	t.Helper()
	return newHarnessSeed(t, graphemu.SampleSeed(), scopeNicks, tweak)
}

// newHarnessSeed is newHarness over any seed whose tenants are the sample's.
func newHarnessSeed(t testing.TB, seed graphemu.Seed, scopeNicks []string, tweak func(*engine.Options)) *harness {
	t.Helper()
	return newHarnessPaced(t, seed, scopeNicks, tweak, msgraph.NoPace())
}

// newHarnessPaced is newHarnessSeed with the Graph clients paced by pace
// (newHarnessSeed's are not: the emulator does not throttle unless a test
// sets its budgets).
func newHarnessPaced(t testing.TB, seed graphemu.Seed, scopeNicks []string, tweak func(*engine.Options), pace msgraph.Pace) *harness {
	t.Helper()
	em := graphemu.New(graphemu.Options{Logger: testLogger(t), Seed: 1})
	if err := em.Load(seed); err != nil {
		t.Fatal(err)
	}
	if err := em.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { em.Close() })
	var scope []string
	for _, n := range scopeNicks {
		scope = append(scope, groupID(t, em, n))
	}
	h := &harness{t: t, em: em, store: memstore.New(), opts: defaultOptions(scope), pace: pace}
	if tweak != nil {
		tweak(&h.opts)
	}
	h.srcC = h.client(src, graphemu.SampleSourceClientID, graphemu.SampleSourceSecret)
	h.dstC = h.client(dst, graphemu.SampleTargetClientID, graphemu.SampleTargetSecret)
	h.rebuild()
	return h
}

func (h *harness) client(tenant, id, secret string) *msgraph.Client {
	hc := h.em.HTTPClient()
	h.t.Cleanup(hc.CloseIdleConnections) // before em.Close, so it need not wait for them
	c, err := msgraph.New(msgraph.Config{
		TenantID: tenant, ClientID: id, ClientSecret: secret,
		GraphEndpoint: h.em.URL(), AuthorityHost: h.em.URL(), HTTPClient: hc,
		Retry: msgraph.RetryPolicy{MaxAttempts: 16, BaseDelay: 20 * time.Millisecond, MaxDelay: 200 * time.Millisecond},
		Pace:  h.pace,
	}, testLogger(h.t))
	if err != nil {
		h.t.Fatal(err)
	}
	return c
}

// rebuild makes a new engine from h.opts (after the test changes them).
func (h *harness) rebuild() {
	eng, err := engine.New(msgraph.NewSource(h.srcC, msgraph.SchemaOf(h.opts)), msgraph.NewTarget(h.dstC, msgraph.SchemaOf(h.opts)), h.store, h.opts, testLogger(h.t), engine.SystemClock{})
	if err != nil {
		h.t.Fatal(err)
	}
	h.eng = eng
}

func (h *harness) reconcile(ro engine.RunOptions) *engine.Report {
	h.t.Helper()
	rep, err := h.eng.Reconcile(context.Background(), ro)
	if err != nil {
		h.t.Fatalf("reconcile: %v", err)
	}
	return rep
}

// resetCounts zeroes the emulator's per-route counts of both tenants.
func (h *harness) resetCounts() {
	h.em.ResetStats(src)
	h.em.ResetStats(dst)
}

func (h *harness) ops() (srcOps, dstOps, dstWrites int) {
	s, d := h.em.Stats(src), h.em.Stats(dst)
	return s.Ops(), d.Ops(), d.Writes()
}

// targetGroup finds the target group mirroring source group sid.
func (h *harness) targetGroup(sid string) (graphemu.Group, bool) {
	for _, g := range h.em.Groups(dst) {
		if g.MailNickname == engine.TargetNickname(sid) {
			return g, true
		}
	}
	return graphemu.Group{}, false
}

// wantMembers are the mails of the source group's synced members: direct
// (or transitive) member users that are not guests.
func (h *harness) wantMembers(sid string, flatten bool) []string {
	g, _ := h.em.Group(src, sid)
	ids := g.Members
	if flatten {
		ids = transitive(h.em, sid)
	}
	var out []string
	for _, id := range ids {
		if u, ok := h.em.User(src, id); ok && u.UserType != "Guest" {
			out = append(out, strings.ToLower(u.Mail))
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

func transitive(em *graphemu.Emulator, gid string) []string {
	var out []string
	seen := map[string]bool{gid: true}
	var walk func(string)
	walk = func(id string) {
		g, _ := em.Group(src, id)
		for _, m := range g.Members {
			if seen[m] {
				continue
			}
			seen[m] = true
			if _, isGroup := em.Group(src, m); isGroup {
				walk(m)
				continue
			}
			out = append(out, m)
		}
	}
	walk(gid)
	return out
}

// gotMembers are the mails of a target group's members.
func (h *harness) gotMembers(tg graphemu.Group) []string {
	var out []string
	for _, id := range tg.Members {
		u, ok := h.em.User(dst, id)
		if !ok {
			h.t.Fatalf("target group %s has non-user member %s", tg.DisplayName, id)
		}
		out = append(out, strings.ToLower(u.Mail))
	}
	slices.Sort(out)
	return out
}

// assertMirrored checks each scoped syncable group is exactly mirrored.
func (h *harness) assertMirrored(flatten bool) {
	h.t.Helper()
	for _, sid := range h.opts.Scope {
		sg, ok := h.em.Group(src, sid)
		if !ok || sg.IsDistributionList() {
			continue
		}
		tg, ok := h.targetGroup(sid)
		if !ok {
			h.t.Errorf("source group %s (%s) has no target group", sg.DisplayName, sid)
			continue
		}
		if tg.DisplayName != sg.DisplayName || !tg.SecurityEnabled || tg.MailEnabled || len(tg.GroupTypes) != 0 {
			h.t.Errorf("target of %s: name %q security %t mail %t types %v", sg.DisplayName, tg.DisplayName, tg.SecurityEnabled, tg.MailEnabled, tg.GroupTypes)
		}
		if !strings.Contains(tg.Description, sid) {
			h.t.Errorf("target of %s: description %q does not name the source", sg.DisplayName, tg.Description)
		}
		got, want := h.gotMembers(tg), h.wantMembers(sid, flatten)
		if !slices.Equal(got, want) {
			h.t.Errorf("members of %s:\n got  %v\n want %v", sg.DisplayName, got, want)
		}
	}
}

func sourceUser(t testing.TB, em *graphemu.Emulator, upnPrefix string) graphemu.User {
	t.Helper()
	for _, u := range em.Users(src) {
		if strings.HasPrefix(u.UserPrincipalName, upnPrefix+"@") {
			return u
		}
	}
	t.Fatalf("no source user %s", upnPrefix)
	return graphemu.User{}
}

func purge(h *harness, id string) error { return h.em.PurgeDeleted(dst, id) }

func deletedUsers(h *harness) []graphemu.User { return h.em.DeletedUsers(dst) }

// syncedMember is the first member of sample group nick that xtsync syncs
// (a member, not a guest, with a mail address).
func syncedMember(t testing.TB, h *harness, nick string) graphemu.User {
	t.Helper()
	g, _ := h.em.Group(src, groupID(t, h.em, nick))
	for _, id := range g.Members {
		if u, ok := h.em.User(src, id); ok && u.UserType != "Guest" && u.Mail != "" {
			return u
		}
	}
	t.Fatalf("no synced member in %s", nick)
	return graphemu.User{}
}
