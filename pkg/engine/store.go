package engine

import (
	"context"
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

// AuditEntry is one applied (or failed) action.
type AuditEntry struct {
	Time    time.Time `json:"time"`
	Run     string    `json:"run"`
	Action  string    `json:"action"`
	Group   string    `json:"group,omitempty"`  // source group id
	Source  string    `json:"source,omitempty"` // source object id
	Target  string    `json:"target,omitempty"` // target object id
	Outcome string    `json:"outcome"`          // OutcomeStarted, OutcomeOK, OutcomeFailed
	Detail  string    `json:"detail,omitempty"`
}

// Audit outcomes. A write is audited as started before it is sent, and
// with its outcome as soon as that is known: a started entry without an
// outcome is a write a crash interrupted, which may have been applied.
const (
	OutcomeStarted = "started"
	OutcomeOK      = "ok"
	OutcomeFailed  = "failed"
)

// AuditQuery selects audit entries; zero fields match everything.
type AuditQuery struct {
	Group string
	Since time.Time
	Limit int // newest Limit entries when > 0
}

// Matches reports whether e is selected by q (ignoring Limit).
func (q AuditQuery) Matches(e AuditEntry) bool {
	if q.Group != "" && e.Group != q.Group {
		return false
	}
	return q.Since.IsZero() || !e.Time.Before(q.Since)
}
