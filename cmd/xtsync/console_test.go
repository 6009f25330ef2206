package main

import (
	"context"
	"encoding/csv"
	"fmt"
	"html"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/xtsync/xtsync/internal/testlog"
	"github.com/xtsync/xtsync/internal/waitfor"
	"github.com/xtsync/xtsync/pkg/config"
	"github.com/xtsync/xtsync/pkg/graphemu"
)

// consoleClient talks to a console as a browser on its own origin would,
// without following redirects.
type consoleClient struct {
	t    *testing.T
	base string
	// header is sent with every request (a bearer token).
	header http.Header
}

func newConsoleClient(t *testing.T, addr string) *consoleClient {
	return &consoleClient{t: t, base: "http://" + addr, header: http.Header{}}
}

func (c *consoleClient) do(req *http.Request) (*http.Response, string) {
	c.t.Helper()
	for k, v := range c.header {
		req.Header[k] = v
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }, Timeout: 60 * time.Second}
	resp, err := client.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		c.t.Fatal(err)
	}
	return resp, string(b)
}

// get GETs path and fails unless the answer is want.
func (c *consoleClient) get(path string, want int) (*http.Response, string) {
	c.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, c.base+path, nil)
	resp, body := c.do(req)
	if resp.StatusCode != want {
		c.t.Fatalf("GET %s: %d, want %d\n%s", path, resp.StatusCode, want, body)
	}
	return resp, body
}

// post submits a form to path; site is the Sec-Fetch-Site a browser
// would send ("same-origin", "cross-site").
func (c *consoleClient) post(path string, form url.Values, site string) (*http.Response, string) {
	c.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, c.base+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	origin := c.base
	if site == "cross-site" {
		origin = "https://evil.example"
	}
	req.Header.Set("Origin", origin)
	req.Header.Set("Sec-Fetch-Site", site)
	return c.do(req)
}

var (
	csrfRe  = regexp.MustCompile(`name="csrf" value="([0-9a-f]+)"`)
	groupRe = regexp.MustCompile(`(?s)<tr data-group="([^"]+)">(.*?)</tr>`)
	cellRe  = regexp.MustCompile(`(?s)<td class="([a-z-]+)">(.*?)</td>`)
	tagRe   = regexp.MustCompile(`<[^>]*>`)
	lagRe   = regexp.MustCompile(`^[0-9.]+(ms|s|m[0-9.]+s) \(the last change\)$`)
)

// csrfOf is the CSRF token of a page's forms.
func csrfOf(t *testing.T, body string) string {
	t.Helper()
	m := csrfRe.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no CSRF token in the page:\n%s", body)
	}
	return m[1]
}

// overviewRows are the overview's groups: source id -> cell class -> text.
func overviewRows(body string) map[string]map[string]string {
	rows := map[string]map[string]string{}
	for _, m := range groupRe.FindAllStringSubmatch(body, -1) {
		cells := map[string]string{}
		for _, c := range cellRe.FindAllStringSubmatch(m[2], -1) {
			cells[c[1]] = strings.TrimSpace(html.UnescapeString(tagRe.ReplaceAllString(c[2], "")))
		}
		rows[m[1]] = cells
	}
	return rows
}

// TestConsoleServePages: the console of a running serve shows what status
// shows (a row per scoped group with its mirror), filters the log, serves
// it as CSV, explains a user; its sync form runs a sync that the deletion
// guard holds, the halt page shows the held plan, and its approve form
// lifts the halt and the mirror converges; the charts show the traffic.
func TestConsoleServePages(t *testing.T) {
	var users []graphemu.User
	env, srv := startServeScope(t, []string{"engineering", "finance", "sales"}, "sync: {deletion_threshold: 5}\n", nil, func(env *reconcileEnv) { users = engineeringUsers(t, env, 12, "") })
	must(t, srv.queue.WaitIdle(context.Background()))
	c := newConsoleClient(t, srv.adminAddr)
	src := graphemu.SampleSourceTenant
	eng, fin := env.nick["engineering"], env.nick["finance"]

	// Overview: one row per scoped group, with its mirror.
	_, body := c.get("/", http.StatusOK)
	rows := overviewRows(body)
	if len(rows) != len(srv.cfg.Scope.Groups) {
		t.Fatalf("overview: %d group rows, want %d\n%s", len(rows), len(srv.cfg.Scope.Groups), body)
	}
	for _, gid := range srv.cfg.Scope.Groups {
		m, ok := mirrorOf(env.em, gid)
		sg, _ := env.em.Group(src, gid)
		if r := rows[gid]; !ok || r["target"] != m.ID || r["name"] != sg.DisplayName || r["target-name"] != m.DisplayName || r["members"] != strconv.Itoa(len(m.Members)) || r["source-members"] != strconv.Itoa(len(sg.Members)) || r["last-sync"] == "never" || r["lag"] != "-" {
			t.Errorf("overview row of %s: %v; want target %s %q, name %q, members %d in the source, %d in the mirror, no lag yet", gid, r, m.ID, m.DisplayName, sg.DisplayName, len(sg.Members), len(m.Members))
		}
	}
	for _, id := range []string{`id="subscriptions"`, `id="queue"`, `id="guard"`, `<nav`, `href="/charts"`, `id="user-search"`} {
		if !strings.Contains(body, id) {
			t.Errorf("overview lacks %s", id)
		}
	}
	if strings.Contains(body, `id="halt-link"`) {
		t.Error("overview links a halt before any")
	}

	// The log, and its filters.
	_, all := c.get("/log", http.StatusOK)
	_, finOnly := c.get("/log?group="+fin, http.StatusOK)
	nAll, nFin := strings.Count(all, `<tr class="entry">`), strings.Count(finOnly, `<tr class="entry">`)
	if nFin == 0 || nFin >= nAll {
		t.Errorf("log: %d entries, %d of finance; want 0 < finance < all", nAll, nFin)
	}
	for _, row := range regexp.MustCompile(`(?s)<tr class="entry">.*?</tr>`).FindAllString(finOnly, -1) {
		if !strings.Contains(row, fin) {
			t.Errorf("the finance filter let through %s", row)
		}
	}
	if _, bad := c.get("/log?since=yesterday", http.StatusBadRequest); !strings.Contains(bad, "--since &#34;yesterday&#34; is neither") {
		t.Errorf("a bad filter does not show its error:\n%s", bad)
	}
	// The CSV export of the same filters.
	m := regexp.MustCompile(`<a id="csv" href="([^"]+)"`).FindStringSubmatch(finOnly)
	if m == nil || html.UnescapeString(m[1]) != "/log.csv?group="+fin {
		t.Fatalf("log: CSV link %v, want /log.csv?group=%s", m, fin)
	}
	resp, text := c.get(html.UnescapeString(m[1]), http.StatusOK)
	recs, err := csv.NewReader(strings.NewReader(text)).ReadAll()
	if err != nil || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/csv") || !strings.HasPrefix(resp.Header.Get("Content-Disposition"), "attachment") {
		t.Fatalf("CSV: %v, %v\n%s", err, resp.Header, text)
	}
	if !slices.Equal(recs[0], auditCSVHeader()) || len(recs) != nFin+1 {
		t.Errorf("CSV: header %v and %d rows, want %d", recs[0], len(recs)-1, nFin)
	}

	// A user's explanation, linked from the log.
	if !strings.Contains(all, `href="/user?user=`) {
		t.Error("the log links no user")
	}
	_, body = c.get("/user?user="+url.QueryEscape(users[0].Mail), http.StatusOK)
	if !strings.Contains(body, `<section id="explain"`) || !strings.Contains(body, users[0].ID) || !strings.Contains(body, "Engineering") {
		t.Errorf("user page of %s:\n%s", users[0].Mail, body)
	}
	if _, body := c.get("/user?user=x@example.com&group=not-a-guid", http.StatusBadRequest); !strings.Contains(body, "is not a group object id") {
		t.Errorf("user page with a bad group:\n%s", body)
	}

	// Empty engineering and sync it from the console: the guard holds it.
	// The removals' notifications are lost, so that the halt comes from the
	// console's sync, not from a delta pass before it.
	must(t, env.em.SetFaults(src, graphemu.Faults{NotifyDropRate: 1}))
	for _, u := range users {
		must(t, env.em.RemoveMember(src, eng, u.ID))
	}
	_, body = c.get("/halt", http.StatusOK)
	if !strings.Contains(body, "nothing held") || !strings.Contains(body, `<form id="sync"`) || strings.Contains(body, `id="approve"`) {
		t.Errorf("halt page without a halt:\n%s", body)
	}
	resp, _ = c.post("/console/sync", url.Values{"csrf": {csrfOf(t, body)}, "group": {eng}}, "same-origin")
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("sync form: %d, want 303", resp.StatusCode)
	}
	_, body = c.get("/", http.StatusOK)
	if !strings.Contains(body, "held by the deletion guard") || !strings.Contains(body, `<a id="halt-link" href="/halt">`) || overviewRows(body)[eng]["note"] == "" {
		t.Fatalf("overview after the held sync:\n%s", body)
	}
	if mg, _ := mirrorOf(env.em, eng); len(mg.Members) != 12 {
		t.Fatalf("the guard let removals through: %d members, want 12", len(mg.Members))
	}

	// The halt page: the halt and its plan; approve.
	_, body = c.get("/halt", http.StatusOK)
	if !strings.Contains(body, `<p id="halt" class="held">Deletion guard: HOLDING`) || !strings.Contains(body, `<table id="plan">`) || !strings.Contains(body, "remove-members") {
		t.Fatalf("halt page:\n%s", body)
	}
	resp, _ = c.post("/console/approve", url.Values{"csrf": {csrfOf(t, body)}}, "same-origin")
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/halt" {
		t.Fatalf("approve form: %d to %q, want 303 to /halt", resp.StatusCode, resp.Header.Get("Location"))
	}
	if g := guardOf(t, srv); g.Halt != nil {
		t.Errorf("the approval left the halt: %+v", g.Halt)
	}
	if mg, _ := mirrorOf(env.em, eng); len(mg.Members) != 0 {
		t.Errorf("after the approval the mirror has %d members, want 0", len(mg.Members))
	}
	_, body = c.get("/halt", http.StatusOK)
	if !strings.Contains(body, "nothing held") || !strings.Contains(body, "approved: ") {
		t.Errorf("halt page after the approval:\n%s", body)
	}
	waitfor.WaitFor(t, 20*time.Second, "converged", func() bool {
		return srv.queue.Stats().Pending == 0 && verifyMirror(env.em, srv.cfg.Scope.Groups) == nil
	})

	// A notified change: its row shows the new counts and the lag.
	must(t, env.em.SetFaults(src, graphemu.Faults{}))
	newcomer, err := env.em.CreateUser(src, graphemu.User{UserPrincipalName: "newcomer@contoso.onmicrosoft.com", Mail: "newcomer@contoso.com", AccountEnabled: true})
	must(t, err)
	must(t, env.em.AddMember(src, fin, newcomer.ID))
	waitfor.WaitFor(t, 20*time.Second, "the newcomer mirrored", func() bool {
		return verifyMirror(env.em, []string{fin}) == nil && srv.queue.Idle()
	})
	_, body = c.get("/", http.StatusOK)
	sg, _ := env.em.Group(src, fin)
	mg, _ := mirrorOf(env.em, fin)
	if r := overviewRows(body)[fin]; r["source-members"] != strconv.Itoa(len(sg.Members)) || r["members"] != strconv.Itoa(len(mg.Members)) || !lagRe.MatchString(r["lag"]) {
		t.Errorf("finance after a notified addition: %v; want %d in the source, %d in the mirror, a lag", r, len(sg.Members), len(mg.Members))
	}

	// Charts: a sample after the work above.
	srv.history.Record(time.Now())
	_, body = c.get("/charts", http.StatusOK)
	if !strings.Contains(body, `<section id="charts"`) || strings.Count(body, "<svg") != 6 {
		t.Fatalf("charts: want the section and 6 charts\n%s", body)
	}
	req := regexp.MustCompile(`(?s)<figure class="chart" id="chart-requests">.*?</figure>`).FindString(body)
	if pts := regexp.MustCompile(`points="([^"]+)"`).FindStringSubmatch(req); pts == nil || !positiveY(pts[1]) {
		t.Errorf("the requests chart has no line above 0:\n%s", req)
	}
	totals := regexp.MustCompile(`</span>(source|target)</td><td>[^<]*</td><td>[^<]*</td><td>([0-9.]+)</td>`).FindAllStringSubmatch(req, -1)
	if len(totals) != 2 {
		t.Fatalf("the requests table: %v\n%s", totals, req)
	}
	for _, m := range totals {
		if n, _ := strconv.ParseFloat(m[2], 64); n <= 0 {
			t.Errorf("the requests table shows %s requests for %s, want > 0", m[2], m[1])
		}
	}
}

// positiveY reports whether a polyline has a point above the x axis.
func positiveY(points string) bool {
	for _, p := range strings.Fields(points) {
		_, y, _ := strings.Cut(p, ",")
		if v, err := strconv.ParseFloat(y, 64); err == nil && v < plotB {
			return true
		}
	}
	return false
}

// TestConsoleRefusesForgedPosts: a cross-origin post to the console, a
// post without its form's CSRF token and a post to the CLI's routes
// without the operator header are refused and write nothing.
func TestConsoleRefusesForgedPosts(t *testing.T) {
	env, srv := startServeScope(t, []string{"finance"}, "", nil, nil)
	must(t, srv.queue.WaitIdle(context.Background()))
	fin := env.nick["finance"]
	// The rename's notification is lost: only a sync applies it.
	must(t, env.em.SetFaults(graphemu.SampleSourceTenant, graphemu.Faults{NotifyDropRate: 1}))
	must(t, env.em.UpdateGroup(graphemu.SampleSourceTenant, fin, func(g *graphemu.Group) { g.DisplayName += " (renamed)" }))
	c := newConsoleClient(t, srv.adminAddr)
	_, body := c.get("/halt", http.StatusOK)
	token := csrfOf(t, body)
	writes := env.em.Stats(graphemu.SampleTargetTenant).Writes()
	for _, tt := range []struct {
		name, path string
		form       url.Values
		site       string
	}{
		{"cross-site sync", "/console/sync", url.Values{"csrf": {token}, "group": {fin}}, "cross-site"},
		{"cross-site approve", "/console/approve", url.Values{"csrf": {token}}, "cross-site"},
		{"sync without the token", "/console/sync", url.Values{"group": {fin}}, "same-origin"},
		{"sync with another token", "/console/sync", url.Values{"csrf": {strings.Repeat("0", len(token))}, "group": {fin}}, "same-origin"},
		{"approve without the token", "/console/approve", nil, "same-origin"},
		{"CLI sync without its header", "/sync?group=" + fin, nil, "same-origin"},
	} {
		if resp, body := c.post(tt.path, tt.form, tt.site); resp.StatusCode != http.StatusForbidden {
			t.Errorf("%s: %d, want 403\n%s", tt.name, resp.StatusCode, body)
		}
	}
	if got := env.em.Stats(graphemu.SampleTargetTenant).Writes(); got != writes {
		t.Errorf("the refused posts wrote %d times", got-writes)
	}
	if mg, _ := mirrorOf(env.em, fin); strings.HasSuffix(mg.DisplayName, "(renamed)") {
		t.Errorf("a refused post synced finance: %q", mg.DisplayName)
	}
	// The same sync, same-origin with the token, runs.
	if resp, _ := c.post("/console/sync", url.Values{"csrf": {token}, "group": {fin}}, "same-origin"); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("sync: %d, want 303", resp.StatusCode)
	}
	if mg, _ := mirrorOf(env.em, fin); !strings.HasSuffix(mg.DisplayName, "(renamed)") {
		t.Errorf("the console's sync left finance's mirror %q", mg.DisplayName)
	}
}

// TestConsoleAdminToken: serve on an admin listener that is not loopback
// refuses to start without XTSYNC_ADMIN_TOKEN, naming it; with it, a
// request without the token is refused and one with it (bearer, or the
// cookie of /login) served, and the CLI sends it.
func TestConsoleAdminToken(t *testing.T) {
	_, port, _ := net.SplitHostPort(freeAddr(t))
	listen := freeAddr(t)
	env := newReconcileEnv(t, []string{"finance"}, fmt.Sprintf("server: {listen: %q, public_url: \"http://%s/xtsync\", admin_listen: \"0.0.0.0:%s\"}\n", listen, listen, port))
	cfg, err := config.Load(env.cfg)
	must(t, err)
	log := testlog.New(t, slog.LevelInfo)
	t.Setenv(adminTokenEnv, "")
	if _, err := startServer(context.Background(), cfg, log, nil); err == nil || !strings.Contains(err.Error(), adminTokenEnv+" is not set") {
		t.Fatalf("serve on 0.0.0.0 without the token: %v, want a refusal naming %s", err, adminTokenEnv)
	}
	if code, _, errs := xtsync(t, "serve", "--config", env.cfg); code != exitUsage || !strings.Contains(errs, adminTokenEnv) {
		t.Errorf("xtsync serve without the token: exit %d, %q; want %d naming %s", code, errs, exitUsage, adminTokenEnv)
	}

	const secret = "s3cret-admin-token-0123456789abcdef"
	t.Setenv(adminTokenEnv, secret)
	srv, err := startServer(context.Background(), cfg, log, nil)
	must(t, err)
	t.Cleanup(func() { must(t, srv.Close()) })
	c := newConsoleClient(t, "127.0.0.1:"+port)
	for _, path := range []string{"/", "/log", "/status"} {
		if _, body := c.get(path, http.StatusUnauthorized); strings.Contains(body, secret) {
			t.Errorf("%s echoes the token", path)
		}
	}
	c.header.Set("Authorization", "Bearer wrong")
	c.get("/", http.StatusUnauthorized)
	c.header.Set("Authorization", "Bearer "+secret)
	c.get("/", http.StatusOK)
	c.get("/status", http.StatusOK)
	if code, out, errs := xtsync(t, "status", "--config", env.cfg); code != 0 || !strings.Contains(out, "running") {
		t.Errorf("xtsync status with the token: exit %d\n%s\n%s", code, out, errs)
	}

	// A browser signs in at /login and gets a cookie.
	c.header.Del("Authorization")
	if resp, body := c.post("/login", url.Values{"token": {"wrong"}}, "same-origin"); resp.StatusCode != http.StatusUnauthorized || len(resp.Cookies()) != 0 {
		t.Errorf("login with a wrong token: %d, cookies %v\n%s", resp.StatusCode, resp.Cookies(), body)
	}
	if resp, _ := c.post("/login", url.Values{"token": {secret}}, "cross-site"); resp.StatusCode != http.StatusForbidden {
		t.Errorf("cross-site login: %d, want 403", resp.StatusCode)
	}
	resp, _ := c.post("/login", url.Values{"token": {secret}}, "same-origin")
	var cookie *http.Cookie
	for _, ck := range resp.Cookies() {
		if ck.Name == adminCookie {
			cookie = ck
		}
	}
	if resp.StatusCode != http.StatusSeeOther || cookie == nil || !cookie.HttpOnly || cookie.SameSite != http.SameSiteStrictMode {
		t.Fatalf("login: %d, cookie %+v", resp.StatusCode, cookie)
	}
	c.header.Set("Cookie", cookie.String())
	if _, body := c.get("/", http.StatusOK); !strings.Contains(body, `<table id="groups">`) || strings.Contains(body, secret) {
		t.Errorf("overview with the cookie:\n%s", body)
	}
}
