package engine

import (
	"fmt"
	"io"
	"time"
)

// Result is the outcome of one applied action.
type Result struct {
	Action  Action `json:"action"`
	Outcome string `json:"outcome"` // ok, failed
	Target  string `json:"target,omitempty"`
	Error   string `json:"error,omitempty"`
	// Failed lists users of a member action that could not be changed.
	Failed map[string]string `json:"failedUsers,omitempty"`
}

// Report is what a run did.
type Report struct {
	Run      string    `json:"run"`
	Started  time.Time `json:"started"`
	Finished time.Time `json:"finished"`
	DryRun   bool      `json:"dryRun"`
	// Drifted are the source groups whose mirror a mirror pass found
	// changed by someone else in the target (this run syncs them).
	Drifted []string `json:"drifted,omitempty"`
	// DriftedUsers are the source users whose target user a target users
	// pass found changed by someone else (and synced).
	DriftedUsers []string `json:"driftedUsers,omitempty"`
	// Halted is set when the deletion threshold stopped the run.
	Halted  bool     `json:"halted"`
	Plan    *Plan    `json:"plan"`
	Results []Result `json:"results,omitempty"`
	Summary Summary  `json:"summary"`
	// Requests counts Graph requests by tenant and route, when the caller
	// measures them.
	Requests map[string]map[string]int `json:"requests,omitempty"`
}

// Summary counts what a run changed.
type Summary struct {
	GroupsCreated  int `json:"groupsCreated"`
	GroupsUpdated  int `json:"groupsUpdated"`
	GroupsRestored int `json:"groupsRestored"`
	GroupsDeleted  int `json:"groupsDeleted"`
	GroupsReleased int `json:"groupsReleased"`
	MembersAdded   int `json:"membersAdded"`
	MembersRemoved int `json:"membersRemoved"`
	UsersInvited   int `json:"usersInvited"`
	UsersMatched   int `json:"usersMatched"`
	UsersLinked    int `json:"usersLinked"`
	GroupsAdopted  int `json:"groupsAdopted"`
	UsersDeleted   int `json:"usersDeleted"`
	UsersDisabled  int `json:"usersDisabled"`
	UsersEnabled   int `json:"usersEnabled"`
	UsersUpdated   int `json:"usersUpdated"`
	Skipped        int `json:"skipped"` // the plan's Skipped entries
	Failures       int `json:"failures"`
}

// LogAttrs are the summary's counts as log attributes, under fixed keys in
// a fixed order, zeros included, for the "run done" line and its kin.
func (s Summary) LogAttrs() []any {
	return []any{
		"created", s.GroupsCreated, "updated", s.GroupsUpdated, "restored", s.GroupsRestored,
		"deleted", s.GroupsDeleted, "released", s.GroupsReleased, "adopted", s.GroupsAdopted,
		"added", s.MembersAdded, "removed", s.MembersRemoved,
		"invited", s.UsersInvited, "matched", s.UsersMatched, "linked", s.UsersLinked,
		"users_updated", s.UsersUpdated, "users_disabled", s.UsersDisabled, "users_enabled", s.UsersEnabled,
		"users_deleted", s.UsersDeleted, "skipped", s.Skipped, "failures", s.Failures,
	}
}

// FailureCount is how many actions and reads failed.
func (r *Report) FailureCount() int {
	n := r.Summary.Failures
	if r.Plan != nil {
		n = max(n, len(r.Plan.Failed))
	}
	return n
}

// Failed reports whether any action or read failed.
func (r *Report) Failed() bool {
	return r.Summary.Failures > 0 || (r.Plan != nil && len(r.Plan.Failed) > 0)
}

// Converged reports whether the run left nothing to do: applied without
// failures, not halted, not a dry run.
func (r *Report) Converged() bool { return !r.Halted && !r.DryRun && !r.Failed() }

// Merge adds another run's results to r (a second pass).
func (r *Report) Merge(o *Report) {
	if o == nil {
		return
	}
	r.Results = append(r.Results, o.Results...)
	s, t := &r.Summary, o.Summary
	s.GroupsCreated += t.GroupsCreated
	s.GroupsUpdated += t.GroupsUpdated
	s.GroupsRestored += t.GroupsRestored
	s.GroupsDeleted += t.GroupsDeleted
	s.GroupsReleased += t.GroupsReleased
	s.MembersAdded += t.MembersAdded
	s.MembersRemoved += t.MembersRemoved
	s.UsersInvited += t.UsersInvited
	s.UsersMatched += t.UsersMatched
	s.UsersLinked += t.UsersLinked
	s.GroupsAdopted += t.GroupsAdopted
	s.UsersDeleted += t.UsersDeleted
	s.UsersDisabled += t.UsersDisabled
	s.UsersEnabled += t.UsersEnabled
	s.UsersUpdated += t.UsersUpdated
	s.Skipped += t.Skipped
	s.Failures += t.Failures
	if o.Plan != nil && r.Plan != nil {
		r.Plan.Skipped = append(r.Plan.Skipped, o.Plan.Skipped...)
		r.Plan.Failed = append(r.Plan.Failed, o.Plan.Failed...)
		r.Plan.Held = append(r.Plan.Held, o.Plan.Held...)
	}
	r.Halted = r.Halted || o.Halted
	r.Finished = o.Finished
}

// PrintSummary writes the human summary.
func (r *Report) PrintSummary(w io.Writer) {
	s := r.Summary
	mode := "applied"
	switch {
	case r.DryRun:
		mode = "dry run (nothing written)"
	case r.Halted:
		mode = "HALTED by the deletion guard: removals, deletes and disables held, additions applied"
	}
	fmt.Fprintf(w, "run %s: %s in %s\n", r.Run, mode, r.Finished.Sub(r.Started).Round(time.Millisecond))
	if r.DryRun {
		r.Plan.Print(w)
		fmt.Fprintf(w, "removals, deletes and disables planned: %d\n", r.Plan.Deletions)
		return
	}
	if r.Halted {
		fmt.Fprintf(w, "  held: %d removals, deletes and disables\n", r.Plan.Deletions)
		for _, a := range r.Plan.Held {
			fmt.Fprintf(w, "  %-15s %s %s\n", "held", a.Kind, a.describe())
		}
	}
	fmt.Fprintf(w, "  groups:  %d created, %d adopted, %d updated, %d restored, %d deleted, %d released\n", s.GroupsCreated, s.GroupsAdopted, s.GroupsUpdated, s.GroupsRestored, s.GroupsDeleted, s.GroupsReleased)
	fmt.Fprintf(w, "  members: %d added, %d removed\n", s.MembersAdded, s.MembersRemoved)
	fmt.Fprintf(w, "  users:   %d invited, %d linked, %d matched, %d updated, %d deleted, %d disabled, %d enabled\n", s.UsersInvited, s.UsersLinked, s.UsersMatched, s.UsersUpdated, s.UsersDeleted, s.UsersDisabled, s.UsersEnabled)
	for _, sk := range r.Plan.Skipped {
		fmt.Fprintf(w, "  skipped: %s\n", sk.describe())
	}
	for _, f := range r.Plan.Failed {
		fmt.Fprintf(w, "  FAILED:  %s\n", f.describe())
	}
	for _, res := range r.Results {
		if res.Outcome != "ok" {
			fmt.Fprintf(w, "  FAILED:  %s %s: %s\n", res.Action.Kind, res.Action.describe(), res.Error)
		}
		for u, e := range res.Failed {
			fmt.Fprintf(w, "  FAILED:  %s user %s: %s\n", res.Action.Kind, u, e)
		}
	}
	if len(r.Plan.Actions) == 0 && !r.Failed() {
		fmt.Fprintln(w, "  converged: no changes needed")
	}
}
