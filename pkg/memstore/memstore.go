// Package memstore is an in-memory engine.Store, for tests and dry runs.
package memstore

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/xtsync/xtsync/pkg/engine"
)

var _ engine.Store = (*Store)(nil)

// Store keeps records and the audit log in memory.
type Store struct {
	mu    sync.Mutex
	recs  map[engine.RecordKind]map[string]engine.Record
	audit []engine.AuditEntry
}

// New returns an empty store.
func New() *Store { return &Store{recs: map[engine.RecordKind]map[string]engine.Record{}} }

// Get returns a record.
func (s *Store) Get(_ context.Context, kind engine.RecordKind, key string) (engine.Record, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.recs[kind][key]
	if !ok {
		return engine.Record{}, fmt.Errorf("%s %s: %w", kind, key, engine.ErrNotFound)
	}
	r.Data = slices.Clone(r.Data)
	return r, nil
}

// List returns a kind's records in key order.
func (s *Store) List(_ context.Context, kind engine.RecordKind) ([]engine.Record, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]engine.Record, 0, len(s.recs[kind]))
	for _, r := range s.recs[kind] {
		r.Data = slices.Clone(r.Data)
		out = append(out, r)
	}
	slices.SortFunc(out, func(a, b engine.Record) int { return strings.Compare(a.Key, b.Key) })
	return out, nil
}

// Put writes a record if its version matches.
func (s *Store) Put(_ context.Context, kind engine.RecordKind, key string, version int64, data []byte) (int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	cur := s.recs[kind][key]
	if cur.Version != version {
		return 0, fmt.Errorf("%s %s at version %d, not %d: %w", kind, key, cur.Version, version, engine.ErrConflict)
	}
	if s.recs[kind] == nil {
		s.recs[kind] = map[string]engine.Record{}
	}
	s.recs[kind][key] = engine.Record{Key: key, Version: version + 1, Data: slices.Clone(data)}
	return version + 1, nil
}

// Delete removes a record if its version matches.
func (s *Store) Delete(_ context.Context, kind engine.RecordKind, key string, version int64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	cur, ok := s.recs[kind][key]
	if !ok {
		return fmt.Errorf("%s %s: %w", kind, key, engine.ErrNotFound)
	}
	if cur.Version != version {
		return fmt.Errorf("%s %s at version %d, not %d: %w", kind, key, cur.Version, version, engine.ErrConflict)
	}
	delete(s.recs[kind], key)
	return nil
}

// AppendAudit records entries.
func (s *Store) AppendAudit(_ context.Context, entries ...engine.AuditEntry) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.audit = append(s.audit, entries...)
	slices.SortStableFunc(s.audit, func(a, b engine.AuditEntry) int { return a.Time.Compare(b.Time) })
	return nil
}

// Audit lists matching entries, oldest first.
func (s *Store) Audit(_ context.Context, q engine.AuditQuery) ([]engine.AuditEntry, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []engine.AuditEntry
	for _, e := range s.audit {
		if q.Matches(e) {
			out = append(out, e)
		}
	}
	if q.Limit > 0 && len(out) > q.Limit {
		out = out[len(out)-q.Limit:]
	}
	return out, nil
}
