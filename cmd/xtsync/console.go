package main

import (
	"bytes"
	"context"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/xtsync/xtsync/pkg/config"
	"github.com/xtsync/xtsync/pkg/engine"
	"github.com/xtsync/xtsync/pkg/metrics"
)

// consoleFiles are the console's templates and style sheet.
//
//go:embed console
var consoleFiles embed.FS

// consoleBackend is what the console's pages read and the two actions
// they take, over a running serve (serveConsole) or the AWS deployment
// (awsConsole).
type consoleBackend interface {
	// Config is the configuration the backend runs with.
	Config() *config.Config
	// Status is what xtsync status shows.
	Status(ctx context.Context) (statusReport, error)
	// Audit is the provisioning log's entries q selects (v: the same
	// filters as query parameters).
	Audit(ctx context.Context, v url.Values, q engine.AuditQuery) ([]engine.AuditEntry, error)
	// Explain is xtsync explain for one user (group: "" or a scoped id).
	Explain(ctx context.Context, user, group string) (*engine.Explanation, error)
	// HeldPlan is the plan a reconcile would apply with the deletions
	// allowed; it writes nothing.
	HeldPlan(ctx context.Context) (*engine.Report, error)
	// Approve applies the held plan (xtsync approve --yes) and tells the
	// outcome in a sentence.
	Approve(ctx context.Context) (string, error)
	// Sync syncs one scoped group now (xtsync sync --group) and tells the
	// outcome in a sentence.
	Sync(ctx context.Context, group string) (string, error)
	// Samples are the metrics' history for the charts; false when the
	// backend has none here (AWS: the CloudWatch dashboard).
	Samples() ([]metrics.Sample, bool)
}

// console serves the web console's pages over a backend.
type console struct {
	be    consoleBackend
	pages map[string]*template.Template
	css   []byte
	// csrf is this process's form token: every state-changing form
	// carries it.
	csrf string
	log  *slog.Logger

	mu   sync.Mutex
	last *consoleOutcome
}

// consoleOutcome is the result of the last action taken from the console.
type consoleOutcome struct {
	At     time.Time
	What   string
	Text   string
	Failed bool
}

// consolePages are the page templates, each rendered inside layout.html.
func consolePages() []string {
	return []string{"overview", "halt", "log", "user", "charts", "login"}
}

// newConsole parses the embedded templates.
func newConsole(be consoleBackend, log *slog.Logger) (*console, error) {
	csrf, err := randomToken()
	if err != nil {
		return nil, fmt.Errorf("console: csrf token: %w", err)
	}
	c := &console{be: be, pages: map[string]*template.Template{}, csrf: csrf, log: log}
	if c.css, err = fs.ReadFile(consoleFiles, "console/style.css"); err != nil {
		return nil, fmt.Errorf("console: %w", err)
	}
	funcs := template.FuncMap{"time": consoleTime, "dash": dash}
	for _, p := range consolePages() {
		t, err := template.New("layout.html").Funcs(funcs).ParseFS(consoleFiles, "console/layout.html", "console/partials.html", "console/"+p+".html")
		if err != nil {
			return nil, fmt.Errorf("console: template %s: %w", p, err)
		}
		c.pages[p] = t
	}
	return c, nil
}

// routes adds the console's pages to mux.
func (c *console) routes(mux *http.ServeMux) {
	mux.HandleFunc("GET /{$}", c.overview)
	mux.HandleFunc("GET /halt", c.halt)
	mux.HandleFunc("GET /log", c.auditLog)
	mux.HandleFunc("GET /log.csv", c.auditCSV)
	mux.HandleFunc("GET /user", c.user)
	mux.HandleFunc("GET /charts", c.charts)
	mux.HandleFunc("GET /console/style.css", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/css; charset=utf-8")
		_, _ = w.Write(c.css)
	})
	mux.HandleFunc("GET /favicon.ico", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) })
	cop := http.NewCrossOriginProtection()
	mux.Handle("POST /console/approve", cop.Handler(c.withCSRF(c.approve)))
	mux.Handle("POST /console/sync", cop.Handler(c.withCSRF(c.sync)))
}

// page is what every page's template gets.
type page struct {
	Title string
	// Nav is the path of the page, to mark its link.
	Nav   string
	CSRF  string
	Error string
	Last  *consoleOutcome
	Data  any
}

// render writes page name with data and status code.
func (c *console) render(w http.ResponseWriter, code int, name string, p page) {
	p.CSRF = c.csrf
	c.mu.Lock()
	p.Last = c.last
	c.mu.Unlock()
	var b bytes.Buffer
	if err := c.pages[name].Execute(&b, p); err != nil {
		c.log.Error("console template", "page", name, "err", err)
		http.Error(w, "the page failed to render", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Referrer-Policy", "no-referrer")
	w.WriteHeader(code)
	_, _ = w.Write(b.Bytes())
}

// outcome records the result of an action for the next pages.
func (c *console) outcome(what, text string, err error) {
	o := &consoleOutcome{At: time.Now(), What: what, Text: text}
	if err != nil {
		o.Failed, o.Text = true, err.Error()
	}
	c.mu.Lock()
	c.last = o
	c.mu.Unlock()
}

// overviewData is the overview page's.
type overviewData struct {
	Status statusReport
	Groups []consoleGroup
}

// consoleGroup is one row of the groups table.
type consoleGroup struct {
	groupStatus
	Target string
	// Source is the source's member count the last sync read, "-" before.
	Source string
	Lag    string
	Note   string
	// Behind is whether changes wait (Lag tells since when).
	Behind bool
}

func (c *console) overview(w http.ResponseWriter, r *http.Request) {
	st, err := c.be.Status(r.Context())
	if err != nil {
		c.render(w, http.StatusInternalServerError, "overview", page{Title: "Overview", Nav: "/", Error: "status: " + err.Error()})
		return
	}
	d := overviewData{Status: st}
	now := time.Now()
	for _, g := range st.Groups {
		row := consoleGroup{groupStatus: g, Target: dash(g.TargetID), Source: "-", Lag: groupLag(g, now), Note: groupNote(g), Behind: !g.Behind.IsZero()}
		if !g.LastSync.IsZero() {
			row.Source = fmt.Sprint(g.SourceMembers)
		}
		d.Groups = append(d.Groups, row)
	}
	c.render(w, http.StatusOK, "overview", page{Title: "Overview", Nav: "/", Data: d})
}

// groupLag is how far the group's mirror is behind its source: since when
// notified changes wait for its delta pass (of its shard: up to 50 groups
// share one), else how long the last notified change took.
func groupLag(g groupStatus, now time.Time) string {
	switch {
	case !g.Behind.IsZero():
		return "WAITING " + now.Sub(g.Behind).Round(time.Second).String() + ": its delta pass has changes queued since " + consoleTime(g.Behind)
	case g.Lag > 0:
		return g.Lag.Round(time.Millisecond).String() + " (the last change)"
	}
	return "-"
}

// groupNote is the state the console shows for a group: that its work is
// parked, that the guard holds its removals, why it is not mirrored.
func groupNote(g groupStatus) string {
	switch {
	case g.Parked != "":
		return "PARKED: " + g.Parked
	case g.Held:
		return "HOLDING removals"
	case g.TargetID != "" && g.Skipped == "":
		return ""
	case g.Skipped != "":
		return "skipped: " + g.Skipped
	}
	return "not mirrored yet"
}

// haltData is the halt page's.
type haltData struct {
	Holding string
	Guard   guardStatus
	Plan    *engine.Report
	PlanErr string
	Groups  []groupStatus
}

func (c *console) halt(w http.ResponseWriter, r *http.Request) {
	st, err := c.be.Status(r.Context())
	if err != nil {
		c.render(w, http.StatusInternalServerError, "halt", page{Title: "Deletion guard", Nav: "/halt", Error: "status: " + err.Error()})
		return
	}
	d := haltData{Guard: st.Guard, Groups: st.Groups}
	if st.Guard.Halt != nil {
		d.Holding = st.Guard.holding()
		if d.Plan, err = c.be.HeldPlan(r.Context()); err != nil {
			d.PlanErr = err.Error()
		}
	}
	c.render(w, http.StatusOK, "halt", page{Title: "Deletion guard", Nav: "/halt", Data: d})
}

func (c *console) approve(w http.ResponseWriter, r *http.Request) {
	st, err := c.be.Status(r.Context())
	switch {
	case err != nil:
		c.outcome("approve", "", fmt.Errorf("status: %w", err))
		http.Redirect(w, r, "/halt", http.StatusSeeOther)
		return
	case st.Guard.Halt == nil:
		c.outcome("approve", "deletion guard: nothing held; nothing to approve", nil)
		http.Redirect(w, r, "/halt", http.StatusSeeOther)
		return
	}
	c.log.Info("approval requested from the console")
	text, err := c.be.Approve(r.Context())
	c.outcome("approve", text, err)
	http.Redirect(w, r, "/halt", http.StatusSeeOther)
}

func (c *console) sync(w http.ResponseWriter, r *http.Request) {
	id := strings.ToLower(r.PostFormValue("group"))
	if err := checkScopedGroup(c.be.Config(), id); err != nil {
		c.outcome("sync", "", err)
		http.Redirect(w, r, "/halt", http.StatusSeeOther)
		return
	}
	c.log.Info("sync requested from the console", "group", id)
	text, err := c.be.Sync(r.Context(), id)
	c.outcome("sync "+id, text, err)
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

// logData is the log page's.
type logData struct {
	Filters url.Values
	Entries []consoleEntry
	CSV     string
	Actions []string
	Outcome []string
}

// consoleEntry is one row of the log, with the user it is about (for the
// link to /user).
type consoleEntry struct {
	engine.AuditEntry
	User string
}

// auditFilters are the query parameters of the log's filters.
func auditFilters() []string { return []string{"user", "group", "action", "outcome", "since", "until"} }

func (c *console) auditLog(w http.ResponseWriter, r *http.Request) {
	v := r.URL.Query()
	d := logData{Filters: v, CSV: "/log.csv?" + r.URL.RawQuery, Actions: actionNames(), Outcome: engine.AuditOutcomes()}
	q, err := auditQuery(v, time.Now())
	if err != nil {
		c.render(w, http.StatusBadRequest, "log", page{Title: "Provisioning log", Nav: "/log", Error: err.Error(), Data: d})
		return
	}
	entries, err := c.be.Audit(r.Context(), cleanFilters(v), q)
	if err != nil {
		c.render(w, http.StatusInternalServerError, "log", page{Title: "Provisioning log", Nav: "/log", Error: "read the log: " + err.Error(), Data: d})
		return
	}
	for _, e := range entries {
		d.Entries = append(d.Entries, consoleEntry{AuditEntry: e, User: entryUser(e)})
	}
	c.render(w, http.StatusOK, "log", page{Title: "Provisioning log", Nav: "/log", Data: d})
}

// cleanFilters are the log's filters of v that are set.
func cleanFilters(v url.Values) url.Values {
	out := url.Values{}
	for _, k := range auditFilters() {
		if s := v.Get(k); s != "" {
			out.Set(k, s)
		}
	}
	return out
}

// entryUser is the user an audit entry is about ("" for a group's
// entry): its source id, else its target id.
func entryUser(e engine.AuditEntry) string {
	switch {
	case e.Source != "" && e.Source != e.Group:
		return e.Source
	case e.Source == "" && e.Target != "":
		return e.Target
	}
	return ""
}

func (c *console) auditCSV(w http.ResponseWriter, r *http.Request) {
	v := r.URL.Query()
	q, err := auditQuery(v, time.Now())
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	entries, err := c.be.Audit(r.Context(), cleanFilters(v), q)
	if err != nil {
		http.Error(w, "read the log: "+err.Error(), http.StatusInternalServerError)
		return
	}
	var b bytes.Buffer
	if err := printAuditCSV(&b, entries); err != nil {
		http.Error(w, "write the log: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="xtsync-audit.csv"`)
	w.Header().Set("X-Content-Type-Options", "nosniff")
	_, _ = w.Write(b.Bytes())
}

// userData is the user page's.
type userData struct {
	User    string
	Group   string
	Groups  []string
	Explain *engine.Explanation
}

func (c *console) user(w http.ResponseWriter, r *http.Request) {
	user, group := strings.TrimSpace(r.URL.Query().Get("user")), strings.ToLower(r.URL.Query().Get("group"))
	d := userData{User: user, Group: group, Groups: c.be.Config().Scope.Groups}
	p := page{Title: "User", Nav: "/user", Data: &d}
	if user == "" {
		c.render(w, http.StatusOK, "user", p)
		return
	}
	p.Title = "User " + user
	if group != "" {
		if err := checkScopedGroup(c.be.Config(), group); err != nil {
			p.Error = err.Error()
			c.render(w, http.StatusBadRequest, "user", p)
			return
		}
	}
	x, err := c.be.Explain(r.Context(), user, group)
	switch {
	case errors.Is(err, engine.ErrNotFound):
		p.Error = err.Error()
		c.render(w, http.StatusNotFound, "user", p)
		return
	case err != nil:
		p.Error = "explain: " + err.Error()
		c.render(w, http.StatusInternalServerError, "user", p)
		return
	}
	d.Explain = x
	c.render(w, http.StatusOK, "user", p)
}

func (c *console) charts(w http.ResponseWriter, r *http.Request) {
	samples, ok := c.be.Samples()
	var d *chartsData
	if ok {
		d = buildCharts(samples)
	}
	c.render(w, http.StatusOK, "charts", page{Title: "Charts", Nav: "/charts", Data: d})
}

// consoleTime is a time as the console shows it: RFC 3339 in UTC, or
// "never".
func consoleTime(t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	return t.UTC().Format(time.RFC3339)
}

// dash is s, or "-" for nothing.
func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
