package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/xtsync/xtsync/pkg/app"
	"github.com/xtsync/xtsync/pkg/boltstore"
	"github.com/xtsync/xtsync/pkg/config"
	"github.com/xtsync/xtsync/pkg/engine"
	"github.com/xtsync/xtsync/pkg/memqueue"
	"github.com/xtsync/xtsync/pkg/subscribe"
	"github.com/xtsync/xtsync/pkg/task"
	"github.com/xtsync/xtsync/pkg/webhook"
)

// statusReport is what `xtsync status` shows.
type statusReport struct {
	Running       bool          `json:"running"`
	Groups        []groupStatus `json:"groups"`
	Subscriptions []subStatus   `json:"subscriptions"`
	// SubscriptionsOff is an operator's xtsync unsubscribe.
	SubscriptionsOff bool              `json:"subscriptionsOff,omitempty"`
	Queue            *memqueue.Stats   `json:"queue,omitempty"`
	Parked           []memqueue.Parked `json:"parked,omitempty"`
	App              *app.Status       `json:"app,omitempty"`
	Webhook          *webhook.Stats    `json:"webhook,omitempty"`
	Guard            guardStatus       `json:"deletionGuard"`
	// From is where a stopped serve's state was read ("state.path F",
	// "state.dynamodb_table T").
	From string `json:"from,omitempty"`
}

// guardStatus is the deletion guard as status shows it.
type guardStatus struct {
	Threshold int               `json:"threshold"`
	Window    string            `json:"window"`
	Used      int               `json:"usedInWindow"`
	Halt      *engine.Halt      `json:"halt,omitempty"`
	Allowance *engine.Allowance `json:"allowance,omitempty"`
}

// groupStatus is one scoped group as status shows it.
type groupStatus struct {
	SourceID string `json:"sourceId"`
	Name     string `json:"name,omitempty"`
	// Kind is the source group's kind (security, distribution list, ...)
	// as the last run that read it found it.
	Kind string `json:"kind,omitempty"`
	// Held is whether the deletion guard's halt holds removals of the
	// group's mirror.
	Held bool `json:"held,omitempty"`
	// Skipped is why the last full reconcile did not mirror the group.
	Skipped  string `json:"skipped,omitempty"`
	TargetID string `json:"targetId,omitempty"`
	// TargetName is the mirror's name the last sync set.
	TargetName string    `json:"targetName,omitempty"`
	LastSync   time.Time `json:"lastSync,omitzero"`
	// Members is the mirror's member count the last sync left;
	// SourceMembers what it read in the source group.
	Members       int `json:"members"`
	SourceMembers int `json:"sourceMembers,omitempty"`
	// Lag is how long after its notification the last notified change
	// was applied.
	Lag time.Duration `json:"lag,omitempty"`
	// Behind is when the oldest change notification not applied yet of
	// the group's delta shard (up to 50 groups) was queued (serve only:
	// its queue).
	Behind time.Time `json:"behindSince,omitzero"`
	// Parked is the last error of the group's parked work (serve only).
	Parked string `json:"parked,omitempty"`
}

type subStatus struct {
	ID       string    `json:"id"`
	Resource string    `json:"resource"`
	Expires  time.Time `json:"expires"`
	// Mirrors marks a subscription on the target's mirrors.
	Mirrors bool `json:"mirrors,omitempty"`
}

// Tenant is which tenant the subscription watches, as status says it.
func (s subStatus) Tenant() string {
	if s.Mirrors {
		return "target"
	}
	return "source"
}

// storedStatus is the part of the status kept in the state store.
func storedStatus(ctx context.Context, store engine.Store, cfg *config.Config) (statusReport, error) {
	scope := cfg.Scope.Groups
	maps, err := engine.LoadGroupMappings(ctx, store)
	if err != nil {
		return statusReport{}, err
	}
	byID := map[string]engine.GroupMapping{}
	for _, m := range maps {
		byID[m.SourceID] = m
	}
	r := statusReport{From: "state.path " + cfg.State.Path}
	if cfg.State.DynamoDBTable != "" {
		r.From = "state.dynamodb_table " + cfg.State.DynamoDBTable
	}
	skips, err := engine.LoadSkippedGroups(ctx, store)
	if err != nil {
		return statusReport{}, err
	}
	skipped := map[string]engine.Skip{}
	for _, sk := range skips {
		skipped[sk.Group] = sk
	}
	g, err := engine.LoadGuard(ctx, store)
	if err != nil {
		return statusReport{}, err
	}
	for _, id := range scope {
		m := byID[id]
		gs := groupStatus{SourceID: id, Name: m.SourceName, Kind: string(m.Kind), TargetID: m.TargetID, TargetName: m.TargetName, LastSync: m.LastSync, Members: m.Members, SourceMembers: m.SourceMembers, Lag: m.Lag}
		if sk, ok := skipped[id]; ok && m.TargetID == "" {
			gs.Name, gs.Skipped = sk.Name, sk.Reason
			if sk.Kind != "" {
				gs.Kind = string(sk.Kind)
			}
		}
		gs.Held = g.Halt != nil && slices.Contains(g.Halt.Groups, id)
		r.Groups = append(r.Groups, gs)
	}
	subs, err := subscribe.Stored(ctx, store)
	if err != nil {
		return statusReport{}, err
	}
	for _, s := range subs {
		r.Subscriptions = append(r.Subscriptions, subStatus{ID: s.ID, Resource: s.Resource, Expires: s.Expires, Mirrors: s.Mirrors})
	}
	if r.SubscriptionsOff, err = subscribe.Off(ctx, store); err != nil {
		return statusReport{}, err
	}
	window := cfg.DeletionWindow()
	r.Guard = guardStatus{Threshold: *cfg.Sync.DeletionThreshold, Window: window.String(), Used: g.InWindow(time.Now().Add(-window)), Halt: g.Halt, Allowance: g.Allowance}
	return r, nil
}

// adminHandler serves /status and /audit to local operator commands, and
// the web console (console.go) at /.
func (srv *server) adminHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /status", func(w http.ResponseWriter, r *http.Request) {
		rep, err := srv.status(r.Context())
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		writeJSON(w, rep)
	})
	mux.HandleFunc("GET /audit", func(w http.ResponseWriter, r *http.Request) {
		q, err := auditQuery(r.URL.Query(), time.Now())
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		entries, err := srv.local.store.Audit(r.Context(), q)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		writeJSON(w, entries)
	})
	mux.Handle("GET /metrics", srv.metricsHandler())
	mux.HandleFunc("POST /reconcile", srv.serveReconcile)
	mux.HandleFunc("POST /unsubscribe", srv.serveSubscriptions(true))
	mux.HandleFunc("POST /subscribe", srv.serveSubscriptions(false))
	srv.operatorRoutes(mux)
	token := os.Getenv(adminTokenEnv)
	c, err := newConsole(serveConsole{srv}, srv.log)
	if err != nil {
		srv.log.Error("console off", "err", err)
	} else {
		c.routes(mux)
		c.loginRoutes(mux, token)
	}
	return adminOnly(token, mux)
}

// status is what xtsync status shows of the running serve: the stored
// status, and its queue, workers and webhook.
func (srv *server) status(ctx context.Context) (statusReport, error) {
	rep, err := storedStatus(ctx, srv.local.store, srv.cfg)
	if err != nil {
		return rep, err
	}
	qs, ss, hs := srv.queue.Stats(), srv.local.Status(), srv.hook.Stats()
	rep.Running, rep.Queue, rep.Parked, rep.App, rep.Webhook = true, &qs, srv.queue.Parked(), &ss, &hs
	queueByGroup(rep, engine.NewSharding(srv.cfg.Scope.Groups), srv.queue.Behind())
	return rep, nil
}

// queueByGroup marks each group of rep with its delta shard's work in the
// queue: the oldest change not applied yet (behind) and the error of its
// parked work (rep.Parked).
func queueByGroup(rep statusReport, sh engine.Sharding, behind map[task.Task]time.Time) {
	parked := map[string]string{}
	for _, p := range rep.Parked {
		if p.Task.Kind == task.Delta || p.Task.Kind == task.SyncShard {
			parked[p.Task.Arg] = p.LastError
		}
	}
	for i := range rep.Groups {
		g := &rep.Groups[i]
		key := sh.ShardOf(g.SourceID)
		g.Behind = behind[task.Of(task.Delta, key)]
		g.Parked = parked[key]
	}
}

// reconcileAnswer is serve's answer to POST /reconcile: the run's report,
// and its error (halted: held by the deletion guard).
type reconcileAnswer struct {
	Report *engine.Report `json:"report,omitempty"`
	Error  string         `json:"error,omitempty"`
	Halted bool           `json:"halted,omitempty"`
}

// outcome is the answer as a run's report and error, as the run in serve
// returned them (a halt wraps engine.ErrThreshold again).
func (a reconcileAnswer) outcome() (*engine.Report, error) {
	switch {
	case a.Halted:
		return a.Report, fmt.Errorf("%s: %w", strings.TrimSuffix(a.Error, ": "+engine.ErrThreshold.Error()), engine.ErrThreshold)
	case a.Error != "":
		return a.Report, errors.New(a.Error)
	}
	return a.Report, nil
}

// serveReconcile runs a full reconcile in the running serve for `xtsync
// reconcile` (which cannot open the state serve holds): ?dry-run=1 plans
// only, ?allow-deletions=1 is the operator's approval of what the deletion
// guard holds.
func (srv *server) serveReconcile(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	ro := engine.RunOptions{DryRun: q.Get("dry-run") == "1", AllowDeletions: q.Get("allow-deletions") == "1"}
	srv.log.Info("reconcile requested by an operator", "dry_run", ro.DryRun, "allow_deletions", ro.AllowDeletions)
	rep, err := srv.local.Engine.Reconcile(r.Context(), ro)
	ans := reconcileAnswer{Report: rep, Halted: errors.Is(err, engine.ErrThreshold)}
	if err != nil {
		ans.Error = err.Error()
	}
	if rep != nil {
		rep.Requests = srv.local.requests()
	}
	writeJSON(w, ans)
}

// printJSON writes v as indented JSON.
func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

// operatorHeader marks a request of xtsync's own CLI to serve's admin
// listener. A web page cannot send it to another origin without a CORS
// preflight, which the listener never answers: a page the operator visits
// cannot make a running serve act.
const operatorHeader = "X-Xtsync-Operator"

// fromServer asks a running serve (on server.admin_listen) for path; it
// reports false when none answers.
func fromServer(ctx context.Context, cfg *config.Config, path string, v any) (bool, error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	return callServer(ctx, cfg, http.MethodGet, path, v)
}

// callServer sends method path to a running serve and decodes its JSON
// answer into v; it reports false when none answers.
func callServer(ctx context.Context, cfg *config.Config, method, path string, v any) (bool, error) {
	req, _ := http.NewRequestWithContext(ctx, method, "http://"+cfg.Server.AdminListen+path, nil)
	req.Header.Set(operatorHeader, "1")
	if tok := os.Getenv(adminTokenEnv); tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return false, nil // not running
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		return true, fmt.Errorf("xtsync serve answered %d: %s", resp.StatusCode, b)
	}
	return true, json.NewDecoder(resp.Body).Decode(v)
}

// withStore opens the state while no serve holds it (or the AWS
// deployment's table, state.dynamodb_table).
func withStore(ctx context.Context, cfg *config.Config, f func(engine.Store) error) error {
	if cfg.State.DynamoDBTable != "" {
		store, err := openAWSState(ctx, cfg)
		if err != nil {
			return err
		}
		return f(store)
	}
	store, err := boltstore.Open(cfg.State.Path, 2*time.Second)
	if err != nil {
		return fmt.Errorf("state.path: %w", err)
	}
	defer store.Close()
	return f(store)
}

const statusAbout = `Status shows the groups in scope with their target ids, last sync and
member counts, the subscriptions and their expiry, and, while xtsync serve
runs, its pending and parked work and webhook counters.`

// runStatus is `xtsync status`.
func runStatus(ctx context.Context, e env, args []string) error {
	fs := newFlagSet(e, "status", "--config FILE [--json]", statusAbout)
	cfgPath := fs.configFlag()
	asJSON := fs.Bool("json", false, "print JSON")
	cfg, err := fs.parseConfig(args, cfgPath)
	if err != nil {
		return err
	}
	rep, err := statusOf(ctx, cfg)
	if err != nil {
		return err
	}
	if *asJSON {
		return printJSON(e.stdout, rep)
	}
	printStatus(e.stdout, rep, time.Now())
	return nil
}

// statusOf is the status from the running serve, else from the state.
func statusOf(ctx context.Context, cfg *config.Config) (statusReport, error) {
	var rep statusReport
	running, err := fromServer(ctx, cfg, "/status", &rep)
	if err != nil || running {
		return rep, err
	}
	err = withStore(ctx, cfg, func(s engine.Store) error {
		rep, err = storedStatus(ctx, s, cfg)
		return err
	})
	return rep, err
}

// auditQuery builds an audit query from the filters of xtsync audit, the
// query parameters of GET /audit: user, group, action, outcome, since and
// until (a duration ago or an RFC 3339 time). An error names the flag.
func auditQuery(v url.Values, now time.Time) (engine.AuditQuery, error) {
	q := engine.AuditQuery{User: strings.TrimSpace(v.Get("user")), Group: v.Get("group"), Action: v.Get("action"), Outcome: v.Get("outcome")}
	switch {
	case q.Group != "" && !engine.IsGUID(q.Group):
		return q, fmt.Errorf("--group %q is not a GUID", q.Group)
	case q.Action != "" && !slices.Contains(actionNames(), q.Action):
		return q, fmt.Errorf("--action %q is not an action kind; one of: %s", q.Action, strings.Join(actionNames(), ", "))
	case q.Outcome != "" && !slices.Contains(engine.AuditOutcomes(), q.Outcome):
		return q, fmt.Errorf("--outcome %q is not an outcome; one of: %s", q.Outcome, strings.Join(engine.AuditOutcomes(), ", "))
	}
	var err error
	if q.Since, err = auditTime("--since", v.Get("since"), now); err != nil {
		return q, err
	}
	if q.Until, err = auditTime("--until", v.Get("until"), now); err != nil {
		return q, err
	}
	if !q.Since.IsZero() && !q.Until.IsZero() && !q.Until.After(q.Since) {
		return q, fmt.Errorf("--until %s is not after --since %s", q.Until.UTC().Format(time.RFC3339), q.Since.UTC().Format(time.RFC3339))
	}
	return q, nil
}
