package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/xtsync/xtsync/pkg/config"
	"github.com/xtsync/xtsync/pkg/engine"
)

const explainAbout = `Explain tells, for one user (a mail address, or a source or target user
object id), what xtsync knows and would do: how the user is mapped to a
target user (created by xtsync, or matched) and since when, the scoped
groups that put them in scope and their mirrors, the target account as
Graph shows it now, what the runs did to them (from the audit), and what
the next run would do and why, skip reasons included. With --group, it
also reads whether the source lists the user in that group. It writes
nothing. Exit status: 0 explained, 2 bad flags or a group out of scope, 1
any other failure.`

// runExplain is `xtsync explain --user MAIL|ID [--group ID]`.
func runExplain(ctx context.Context, e env, args []string) error {
	fs := newFlagSet(e, "explain", "--config FILE --user MAIL|ID [--group ID] [--json]", explainAbout)
	cfgPath := fs.configFlag()
	user := fs.String("user", "", "the user: a mail `address`, or a source or target user object id")
	group := fs.String("group", "", "a scoped source group `id` to check the user's membership of")
	asJSON := fs.Bool("json", false, "print JSON")
	cfg, err := fs.parseConfig(args, cfgPath)
	if err != nil {
		return err
	}
	if *user == "" {
		return usagef("--user is required: a mail address, or a source or target user object id")
	}
	gid := strings.ToLower(*group)
	if gid != "" {
		if err := checkScopedGroup(cfg, gid); err != nil {
			return &usageError{err}
		}
	}
	x, err := explainWith(ctx, e, cfg, *user, gid)
	if err != nil {
		return err
	}
	if *asJSON {
		return printJSON(e.stdout, x)
	}
	printExplain(e.stdout, x)
	return nil
}

// explainWith explains in the running serve when one answers, else here.
func explainWith(ctx context.Context, e env, cfg *config.Config, user, group string) (*engine.Explanation, error) {
	var x engine.Explanation
	running, err := fromServer(ctx, cfg, "/explain?"+url.Values{"user": {user}, "group": {group}}.Encode(), &x)
	switch {
	case err != nil:
		return nil, err
	case running:
		return &x, nil
	}
	l, err := openLocalDry(ctx, cfg, e.log, nil, true)
	if err != nil {
		return nil, err
	}
	defer l.Close()
	return l.Engine.Explain(ctx, user, group)
}

// serveExplain is GET /explain?user=&group= on serve's admin listener.
func (srv *server) serveExplain(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	user, group := q.Get("user"), strings.ToLower(q.Get("group"))
	if user == "" {
		http.Error(w, "user is required", http.StatusBadRequest)
		return
	}
	x, err := srv.local.Engine.Explain(r.Context(), user, group)
	switch {
	case errors.Is(err, engine.ErrNotFound):
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	case err != nil:
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	writeJSON(w, x)
}

// printExplain writes an explanation for an operator.
func printExplain(w io.Writer, x *engine.Explanation) {
	fmt.Fprintf(w, "User %s\n", x.Query)
	if s := x.Source; s != nil {
		fmt.Fprintf(w, "  source user %s: %s <%s>\n", s.ID, s.DisplayName, s.Mail)
	}
	if m := x.Mapping; m != nil {
		switch {
		case m.TargetID == "":
			fmt.Fprintf(w, "  mapping: invitation under way since %s\n", m.Pending.UTC().Format(time.RFC3339))
		default:
			fmt.Fprintf(w, "  mapped to target user %s (%s)\n", m.TargetID, m.Provenance)
		}
		if m.Disabled {
			fmt.Fprintln(w, "  disabled by xtsync (its source user is disabled, or left every synced group)")
		}
	}
	if t := x.Target; t != nil {
		state := "enabled"
		if !t.AccountEnabled {
			state = "DISABLED"
		}
		fmt.Fprintf(w, "  target account: %s, %s, %s <%s>, created %s\n", state, t.UserType, t.DisplayName, t.Mail, t.Created.UTC().Format(time.RFC3339))
	}
	fmt.Fprintln(w, "\nIn scope through:")
	if len(x.Groups) == 0 {
		fmt.Fprintln(w, "  no synced group")
	}
	for _, g := range x.Groups {
		name := g.Name
		if name == "" {
			name = "(not mirrored)"
		}
		line := fmt.Sprintf("  %s (%s)", name, g.SourceID)
		if g.TargetID != "" {
			line += " -> mirror " + g.TargetID
		}
		if g.Member != nil {
			if *g.Member {
				line += "; the source lists the user as a member"
			} else {
				line += "; the source does NOT list the user as a member"
			}
		}
		fmt.Fprintln(w, line)
	}
	fmt.Fprintln(w, "\nWhat the runs did:")
	if len(x.Audit) == 0 {
		fmt.Fprintln(w, "  nothing audited")
	}
	for _, a := range x.Audit {
		fmt.Fprintf(w, "  %s  run %s  %s  %s", a.Time.UTC().Format(time.RFC3339), a.Run, a.Action, a.Outcome)
		if a.Group != "" {
			fmt.Fprintf(w, "  group %s", a.Group)
		}
		if a.Detail != "" {
			fmt.Fprintf(w, "  (%s)", a.Detail)
		}
		fmt.Fprintln(w)
	}
	fmt.Fprintln(w, "\nWhat the next run would do:")
	if len(x.Next) == 0 {
		fmt.Fprintln(w, "  nothing")
	}
	for _, a := range x.Next {
		fmt.Fprintf(w, "  %s", a.Kind)
		if a.GroupName != "" || a.Group != "" {
			fmt.Fprintf(w, " in %s", firstOf(a.GroupName, a.Group))
		}
		if a.Reason != "" {
			fmt.Fprintf(w, ": %s", a.Reason)
		}
		fmt.Fprintln(w)
	}
	for _, s := range x.Skipped {
		fmt.Fprintf(w, "  skipped in %s: %s\n", firstOf(s.Name, s.Group), s.Reason)
	}
	if len(x.Notes) > 0 {
		fmt.Fprintln(w, "\nNotes:")
		for _, n := range x.Notes {
			fmt.Fprintf(w, "  - %s\n", n)
		}
	}
}

func firstOf(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
