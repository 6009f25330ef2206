package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/xtsync/xtsync/pkg/config"
	"github.com/xtsync/xtsync/pkg/engine"
	"github.com/xtsync/xtsync/pkg/graphemu"
)

// demoConfig is the configuration a user would write for the sample
// tenants: every sample group in scope, the emulator as both clouds' Graph.
func demoConfig(em *graphemu.Emulator, dir string) (*config.Config, error) {
	ca := filepath.Join(dir, "emulator-ca.pem")
	if err := em.CA().WriteFile(ca); err != nil {
		return nil, err
	}
	var ids []string
	for _, g := range em.Groups(graphemu.SampleSourceTenant) {
		ids = append(ids, g.ID)
	}
	doc := fmt.Sprintf(`source: {tenant_id: %s, client_id: %s, client_secret: %q, graph_endpoint: %s, authority_host: %s, ca_file: %s}
target: {tenant_id: %s, client_id: %s, client_secret: %q, graph_endpoint: %s, authority_host: %s, ca_file: %s}
scope: {groups: [%s]}
state: {path: %s}
`, graphemu.SampleSourceTenant, graphemu.SampleSourceClientID, graphemu.SampleSourceSecret, em.URL(), em.URL(), ca,
		graphemu.SampleTargetTenant, graphemu.SampleTargetClientID, graphemu.SampleTargetSecret, em.URL(), em.URL(), ca,
		strings.Join(ids, ", "), filepath.Join(dir, "xtsync.db"))
	return config.Parse([]byte(doc), os.LookupEnv)
}

// demoStep is one change of the demo story and how the sync answers it.
type demoStep struct {
	title  string
	change func() error
}

type stepResult struct {
	title    string
	outcome  string
	requests int
	took     time.Duration
}

// runDemoSync mirrors the sample source into the target with the real
// engine, then plays a story of changes on both sides, checking after each
// that the target mirrors the source exactly.
func runDemoSync(ctx context.Context, w io.Writer, log *slog.Logger, em *graphemu.Emulator) error {
	dir, err := os.MkdirTemp("", "xtsync-demo-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	cfg, err := demoConfig(em, dir)
	if err != nil {
		return fmt.Errorf("demo config: %w", err)
	}
	s, err := newSyncer(cfg, log)
	if err != nil {
		return err
	}
	defer s.Close()

	var results []stepResult
	sync := func(title string) error {
		start := time.Now()
		before := s.src.Counter().Total() + s.dst.Counter().Total()
		rep, err := s.eng.Reconcile(ctx, engine.RunOptions{Progress: demoProgress(w)})
		if err != nil {
			return fmt.Errorf("%s: %w", title, err)
		}
		took := time.Since(start)
		if err := verifyMirror(em, cfg.Scope.Groups); err != nil {
			return fmt.Errorf("%s: not converged: %w", title, err)
		}
		r := stepResult{title: title, outcome: describe(rep), requests: s.src.Counter().Total() + s.dst.Counter().Total() - before, took: took}
		results = append(results, r)
		fmt.Fprintf(w, "  -> %s\n  -> converged in %s with %d Graph requests\n", r.outcome, r.took.Round(time.Millisecond), r.requests)
		if title == "initial sync" {
			for _, sk := range rep.Plan.Skipped {
				fmt.Fprintf(w, "     skipped %q: %s\n", sk.Name, sk.Reason)
			}
		}
		return nil
	}

	fmt.Fprintln(w, "\nSync: the engine mirrors every sample group into Fabrikam")
	fmt.Fprintln(w, "---------------------------------------------------------")
	fmt.Fprintln(w, "\n* initial sync of 11 groups into the empty target")
	if err := sync("initial sync"); err != nil {
		return err
	}
	for _, st := range demoStory(em) {
		fmt.Fprintf(w, "\n* %s\n", st.title)
		if err := st.change(); err != nil {
			return fmt.Errorf("%s: %w", st.title, err)
		}
		if err := sync(st.title); err != nil {
			return err
		}
	}

	fmt.Fprintln(w, "\nSummary")
	fmt.Fprintln(w, "-------")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "STEP\tRESULT\tGRAPH REQUESTS\tTO CONVERGED")
	for _, r := range results {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\n", r.title, r.outcome, r.requests, r.took.Round(time.Millisecond))
	}
	_ = tw.Flush()
	fmt.Fprintln(w, "\nEvery step ended with the target mirroring the source exactly (checked group by group).")
	return nil
}

func demoProgress(w io.Writer) func(engine.Progress) {
	return func(p engine.Progress) {
		if p.Stage == "apply" && p.Total >= 40 && p.Done%(p.Total/4) == 0 {
			fmt.Fprintf(w, "     applying: %d/%d actions\n", p.Done, p.Total)
		}
	}
}

// describe summarises what a run changed.
func describe(rep *engine.Report) string {
	s := rep.Summary
	var parts []string
	add := func(n int, noun, verb string) {
		if n > 0 {
			parts = append(parts, plural(n, noun)+" "+verb)
		}
	}
	add(s.GroupsCreated, "group", "created")
	add(s.GroupsUpdated, "group", "renamed")
	add(s.GroupsRestored, "group", "restored")
	add(s.GroupsDeleted, "group", "deleted")
	add(s.UsersInvited, "user", "invited")
	add(s.MembersAdded, "member", "added")
	add(s.MembersRemoved, "member", "removed")
	add(s.UsersDeleted, "user", "deleted")
	if len(parts) == 0 {
		return "no change needed"
	}
	return strings.Join(parts, ", ")
}

func sampleGroupID(em *graphemu.Emulator, nick string) string {
	for _, g := range em.Groups(graphemu.SampleSourceTenant) {
		if g.MailNickname == nick {
			return g.ID
		}
	}
	return ""
}

func sampleUserID(em *graphemu.Emulator, upnPrefix string) string {
	for _, u := range em.Users(graphemu.SampleSourceTenant) {
		if strings.HasPrefix(u.UserPrincipalName, upnPrefix+"@") {
			return u.ID
		}
	}
	return ""
}

// mirrorOf is the target group mirroring a source group.
func mirrorOf(em *graphemu.Emulator, sourceID string) (graphemu.Group, bool) {
	for _, g := range em.Groups(graphemu.SampleTargetTenant) {
		if g.MailNickname == engine.TargetNickname(sourceID) {
			return g, true
		}
	}
	return graphemu.Group{}, false
}

// demoStory is the scripted story: changes in the source, and tampering in
// the target that the source, being authoritative, reverts.
func demoStory(em *graphemu.Emulator) []demoStep {
	src, dst := graphemu.SampleSourceTenant, graphemu.SampleTargetTenant
	return []demoStep{
		{"Contoso: Nina Larsen joins Engineering", func() error {
			return em.AddMember(src, sampleGroupID(em, "engineering"), sampleUserID(em, "ninal"))
		}},
		{"Contoso: Lidia Holloway leaves Sales", func() error {
			return em.RemoveMember(src, sampleGroupID(em, "sales"), sampleUserID(em, "lidiah"))
		}},
		{"Contoso: Finance is renamed Finance & Legal", func() error {
			return em.UpdateGroup(src, sampleGroupID(em, "finance"), func(g *graphemu.Group) { g.DisplayName = "Finance & Legal" })
		}},
		{"Fabrikam: an admin adds a rogue account to mirrored Engineering", func() error {
			u, err := em.CreateUser(dst, graphemu.User{UserPrincipalName: "mallory@" + graphemu.SampleTargetDomain, Mail: "mallory@fabrikam.com", AccountEnabled: true})
			if err != nil {
				return err
			}
			g, _ := mirrorOf(em, sampleGroupID(em, "engineering"))
			return em.AddMember(dst, g.ID, u.ID)
		}},
		{"Fabrikam: an admin renames mirrored Sales", func() error {
			g, _ := mirrorOf(em, sampleGroupID(em, "sales"))
			return em.UpdateGroup(dst, g.ID, func(g *graphemu.Group) { g.DisplayName = "Sales (old)" })
		}},
		{"Fabrikam: an admin deletes mirrored Marketing Team", func() error {
			g, _ := mirrorOf(em, sampleGroupID(em, "marketing"))
			return em.DeleteGroup(dst, g.ID)
		}},
		{"Contoso: SRE gets a new member (nested in Platform Team: skipped there)", func() error {
			return em.AddMember(src, sampleGroupID(em, "sre"), sampleUserID(em, "priyan"))
		}},
	}
}

// verifyMirror checks every scoped syncable group: its mirror exists, is a
// plain security group with the source's name, and holds exactly the
// source's direct non-guest user members (by mail).
func verifyMirror(em *graphemu.Emulator, scope []string) error {
	src, dst := graphemu.SampleSourceTenant, graphemu.SampleTargetTenant
	for _, sid := range scope {
		sg, ok := em.Group(src, sid)
		if !ok || sg.IsDistributionList() {
			continue
		}
		tg, ok := mirrorOf(em, sid)
		if !ok {
			return fmt.Errorf("%s has no mirror", sg.DisplayName)
		}
		if tg.DisplayName != sg.DisplayName || !tg.SecurityEnabled || tg.MailEnabled {
			return fmt.Errorf("mirror of %s is %q (security %t, mail %t)", sg.DisplayName, tg.DisplayName, tg.SecurityEnabled, tg.MailEnabled)
		}
		var want, got []string
		for _, m := range sg.Members {
			if u, ok := em.User(src, m); ok && u.UserType != "Guest" {
				want = append(want, strings.ToLower(u.Mail))
			}
		}
		for _, m := range tg.Members {
			u, _ := em.User(dst, m)
			got = append(got, strings.ToLower(u.Mail))
		}
		slices.Sort(want)
		slices.Sort(got)
		if !slices.Equal(want, got) {
			return fmt.Errorf("members of %s: mirror has %v, source has %v", sg.DisplayName, got, want)
		}
	}
	return nil
}
