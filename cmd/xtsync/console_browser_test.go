package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/xtsync/xtsync/internal/browser"
	"github.com/xtsync/xtsync/internal/waitfor"
	"github.com/xtsync/xtsync/pkg/graphemu"
)

// consolePNG, when set, is where TestConsoleInBrowser also writes the
// overview's screenshot, made smaller (browser.CopyPNG), for the README:
//
//	go test -count=1 -run TestConsoleInBrowser ./cmd/xtsync -args -console-png=$PWD/docs/console.png
//
// A relative path is relative to cmd/xtsync (go test's working directory).
var consolePNG = flag.String("console-png", "", "TestConsoleInBrowser writes the overview's screenshot, optimised, to this PNG file (docs/console.png)")

// consoleRowCells are the classes of the cells of each row of the
// overview's #groups table.
var consoleRowCells = []string{"name", "kind", "target-name", "target", "source-members", "members", "last-sync", "lag", "note"}

// consoleRow is one tr[data-group] of the overview, as the browser shows
// it: each cell's text (whitespace collapsed) and the cells it lacks.
type consoleRow struct {
	Group   string            `json:"group"`
	Cells   map[string]string `json:"cells"`
	Missing []string          `json:"missing"`
}

// consolePage is the console in a real browser: base is the admin
// listener's URL.
type consolePage struct {
	t    *testing.T
	b    *browser.Browser
	base string
}

// open loads path and fails unless it answers 200 and has every selector
// in want.
func (p *consolePage) open(path string, want ...string) {
	p.t.Helper()
	p.b.Navigate(p.base + path)
	p.has(path, want...)
}

// has fails the test when the current page lacks one of the CSS selectors
// in want, naming them all; it saves the page's HTML as an artifact.
func (p *consolePage) has(page string, want ...string) {
	p.t.Helper()
	if missing := p.missing(want...); len(missing) > 0 {
		p.t.Fatalf("%s lacks %q (the console's HTML contract)%s", page, missing, p.saveHTML(page))
	}
}

// missing returns the CSS selectors of sels that match nothing on the
// current page.
func (p *consolePage) missing(sels ...string) []string {
	p.t.Helper()
	js, err := json.Marshal(sels)
	if err != nil {
		p.t.Fatal(err)
	}
	return browser.Run(p.b, "query "+strings.Join(sels, ", "), chromedp.Evaluate[[]string](
		fmt.Sprintf(`%s.filter(s => document.querySelector(s) === null)`, js)))
}

// text is the text of the first element matching sel, whitespace
// collapsed; "" when none does.
func (p *consolePage) text(sel string) string {
	p.t.Helper()
	return browser.Run(p.b, "text of "+sel, chromedp.Evaluate[string](fmt.Sprintf(
		`(document.querySelector(%q)?.textContent ?? "").replace(/\s+/g, " ").trim()`, sel)))
}

// texts is the text of every element matching sel, whitespace collapsed.
func (p *consolePage) texts(sel string) []string {
	p.t.Helper()
	return browser.Run(p.b, "texts of "+sel, chromedp.Evaluate[[]string](fmt.Sprintf(
		`Array.from(document.querySelectorAll(%q), e => e.textContent.replace(/\s+/g, " ").trim())`, sel)))
}

// saveHTML saves the current page's HTML as an artifact and returns a
// sentence naming it (for a failure message).
func (p *consolePage) saveHTML(page string) string {
	p.t.Helper()
	html := browser.Run(p.b, "the page's HTML", chromedp.Evaluate[string](`document.documentElement.outerHTML`))
	name := strings.Trim(strings.NewReplacer("/", "_", "?", "_", "=", "_", "@", "_").Replace(page), "_")
	if name == "" {
		name = "overview"
	}
	path := filepath.Join(p.t.ArtifactDir(), name+".html")
	if err := os.WriteFile(path, []byte(html), 0o644); err != nil {
		return fmt.Sprintf("; saving its HTML: %v", err)
	}
	return "; its HTML is in " + path
}

// pathOf is the path of a URL the browser landed on.
func pathOf(t *testing.T, raw string) (string, url.Values) {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatalf("the browser's URL %q: %v", raw, err)
	}
	return u.Path, u.Query()
}

// TestConsoleInBrowser drives serve's web console in a real, headless
// Chromium against the Graph emulator: the overview matches the tenants, a
// halt is approved from the browser and the mirror converges, the log
// filters, a user is explained and the charts draw. It saves a screenshot
// of each page (overview.png, halt.png, log.png, user.png, charts.png) in
// its ArtifactDir (go test -artifacts keeps them).
func TestConsoleInBrowser(t *testing.T) {
	var users []graphemu.User
	env, srv := startServeWith(t, "sync: {deletion_threshold: 5}\n", func(env *reconcileEnv) { users = engineeringUsers(t, env, 12, "") })
	src := graphemu.SampleSourceTenant
	eng := env.nick["engineering"]
	waitfor.WaitFor(t, 20*time.Second, "serve idle after its start-up sync", func() bool {
		return srv.queue.Stats().Pending == 0 && verifyMirror(env.em, srv.cfg.Scope.Groups) == nil
	})
	if g := guardOf(t, srv); g.Halt != nil {
		t.Fatalf("the guard holds before the test made a halt: %+v", g.Halt)
	}
	p := &consolePage{t: t, b: browser.Start(t), base: "http://" + srv.adminAddr}

	// 1. The overview: a row per scoped group, as the tenants have it.
	p.open("/", "#groups", "#subscriptions", "#queue", "#guard", "nav")
	nav := browser.Run(p.b, "the nav's links", chromedp.Evaluate[[]string](
		`Array.from(document.querySelectorAll("nav a[href]"), a => new URL(a.href).pathname)`))
	for _, want := range []string{"/", "/halt", "/log", "/charts"} {
		if !slices.Contains(nav, want) {
			t.Errorf("the nav links to %q, not to %s", nav, want)
		}
	}
	if m := p.missing("#halt-link"); len(m) == 0 {
		t.Errorf("the overview has #halt-link while the guard holds nothing")
	}
	classes, _ := json.Marshal(consoleRowCells)
	rows := browser.Run(p.b, "the #groups rows", chromedp.Evaluate[[]consoleRow](fmt.Sprintf(`
		Array.from(document.querySelectorAll("#groups tr[data-group]"), tr => {
			const cells = {}, missing = [];
			for (const c of %s) {
				const td = tr.querySelector("." + CSS.escape(c));
				if (td) cells[c] = td.textContent.replace(/\s+/g, " ").trim(); else missing.push(c);
			}
			return {group: tr.dataset.group, cells, missing};
		})`, classes)))
	scope := srv.cfg.Scope.Groups
	if len(rows) != len(scope) {
		t.Errorf("#groups has %d rows, want one per scoped group: %d", len(rows), len(scope))
	}
	seen := map[string]bool{}
	mirrored := 0
	for _, r := range rows {
		if seen[r.Group] {
			t.Errorf("#groups has group %s twice", r.Group)
		}
		seen[r.Group] = true
		if !slices.Contains(scope, r.Group) {
			t.Errorf("#groups has a row for %q, which is not in scope", r.Group)
			continue
		}
		if len(r.Missing) > 0 {
			t.Errorf("the row of %s lacks the cells %q", r.Group, r.Missing)
		}
		sg, ok := env.em.Group(src, r.Group)
		if !ok {
			t.Errorf("the row %s is no source group", r.Group)
			continue
		}
		if got := r.Cells["name"]; got != sg.DisplayName {
			t.Errorf("the row of %s names %q, want the source's %q", r.Group, got, sg.DisplayName)
		}
		if m, ok := mirrorOf(env.em, r.Group); ok {
			mirrored++
			if got, want := r.Cells["members"], strconv.Itoa(len(m.Members)); got != want {
				t.Errorf("the row of %s (%s) shows %q members, its mirror has %s", sg.DisplayName, r.Group, got, want)
			}
			if got, want := r.Cells["source-members"], strconv.Itoa(len(sg.Members)); got != want {
				t.Errorf("the row of %s (%s) shows %q members in the source, it has %s", sg.DisplayName, r.Group, got, want)
			}
			if r.Cells["target"] != m.ID || r.Cells["target-name"] != m.DisplayName {
				t.Errorf("the row of %s (%s) shows the mirror %q %q, want %s %q", sg.DisplayName, r.Group, r.Cells["target"], r.Cells["target-name"], m.ID, m.DisplayName)
			}
		}
	}
	for _, id := range scope {
		if !seen[id] {
			t.Errorf("#groups has no row for the scoped group %s", id)
		}
	}
	if mirrored == 0 {
		t.Errorf("no row is of a mirrored group")
	}
	overview := p.b.Screenshot("overview.png")
	if *consolePNG != "" {
		n, err := browser.CopyPNG(*consolePNG, overview)
		if err != nil {
			t.Fatalf("-console-png: %v", err)
		}
		t.Logf("-console-png: wrote %s (%d bytes)", *consolePNG, n)
		if n > 200<<10 {
			t.Logf("-console-png: %s is over 200 KB", *consolePNG)
		}
	}

	// 2. A halt: engineering emptied, its removals held; approved from the
	// browser, the mirror empties and the guard lets go.
	for _, u := range users {
		must(t, env.em.RemoveMember(src, eng, u.ID))
	}
	if code, out, errs := xtsync(t, "sync", "--config", env.cfg, "--group", eng); code != exitHalted {
		t.Fatalf("sync of the emptied engineering: exit %d, want %d (held)\n%s\n%s", code, exitHalted, out, errs)
	}
	if g := guardOf(t, srv); g.Halt == nil {
		t.Fatal("the sync exited held, but the guard holds nothing")
	}
	p.open("/", "#groups", "#halt-link")
	resp := p.b.Follow("follow #halt-link", chromedp.Click(chromedp.CSS("#halt-link")))
	if path, _ := pathOf(t, resp.URL); path != "/halt" {
		t.Errorf("#halt-link led to %s, want /halt", resp.URL)
	}
	p.has("/halt", "#halt", "#plan", "#approve", "#approve [type=submit]", "#sync", `#sync select[name="group"]`, "#sync [type=submit]")
	if p.text("#halt") == "" {
		t.Errorf("#halt is empty while the guard holds")
	}
	if plan := p.text("#plan"); !strings.Contains(plan, "remove-members") {
		t.Errorf("#plan does not list remove-members: %q", plan)
	}
	form := browser.Run(p.b, "the #approve form", chromedp.Evaluate[map[string]string](
		`(f => ({method: f.method, action: new URL(f.action).pathname}))(document.querySelector("#approve"))`))
	if form["method"] != "post" || form["action"] != "/console/approve" {
		t.Errorf("#approve is %v, want method post, action /console/approve", form)
	}
	p.b.Screenshot("halt.png")
	resp = p.b.Follow("submit #approve", chromedp.Click(chromedp.CSS("#approve [type=submit]")))
	if path, _ := pathOf(t, resp.URL); path != "/halt" {
		t.Errorf("the approval landed on %s, want /halt", resp.URL)
	}
	waitfor.WaitFor(t, 20*time.Second, "engineering's mirror emptied by the approval", func() bool {
		m, _ := mirrorOf(env.em, eng)
		return len(m.Members) == 0
	})
	waitfor.WaitFor(t, 20*time.Second, "the guard lifted by the approval", func() bool {
		return guardOf(t, srv).Halt == nil
	})

	// 3. The log, filtered to the removals.
	p.open("/log", "#filters", "#log", "#csv", "#filters [type=submit]",
		`#filters [name="user"]`, `#filters [name="group"]`, `#filters [name="action"]`,
		`#filters [name="outcome"]`, `#filters [name="since"]`, `#filters [name="until"]`)
	all := len(p.texts("#log tr.entry"))
	p.b.Do("filter the log by action", chromedp.SetValue(chromedp.CSS(`#filters [name="action"]`), "remove-members"))
	resp = p.b.Follow("submit #filters", chromedp.Click(chromedp.CSS("#filters [type=submit]")))
	if path, q := pathOf(t, resp.URL); path != "/log" || q.Get("action") != "remove-members" {
		t.Errorf("the filters landed on %s, want /log?action=remove-members", resp.URL)
	}
	p.has("/log?action=remove-members", "#log", "#csv")
	entries := p.texts("#log tr.entry")
	if len(entries) == 0 || len(entries) >= all {
		t.Errorf("filtered to remove-members the log has %d entries, unfiltered %d: want fewer, and some", len(entries), all)
	}
	for i, e := range entries {
		if !strings.Contains(e, "remove-members") {
			t.Errorf("entry %d of the log filtered to remove-members is %q", i, e)
		}
	}
	p.b.Screenshot("log.png")

	// 4. A user explained.
	mail := users[0].Mail
	p.open("/user?user="+url.QueryEscape(mail), "#explain")
	if got := p.text("#explain"); !strings.Contains(strings.ToLower(got), strings.ToLower(mail)) {
		t.Errorf("#explain of %s does not name them: %q", mail, got)
	}
	p.b.Screenshot("user.png")

	// 5. The charts.
	p.open("/charts", "#charts", "#charts svg")
	p.b.Screenshot("charts.png")

	if errs := p.b.Problems(); len(errs) > 0 {
		t.Errorf("the console's pages threw: %q", errs)
	}
}
