package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/xtsync/xtsync/pkg/config"
	"github.com/xtsync/xtsync/pkg/engine"
)

// operatorRoutes adds the on-demand operator requests to serve's admin
// listener (see adminHandler for how they are guarded): POST /sync syncs
// one group now, GET /explain explains a user.
func (srv *server) operatorRoutes(mux *http.ServeMux) {
	mux.HandleFunc("POST /sync", srv.serveSync)
	mux.HandleFunc("GET /explain", srv.serveExplain)
}

// serveSync syncs one scoped group in the running serve (?group=ID), for
// `xtsync sync`; the group's lock keeps it from running beside a delta
// pass or reconcile of the same group.
func (srv *server) serveSync(w http.ResponseWriter, r *http.Request) {
	id := r.URL.Query().Get("group")
	if err := checkScopedGroup(srv.cfg, id); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	dry := r.URL.Query().Get("dry-run") == "1"
	srv.log.Info("sync requested by an operator", "group", id, "dry_run", dry)
	rep, err := srv.local.Engine.SyncGroups(r.Context(), []string{id}, engine.RunOptions{DryRun: dry, Trigger: engine.TriggerOnDemand})
	ans := reconcileAnswer{Report: rep, Halted: errors.Is(err, engine.ErrThreshold)}
	if err != nil {
		ans.Error = err.Error()
	}
	writeJSON(w, ans)
}

// checkScopedGroup refuses a --group that is not a source group id of the
// scope, naming the fix.
func checkScopedGroup(cfg *config.Config, id string) error {
	switch {
	case id == "":
		return errors.New("--group is required: the source group's object id")
	case !engine.IsGUID(id):
		return fmt.Errorf("--group %q is not a group object id (8-4-4-4-12 hex digits, as the Entra admin center shows it)", id)
	case !slices.ContainsFunc(cfg.Scope.Groups, func(g string) bool { return strings.EqualFold(g, id) }):
		return fmt.Errorf("--group %s is not in scope.groups: add it there to sync it (xtsync status lists the groups in scope)", id)
	}
	return nil
}

const syncAbout = `Sync syncs one group of the scope now: its properties and members, and
the users it needs, as a reconcile does for every group. While xtsync serve
runs, the sync runs in it (one writer per group); else here. It goes
through the deletion guard like every run. Exit status: 0 synced, 3 held
by sync.deletion_threshold, 2 bad flags or a group out of scope, 1 any
other failure.`

// runSync is `xtsync sync --group ID`: an on-demand sync of one group.
func runSync(ctx context.Context, e env, args []string) error {
	fs := newFlagSet(e, "sync", "--config FILE --group ID [--dry-run] [--json]", syncAbout)
	cfgPath := fs.configFlag()
	group := fs.String("group", "", "the source group's object `id`")
	dry := fs.Bool("dry-run", false, "print the plan and write nothing")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	cfg, err := fs.parseConfig(args, cfgPath)
	if err != nil {
		return err
	}
	id := strings.ToLower(*group)
	if err := checkScopedGroup(cfg, id); err != nil {
		return &usageError{err}
	}
	if cfg.State.DynamoDBTable != "" && !*dry {
		return queueSync(ctx, e, cfg, id)
	}
	ro := engine.RunOptions{DryRun: *dry, Trigger: engine.TriggerOnDemand}
	rep, err := syncWith(ctx, e, cfg, id, ro)
	if rep != nil {
		printReport(e.stdout, rep, *asJSON)
	}
	return runOutcome(rep, err)
}

// syncWith syncs one group in the running serve when one answers on
// server.admin_listen, else here.
func syncWith(ctx context.Context, e env, cfg *config.Config, id string, ro engine.RunOptions) (*engine.Report, error) {
	return runWith(ctx, e, cfg, "sync", "/sync", url.Values{"group": {id}}, ro, func(l *local) (*engine.Report, error) {
		return l.Engine.SyncGroups(ctx, []string{id}, ro)
	})
}
