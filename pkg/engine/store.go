package engine

import (
	"context"
	"strings"
	"time"
)

// RecordKind names a family of state records.
type RecordKind string

// The record kinds the engine keeps.
const (
	RecordGroup RecordKind = "group" // GroupMapping by source group id
	RecordUser  RecordKind = "user"  // UserMapping by source user id
	RecordDelta RecordKind = "delta" // DeltaState by shard key
	RecordMeta  RecordKind = "meta"  // small documents (subscriptions, leases)
)

// Record is one versioned state record. Version 0 means "absent".
type Record struct {
	Key     string
	Version int64
	Data    []byte
}

// Store keeps the engine's state with versioned conditional writes. The
// embedded bbolt store and the DynamoDB store implement it and pass the same
// contract suite (engine/storetest).
type Store interface {
	// Get returns a record, or ErrNotFound.
	Get(ctx context.Context, kind RecordKind, key string) (Record, error)
	// List returns every record of a kind, in key order.
	List(ctx context.Context, kind RecordKind) ([]Record, error)
	// Put writes data when the stored version equals version (0: the record
	// must not exist) and returns the new version; else ErrConflict.
	Put(ctx context.Context, kind RecordKind, key string, version int64, data []byte) (int64, error)
	// Delete removes a record when its version equals version; else
	// ErrConflict (ErrNotFound when absent).
	Delete(ctx context.Context, kind RecordKind, key string, version int64) error
	// AppendAudit records applied actions.
	AppendAudit(ctx context.Context, entries ...AuditEntry) error
	// Audit lists audit entries matching q, oldest first.
	Audit(ctx context.Context, q AuditQuery) ([]AuditEntry, error)
}

// AuditEntry is one applied (or failed) action, as a provisioning log
// names it: the run and what triggered it, the action, the group, the
// object in each tenant by id and by name, the outcome and the error.
//
// Source and Target are the object the action is about in each tenant:
// for a group action the source group and its mirror, for a user action
// and for a member of a member action (add-members, remove-members: one
// entry per member) the source user and its target user. An id or name
// the run did not know is empty (a target user removed from a mirror
// that maps no source user has no Source). The names are what the plan
// and the state held: a group's display name in each tenant; a source
// user's display name (its mail address when the name is not known) and
// the address its target user was matched or invited by.
//
// Entries stored before GroupName, SourceName, TargetName and Trigger
// existed decode with those empty.
type AuditEntry struct {
	Time    time.Time `json:"time"`
	Run     string    `json:"run"`
	Trigger string    `json:"trigger,omitempty"` // RunOptions.Trigger: TriggerReconcile, ...
	Action  string    `json:"action"`            // an ActionKind
	Group   string    `json:"group,omitempty"`   // source group id
	// GroupName is the source group's display name.
	GroupName  string `json:"groupName,omitempty"`
	Source     string `json:"source,omitempty"` // source object id
	SourceName string `json:"sourceName,omitempty"`
	Target     string `json:"target,omitempty"` // target object id
	TargetName string `json:"targetName,omitempty"`
	Outcome    string `json:"outcome"` // OutcomeStarted, OutcomeOK, OutcomeFailed
	// Detail is the action's reason, or the error of a failed one.
	Detail string `json:"detail,omitempty"`
}

// Audit outcomes. A write is audited as started before it is sent, and
// with its outcome as soon as that is known: a started entry without an
// outcome is a write a crash interrupted, which may have been applied.
const (
	OutcomeStarted = "started"
	OutcomeOK      = "ok"
	OutcomeFailed  = "failed"
)

// AuditOutcomes lists the audit outcomes, in the order a write has them.
func AuditOutcomes() []string { return []string{OutcomeStarted, OutcomeOK, OutcomeFailed} }

// AuditQuery selects audit entries; zero fields match everything.
type AuditQuery struct {
	// Group is a source group id.
	Group string
	// User selects the entries about one user or object: its id in either
	// tenant (Source, Target) or its name (SourceName, TargetName, so a
	// mail address), compared without case.
	User string
	// Action is an action kind ("add-members").
	Action string
	// Outcome is OutcomeStarted, OutcomeOK or OutcomeFailed.
	Outcome string
	// Since and Until bound Time: Since inclusive, Until exclusive.
	Since time.Time
	Until time.Time
	Limit int // newest Limit entries when > 0
}

// Matches reports whether e is selected by q (ignoring Limit).
func (q AuditQuery) Matches(e AuditEntry) bool {
	switch {
	case q.Group != "" && !strings.EqualFold(e.Group, q.Group),
		q.Action != "" && e.Action != q.Action,
		q.Outcome != "" && e.Outcome != q.Outcome,
		q.User != "" && !e.names(q.User),
		!q.Since.IsZero() && e.Time.Before(q.Since),
		!q.Until.IsZero() && !e.Time.Before(q.Until):
		return false
	}
	return true
}

// names reports whether e's source or target is user: its id or its
// name, without case (ids are GUIDs, names mail addresses or display
// names).
func (e AuditEntry) names(user string) bool {
	for _, s := range []string{e.Source, e.Target, e.SourceName, e.TargetName} {
		if s != "" && strings.EqualFold(s, user) {
			return true
		}
	}
	return false
}
