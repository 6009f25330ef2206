package main

import (
	"cmp"
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"net/url"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/xtsync/xtsync/pkg/config"
	"github.com/xtsync/xtsync/pkg/engine"
)

const auditAbout = `Audit is xtsync's provisioning log: each action it applied or tried,
oldest first, with the time, the run and what triggered it (reconcile: an
operator's reconcile; schedule: serve's start-up and scheduled reconcile,
or the AWS one; notification: a group delta pass; user-notification: a
users delta pass; on-demand: xtsync sync), the action, the group, the
object in each tenant by name and id, the outcome (started, ok, failed)
and the reason or error. A started entry without an outcome is a write a
crash interrupted.

The filters combine. --user takes an id in either tenant, a mail address
or a display name (any case). --since and --until take a duration ago
(24h) or an RFC 3339 time (2026-11-28T09:00:00Z); --since is inclusive,
--until exclusive. The entries come from the running serve, or else from
the state file. Exit status: 0 printed (also when none match), 2 bad
flags or configuration, 1 any other failure.`

// runAudit is `xtsync audit`.
func runAudit(ctx context.Context, e env, args []string) error {
	fs := newFlagSet(e, "audit", "--config FILE [--user ID|MAIL|NAME] [--group ID] [--action KIND] [--outcome OUTCOME] [--since WHEN] [--until WHEN] [--json | --csv]", auditAbout)
	cfgPath := fs.configFlag()
	user := fs.String("user", "", "only the entries about this user: its `id` in either tenant, its mail address or display name")
	group := fs.String("group", "", "only this source group `id`")
	action := fs.String("action", "", "only this action `kind`: "+strings.Join(actionNames(), ", "))
	outcome := fs.String("outcome", "", "only this `outcome`: "+strings.Join(engine.AuditOutcomes(), ", "))
	since := fs.String("since", "", "only the entries from `when` on: a duration ago (24h) or an RFC 3339 time")
	until := fs.String("until", "", "only the entries before `when`: a duration ago (1h) or an RFC 3339 time")
	asJSON := fs.Bool("json", false, "print the entries as JSON, as stored")
	asCSV := fs.Bool("csv", false, "print the entries as CSV: a header row, then every field of each entry")
	if err := fs.parse(args); err != nil {
		return err
	}
	if *asJSON && *asCSV {
		return usagef("--csv and --json are mutually exclusive: choose one")
	}
	v := url.Values{}
	for k, s := range map[string]string{"user": *user, "group": *group, "action": *action, "outcome": *outcome, "since": *since, "until": *until} {
		if s != "" {
			v.Set(k, s)
		}
	}
	q, err := auditQuery(v, time.Now())
	if err != nil {
		return &usageError{err}
	}
	cfg, err := loadConfig(*cfgPath)
	if err != nil {
		return err
	}
	entries, err := auditEntries(ctx, cfg, v, q)
	if err != nil {
		return err
	}
	switch {
	case *asJSON:
		return printJSON(e.stdout, entries)
	case *asCSV:
		return printAuditCSV(e.stdout, entries)
	}
	return printAuditTable(e.stdout, entries)
}

// actionNames are the action kinds --action takes.
func actionNames() []string {
	var out []string
	for _, k := range engine.ActionKinds() {
		out = append(out, string(k))
	}
	return out
}

// auditEntries reads the entries q selects: from the running serve, which
// is sent the filters as v (the query parameters of GET /audit), or, when
// none runs, from the state file. Never nil.
func auditEntries(ctx context.Context, cfg *config.Config, v url.Values, q engine.AuditQuery) ([]engine.AuditEntry, error) {
	entries := []engine.AuditEntry{}
	running, err := fromServer(ctx, cfg, "/audit?"+v.Encode(), &entries)
	switch {
	case err != nil:
		return nil, err
	case running:
		// A serve of an older version ignores the filters it does not
		// know: apply them here too.
		return slices.DeleteFunc(entries, func(e engine.AuditEntry) bool { return !q.Matches(e) }), nil
	}
	err = withStore(ctx, cfg, func(s engine.Store) error {
		var err error
		entries, err = s.Audit(ctx, q)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("read the audit: %w", err)
	}
	if entries == nil {
		entries = []engine.AuditEntry{} // JSON: [], not null
	}
	return entries, nil
}

// auditTime reads the value of --since or --until (flag): a positive
// duration ago, or an RFC 3339 time; "" is no bound.
func auditTime(flag, s string, now time.Time) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if d, err := time.ParseDuration(s); err == nil && d > 0 {
		return now.Add(-d), nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	return time.Time{}, fmt.Errorf("%s %q is neither a positive duration like 24h nor an RFC 3339 time like 2026-11-28T09:00:00Z", flag, s)
}

// printAuditTable writes entries as a table for people, one line each:
// the group by name (else id), each tenant's object by name and id.
func printAuditTable(w io.Writer, entries []engine.AuditEntry) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "TIME\tRUN\tTRIGGER\tACTION\tGROUP\tSOURCE\tTARGET\tOUTCOME\tDETAIL")
	for _, a := range entries {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", a.Time.UTC().Format(time.RFC3339), cell(a.Run), cell(a.Trigger), cell(a.Action),
			cell(cmp.Or(a.GroupName, a.Group)), named(a.SourceName, a.Source), named(a.TargetName, a.Target), cell(a.Outcome), cell(a.Detail))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(entries) == 0 {
		_, err := fmt.Fprintln(w, "no audit entries")
		return err
	}
	return nil
}

// named is an object as the table shows it: "name (id)", or whichever of
// the two is known.
func named(name, id string) string {
	if name != "" && id != "" {
		return cell(name) + " (" + cell(id) + ")"
	}
	return cell(cmp.Or(name, id))
}

// cell is a table cell: "-" for nothing, each run of white space
// (tabs and line breaks included) one space.
func cell(s string) string {
	if s = strings.Join(strings.Fields(s), " "); s == "" {
		return "-"
	}
	return s
}

// auditCSVHeader names the CSV columns: the fields' JSON names.
func auditCSVHeader() []string {
	return []string{"time", "run", "trigger", "action", "group", "groupName", "source", "sourceName", "target", "targetName", "outcome", "detail"}
}

// csvText keeps a text cell (a name from a tenant, an error) from being
// taken for a formula by a spreadsheet: one that starts with =, +, -, @,
// a tab or a carriage return gets a leading apostrophe (OWASP, CSV
// injection).
func csvText(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

// printAuditCSV writes entries as CSV: the header, then one row per entry
// with every field, ids and names in columns of their own and times in
// RFC 3339 (UTC, to the nanosecond).
func printAuditCSV(w io.Writer, entries []engine.AuditEntry) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(auditCSVHeader()); err != nil {
		return err
	}
	for _, a := range entries {
		row := []string{a.Time.UTC().Format(time.RFC3339Nano), a.Run, a.Trigger, a.Action, a.Group, csvText(a.GroupName), a.Source, csvText(a.SourceName), a.Target, csvText(a.TargetName), a.Outcome, csvText(a.Detail)}
		if err := cw.Write(row); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}
