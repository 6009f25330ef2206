package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
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
// tenants: every sample group in scope, the emulator as both tenants' Graph,
// the webhook on listen.
func demoConfig(em *graphemu.Emulator, dir, listen string) (*config.Config, error) {
	ca := filepath.Join(dir, "emulator-ca.pem")
	if err := em.CA().WriteFile(ca); err != nil {
		return nil, err
	}
	return config.Parse([]byte(demoConfigDoc(em, dir, listen, "127.0.0.1:0")), os.LookupEnv)
}

// demoConfigDoc is the demo's configuration file, with serve's admin
// listener at admin.
func demoConfigDoc(em *graphemu.Emulator, dir, listen, admin string) string {
	ca := filepath.Join(dir, "emulator-ca.pem")
	var ids []string
	for _, g := range em.Groups(graphemu.SampleSourceTenant) {
		ids = append(ids, g.ID)
	}
	doc := fmt.Sprintf(`source: {tenant_id: %s, client_id: %s, client_secret: %q, graph_endpoint: %s, authority_host: %s, ca_file: %s}
target: {tenant_id: %s, client_id: %s, client_secret: %q, graph_endpoint: %s, authority_host: %s, ca_file: %s}
scope: {groups: [%s]}
state: {path: %s}
server: {listen: %q, public_url: "http://%s/xtsync", admin_listen: %q}
`, graphemu.SampleSourceTenant, graphemu.SampleSourceClientID, graphemu.SampleSourceSecret, em.URL(), em.URL(), ca,
		graphemu.SampleTargetTenant, graphemu.SampleTargetClientID, graphemu.SampleTargetSecret, em.URL(), em.URL(), ca,
		strings.Join(ids, ", "), filepath.Join(dir, "xtsync.db"), listen, listen, admin)
	return doc
}

// demoStep is one change of the demo story: in the source, or in the
// target (target: xtsync watches the mirrors too, and the mirror pass puts
// them back; no reconcile runs).
type demoStep struct {
	title  string
	change func() error
	target bool
	// via, when set, is how the step converges (else by target).
	via string
}

type stepResult struct {
	title string
	via   string
	took  time.Duration
}

// runDemoServe runs serve mode against the emulator, shows the initial sync,
// then plays the story: after each change it waits until the target mirrors
// the source exactly and prints the time that took.
func runDemoServe(ctx context.Context, w io.Writer, log *slog.Logger, em *graphemu.Emulator, dir string) (*server, *config.Config, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, nil, err
	}
	cfg, err := demoConfig(em, dir, ln.Addr().String())
	if err != nil {
		ln.Close()
		return nil, nil, fmt.Errorf("demo config: %w", err)
	}
	fmt.Fprintln(w, "\nServe: xtsync runs against the emulator")
	fmt.Fprintln(w, "---------------------------------------")
	fmt.Fprintf(w, "webhook %s/notifications; Graph validates it, then notifies changes of the 11 source groups\n", cfg.Server.PublicURL)
	start := time.Now()
	srv, err := startServer(ctx, cfg, log, ln)
	if err != nil {
		return nil, nil, err
	}
	fmt.Fprintln(w, "\n* initial sync of 11 groups into the empty target (the reconcile serve runs at start)")
	lastShown := -1
	took, err := waitMirror(ctx, em, cfg.Scope.Groups, 60*time.Second, func() {
		n := mirrored(em, cfg.Scope.Groups)
		if n != lastShown {
			lastShown = n
			fmt.Fprintf(w, "     %d/10 groups mirrored (%s)\n", n, time.Since(start).Round(time.Millisecond))
		}
	})
	if err != nil {
		srv.Close()
		return nil, nil, fmt.Errorf("initial sync: %w", err)
	}
	fmt.Fprintf(w, "  -> converged in %s: %d users invited, %d groups created\n", took.Round(time.Millisecond), len(em.Users(graphemu.SampleTargetTenant)), len(em.Groups(graphemu.SampleTargetTenant)))
	fmt.Fprintln(w, "     skipped \"Announcements\": a distribution list (Exchange manages its members)")
	fmt.Fprintln(w, "     skipped in \"Platform Team\": the nested group SRE (nested_groups: skip)")
	fmt.Fprintln(w, "     skipped in \"Partner Project\": the source's guest Kim Akers (guests are not synced)")
	// The story's changes are notified: wait for serve's subscriptions,
	// one per scoped group and the users one on the source, one per
	// mirror and the users one on the target.
	if err := waitSubscribed(ctx, em, cfg.Scope.Groups, 30*time.Second); err != nil {
		srv.Close()
		return nil, nil, err
	}
	results := []stepResult{{"initial sync of 11 groups", "reconcile at start", took}}
	for _, st := range demoStory(em) {
		fmt.Fprintf(w, "\n* %s\n", st.title)
		t0 := time.Now()
		if err := st.change(); err != nil {
			srv.Close()
			return nil, nil, fmt.Errorf("%s: %w", st.title, err)
		}
		via := "change notification, delta pass"
		if st.target {
			via = "target's notification, mirror pass"
		}
		if st.via != "" {
			via = st.via
		}
		if _, err := waitMirror(ctx, em, cfg.Scope.Groups, 30*time.Second, nil); err != nil {
			srv.Close()
			return nil, nil, fmt.Errorf("%s: %w", st.title, err)
		}
		r := stepResult{title: st.title, via: via, took: time.Since(t0)}
		results = append(results, r)
		fmt.Fprintf(w, "  -> converged in %s via %s\n", r.took.Round(time.Millisecond), r.via)
	}
	// Let the work the story queued finish (notifications of xtsync's own
	// writes, their passes) before counting and stopping, so that the
	// totals are final and no write is cut off.
	idle, cancel := context.WithTimeout(ctx, 30*time.Second)
	if err := srv.queue.WaitIdle(idle); err != nil {
		log.Warn("the queue is still busy after the story", "err", err)
	}
	cancel()
	fmt.Fprintln(w, "\nSummary")
	fmt.Fprintln(w, "-------")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "STEP\tHOW\tCHANGE TO CONVERGED")
	for _, r := range results {
		fmt.Fprintf(tw, "%s\t%s\t%s\n", r.title, r.via, r.took.Round(time.Millisecond))
	}
	_ = tw.Flush()
	s, d := em.Stats(graphemu.SampleSourceTenant), em.Stats(graphemu.SampleTargetTenant)
	fmt.Fprintf(w, "\nGraph operations: %d on Contoso, %d on Fabrikam (%d writes); notifications delivered: %d\n", s.Ops(), d.Ops(), d.Writes(), em.DeliveryStats().Delivered)
	fmt.Fprintln(w, "Every step ended with the target mirroring the source exactly (checked group by group).")
	return srv, cfg, nil
}

// waitSubscribed waits, up to limit, until the source has a subscription
// per scoped group and one on /users, and the target one per mirror and
// one on /users.
func waitSubscribed(ctx context.Context, em *graphemu.Emulator, scope []string, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for {
		mirrors := 0
		for _, sid := range scope {
			if _, ok := mirrorOf(em, sid); ok {
				mirrors++
			}
		}
		src, dst := len(em.Subscriptions(graphemu.SampleSourceTenant)), len(em.Subscriptions(graphemu.SampleTargetTenant))
		if src == len(scope)+1 && dst == mirrors+1 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("subscriptions: %d on the source and %d on the target after %s, want %d and %d", src, dst, limit, len(scope)+1, mirrors+1)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// mirrored counts the scoped groups whose mirror is exact.
func mirrored(em *graphemu.Emulator, scope []string) int {
	n := 0
	for _, id := range scope {
		if g, ok := em.Group(graphemu.SampleSourceTenant, id); ok && !g.IsDistributionList() && verifyMirror(em, []string{id}) == nil {
			n++
		}
	}
	return n
}

// waitMirror polls until the target mirrors the source, calling tick on the
// way; it returns how long that took.
func waitMirror(ctx context.Context, em *graphemu.Emulator, scope []string, limit time.Duration, tick func()) (time.Duration, error) {
	start := time.Now()
	for {
		err := verifyMirror(em, scope)
		if err == nil {
			return time.Since(start), nil
		}
		if time.Since(start) > limit {
			return 0, fmt.Errorf("not converged after %s: %w", limit, err)
		}
		if tick != nil {
			tick()
		}
		select {
		case <-ctx.Done():
			return 0, ctx.Err()
		case <-time.After(5 * time.Millisecond):
		}
	}
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
		{title: "Contoso: Nina Larsen joins Engineering", change: func() error {
			return em.AddMember(src, sampleGroupID(em, "engineering"), sampleUserID(em, "ninal"))
		}},
		{title: "Contoso: Lidia Holloway leaves Sales", change: func() error {
			return em.RemoveMember(src, sampleGroupID(em, "sales"), sampleUserID(em, "lidiah"))
		}},
		{title: "Contoso: Finance is renamed Finance & Legal", change: func() error {
			return em.UpdateGroup(src, sampleGroupID(em, "finance"), func(g *graphemu.Group) { g.DisplayName = "Finance & Legal" })
		}},
		{title: "Fabrikam: an admin adds a rogue account to mirrored Engineering", target: true, change: func() error {
			u, err := em.CreateUser(dst, graphemu.User{UserPrincipalName: "mallory@" + graphemu.SampleTargetDomain, Mail: "mallory@fabrikam.com", AccountEnabled: true})
			if err != nil {
				return err
			}
			g, _ := mirrorOf(em, sampleGroupID(em, "engineering"))
			return em.AddMember(dst, g.ID, u.ID)
		}},
		{title: "Fabrikam: an admin renames mirrored Sales", target: true, change: func() error {
			g, _ := mirrorOf(em, sampleGroupID(em, "sales"))
			return em.UpdateGroup(dst, g.ID, func(g *graphemu.Group) { g.DisplayName = "Sales (old)" })
		}},
		{title: "Fabrikam: an admin deletes mirrored Marketing Team", target: true, change: func() error {
			g, _ := mirrorOf(em, sampleGroupID(em, "marketing"))
			return em.DeleteGroup(dst, g.ID)
		}},
		{title: "Contoso: Adele Vance's account is disabled", via: "change notification, users delta pass", change: func() error {
			off := false
			return em.UpdateUser(src, sampleUserID(em, "adelev"), graphemu.UserUpdate{AccountEnabled: &off})
		}},
		{title: "Fabrikam: an admin enables Adele's guest account again", target: true, via: "target's notification, target users pass", change: func() error {
			on := true
			return em.UpdateUser(dst, targetUserOf(em, sampleUserID(em, "adelev")), graphemu.UserUpdate{AccountEnabled: &on})
		}},
		{title: "Contoso: SRE (nested in Platform Team) gets a new member", change: func() error {
			return em.AddMember(src, sampleGroupID(em, "sre"), sampleUserID(em, "priyan"))
		}},
		{title: "Contoso: Partner Project's guest leaves, a member joins", change: func() error {
			pp := sampleGroupID(em, "partnerproject")
			if err := em.RemoveMember(src, pp, sampleUserID(em, "kim_northwind.com#EXT#")); err != nil {
				return err
			}
			return em.AddMember(src, pp, sampleUserID(em, "marcob"))
		}},
	}
}

// targetUserOf is the id of the target user carrying source user
// sourceID's link ("" when none).
func targetUserOf(em *graphemu.Emulator, sourceID string) string {
	link := engine.LinkValue(graphemu.SampleSourceTenant, sourceID)
	for _, u := range em.Users(graphemu.SampleTargetTenant) {
		if u.ExtensionAttributes[engine.DefaultLinkAttribute] == link {
			return u.ID
		}
	}
	return ""
}

// verifyMirror checks every scoped syncable group: its mirror exists, is a
// plain security group with the source's name, and holds exactly the
// source's direct non-guest user members (by mail), each signing in as
// its source user does (accountEnabled).
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
		enabled := map[string]bool{}
		for _, m := range sg.Members {
			if u, ok := em.User(src, m); ok && u.UserType != "Guest" {
				want = append(want, strings.ToLower(u.Mail))
				enabled[strings.ToLower(u.Mail)] = u.AccountEnabled
			}
		}
		for _, m := range tg.Members {
			u, _ := em.User(dst, m)
			got = append(got, strings.ToLower(u.Mail))
			if on, ok := enabled[strings.ToLower(u.Mail)]; ok && on != u.AccountEnabled {
				return fmt.Errorf("%s in the mirror of %s: enabled %t, its source user %t", u.Mail, sg.DisplayName, u.AccountEnabled, on)
			}
		}
		slices.Sort(want)
		slices.Sort(got)
		if !slices.Equal(want, got) {
			return fmt.Errorf("members of %s: mirror has %v, source has %v", sg.DisplayName, got, want)
		}
	}
	return nil
}
