package engine

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// Explanation is what xtsync knows about one source user and what it
// would do to them next, for an operator asking why a user is (or is
// not) in a mirror.
type Explanation struct {
	// Query is what the operator asked for (a mail address or an id).
	Query string `json:"query"`
	// Source is the source user, when known (from the mapping or read).
	Source *Member `json:"source,omitempty"`
	// Mapping is how the user is mapped to a target user (nil: not).
	Mapping *UserMapping `json:"mapping,omitempty"`
	// Groups are the scoped source groups the user is a synced member of,
	// with their mirrors.
	Groups []ExplainedGroup `json:"groups"`
	// Target is the mapped target user as Graph shows it now.
	Target *User `json:"target,omitempty"`
	// Audit is what the runs did to the user, oldest first.
	Audit []AuditEntry `json:"audit"`
	// Next is what a run of the user's groups would do to the user now;
	// Skipped what it would leave out about them, and why.
	Next    []Action `json:"next"`
	Skipped []Skip   `json:"skipped"`
	// Notes are the explanation's conclusions, in sentences.
	Notes []string `json:"notes"`
}

// ExplainedGroup is a scoped source group a user is in, and its mirror.
type ExplainedGroup struct {
	SourceID string `json:"sourceId"`
	Name     string `json:"name,omitempty"`
	TargetID string `json:"targetId,omitempty"`
	// Member is whether the source lists the user as a direct or, when
	// flattening, transitive member (read for the group asked about).
	Member *bool `json:"member,omitempty"`
}

// Explain explains one user, named by a source or target user id or a
// mail address; group, when set, is a scoped source group to check the
// user's membership of. It writes nothing: the next run is a dry run.
func (e *Engine) Explain(ctx context.Context, who, group string) (*Explanation, error) {
	x := &Explanation{Query: who, Groups: []ExplainedGroup{}, Audit: []AuditEntry{}, Next: []Action{}, Skipped: []Skip{}}
	if group != "" && !slices.Contains(e.opts.Scope, group) {
		return nil, fmt.Errorf("group %s is not in scope: %w", group, ErrNotFound)
	}
	st, err := loadState(ctx, e.store)
	if err != nil {
		return nil, err
	}
	m := findUser(st, who)
	sourceID := ""
	switch {
	case m != nil:
		x.Mapping = m
		sourceID = m.SourceID
		x.Source = &Member{ID: m.SourceID, Type: TypeUser, DisplayName: m.DisplayName, Mail: m.Mail}
	case IsGUID(who):
		users, err := e.src.Users(ctx, []string{strings.ToLower(who)})
		if err != nil {
			return nil, fmt.Errorf("read source user %s: %w", who, err)
		}
		if u, ok := users[strings.ToLower(who)]; ok {
			x.Source, sourceID = &u, u.ID
			x.Notes = append(x.Notes, "not mapped: xtsync has not provisioned this user (not a member of a synced group, a guest, or not synced yet)")
		} else {
			x.Notes = append(x.Notes, "no source user and no mapped target user has this id")
		}
	default:
		x.Notes = append(x.Notes, "no user with this mail address is mapped by xtsync; ask by the source user's object id to read it from the source")
	}
	if m != nil {
		for _, gid := range m.Groups {
			g := st.groups[gid]
			eg := ExplainedGroup{SourceID: gid}
			if g != nil {
				eg.Name, eg.TargetID = g.SourceName, g.TargetID
			}
			x.Groups = append(x.Groups, eg)
		}
		if m.TargetID != "" {
			users, err := e.dst.Users(ctx, []string{m.TargetID})
			if err != nil {
				return nil, fmt.Errorf("read target user %s: %w", m.TargetID, err)
			}
			if u, ok := users[m.TargetID]; ok {
				x.Target = &u
			} else {
				x.Notes = append(x.Notes, "the mapped target user "+m.TargetID+" no longer exists: the next run provisions the user again")
			}
		}
		x.Notes = append(x.Notes, provenanceNote(m, x.Target, e.opts.LinkAttribute))
	}
	if group != "" && sourceID != "" {
		if err := e.explainGroup(ctx, x, st, group, sourceID); err != nil {
			return nil, err
		}
	}
	if err := e.explainAudit(ctx, x, sourceID); err != nil {
		return nil, err
	}
	return x, e.explainNext(ctx, x, sourceID)
}

// findUser is the mapping of a user named by source id, target id or mail.
func findUser(st *state, who string) *UserMapping {
	if m := st.users[strings.ToLower(who)]; m != nil {
		return m
	}
	for _, m := range st.users {
		if strings.EqualFold(m.TargetID, who) || (m.Mail != "" && strings.EqualFold(m.Mail, who)) {
			return m
		}
	}
	return nil
}

// provenanceNote says how the user came to be mapped, and what xtsync may
// therefore do to the target user.
func provenanceNote(m *UserMapping, target *User, linkAttr string) string {
	switch {
	case m.TargetID == "":
		return "an invitation was set out for this user and its outcome is not known yet: the next run finds the user by its link or address before inviting again"
	case m.Provenance == Created:
		return "created by xtsync (invited; the target user carries xtsync's link marker in " + linkAttr + "): xtsync keeps it in step, and may disable or delete it per sync.deprovision_users"
	default:
		return "matched: the user existed in the target before xtsync; xtsync adds and removes it in mirrors but never edits, disables or deletes it"
	}
}

// explainGroup reads whether the source lists the user in group.
func (e *Engine) explainGroup(ctx context.Context, x *Explanation, st *state, group, sourceID string) error {
	members, err := e.src.Members(ctx, group, e.opts.NestedGroups == NestedFlatten)
	if err != nil {
		return fmt.Errorf("list members of %s: %w", group, err)
	}
	in := slices.ContainsFunc(members, func(mem Member) bool { return mem.ID == sourceID })
	for i := range x.Groups {
		if x.Groups[i].SourceID == group {
			x.Groups[i].Member = &in
			return nil
		}
	}
	eg := ExplainedGroup{SourceID: group, Member: &in}
	if g := st.groups[group]; g != nil {
		eg.Name, eg.TargetID = g.SourceName, g.TargetID
	}
	x.Groups = append(x.Groups, eg)
	return nil
}

// explainAudit keeps the audit entries about the user.
func (e *Engine) explainAudit(ctx context.Context, x *Explanation, sourceID string) error {
	if sourceID == "" && x.Mapping == nil {
		return nil
	}
	targetID := ""
	if x.Mapping != nil {
		targetID = x.Mapping.TargetID
	}
	all, err := e.store.Audit(ctx, AuditQuery{})
	if err != nil {
		return fmt.Errorf("read the audit: %w", err)
	}
	for _, a := range all {
		if (sourceID != "" && a.Source == sourceID) || (targetID != "" && a.Target == targetID) || strings.Contains(a.Detail, sourceID) && sourceID != "" {
			x.Audit = append(x.Audit, a)
		}
	}
	return nil
}

// explainNext plans the user's groups (dry run) and keeps what concerns
// the user.
func (e *Engine) explainNext(ctx context.Context, x *Explanation, sourceID string) error {
	var groups []string
	for _, g := range x.Groups {
		if slices.Contains(e.opts.Scope, g.SourceID) {
			groups = append(groups, g.SourceID)
		}
	}
	if len(groups) == 0 || sourceID == "" {
		return nil
	}
	rep, err := e.SyncGroups(ctx, groups, RunOptions{DryRun: true})
	if err != nil && !errors.Is(err, ErrThreshold) {
		return fmt.Errorf("plan the user's groups: %w", err)
	}
	if rep == nil || rep.Plan == nil {
		return nil
	}
	targetID := ""
	if x.Mapping != nil {
		targetID = x.Mapping.TargetID
	}
	for _, a := range rep.Plan.Actions {
		if a.User == sourceID || slices.Contains(a.Users, sourceID) || (targetID != "" && slices.Contains(a.Users, targetID)) {
			x.Next = append(x.Next, a)
		}
	}
	for _, s := range rep.Plan.Skipped {
		if s.Member == sourceID {
			x.Skipped = append(x.Skipped, s)
		}
	}
	if len(x.Next) == 0 && len(x.Skipped) == 0 {
		x.Notes = append(x.Notes, "in step: the next run would change nothing about this user")
	}
	return nil
}
