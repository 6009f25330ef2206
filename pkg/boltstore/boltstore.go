// Package boltstore is the embedded engine.Store of the single-machine mode:
// one bbolt file, a bucket per record kind, versions stored with the data,
// and an append-only audit bucket ordered by time.
package boltstore

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/xtsync/xtsync/pkg/engine"
)

var _ engine.Store = (*Store)(nil)

const auditBucket = "audit"

// Store is a bbolt-backed engine.Store.
type Store struct {
	db *bolt.DB
}

// Open opens (creating if needed) the state file at path. Only one process
// may hold it: a second Open waits up to timeout, then fails.
func Open(path string, timeout time.Duration) (*Store, error) {
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: timeout})
	if err != nil {
		return nil, fmt.Errorf("open state %s: %w", path, err)
	}
	return &Store{db: db}, nil
}

// Close closes the file.
func (s *Store) Close() error { return s.db.Close() }

func encode(version int64, data []byte) []byte {
	b := make([]byte, 8+len(data))
	binary.BigEndian.PutUint64(b, uint64(version))
	copy(b[8:], data)
	return b
}

func decode(key, v []byte) engine.Record {
	return engine.Record{Key: string(key), Version: int64(binary.BigEndian.Uint64(v[:8])), Data: bytes.Clone(v[8:])}
}

// Get returns a record.
func (s *Store) Get(_ context.Context, kind engine.RecordKind, key string) (engine.Record, error) {
	var r engine.Record
	err := s.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket([]byte(kind))
		var v []byte
		if b != nil {
			v = b.Get([]byte(key))
		}
		if v == nil {
			return fmt.Errorf("%s %s: %w", kind, key, engine.ErrNotFound)
		}
		r = decode([]byte(key), v)
		return nil
	})
	return r, err
}

// List returns a kind's records in key order.
func (s *Store) List(_ context.Context, kind engine.RecordKind) ([]engine.Record, error) {
	var out []engine.Record
	err := s.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket([]byte(kind))
		if b == nil {
			return nil
		}
		return b.ForEach(func(k, v []byte) error {
			out = append(out, decode(k, v))
			return nil
		})
	})
	return out, err
}

// Put writes a record if its version matches.
func (s *Store) Put(_ context.Context, kind engine.RecordKind, key string, version int64, data []byte) (int64, error) {
	err := s.db.Update(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists([]byte(kind))
		if err != nil {
			return err
		}
		var cur int64
		if v := b.Get([]byte(key)); v != nil {
			cur = int64(binary.BigEndian.Uint64(v[:8]))
		}
		if cur != version {
			return fmt.Errorf("%s %s at version %d, not %d: %w", kind, key, cur, version, engine.ErrConflict)
		}
		return b.Put([]byte(key), encode(version+1, data))
	})
	if err != nil {
		return 0, err
	}
	return version + 1, nil
}

// Delete removes a record if its version matches.
func (s *Store) Delete(_ context.Context, kind engine.RecordKind, key string, version int64) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket([]byte(kind))
		var v []byte
		if b != nil {
			v = b.Get([]byte(key))
		}
		if v == nil {
			return fmt.Errorf("%s %s: %w", kind, key, engine.ErrNotFound)
		}
		if cur := int64(binary.BigEndian.Uint64(v[:8])); cur != version {
			return fmt.Errorf("%s %s at version %d, not %d: %w", kind, key, cur, version, engine.ErrConflict)
		}
		return b.Delete([]byte(key))
	})
}

// AppendAudit records entries under keys ordered by time.
func (s *Store) AppendAudit(_ context.Context, entries ...engine.AuditEntry) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists([]byte(auditBucket))
		if err != nil {
			return err
		}
		for _, e := range entries {
			seq, _ := b.NextSequence()
			k := make([]byte, 16)
			binary.BigEndian.PutUint64(k, uint64(e.Time.UnixNano()))
			binary.BigEndian.PutUint64(k[8:], seq)
			v, err := json.Marshal(e)
			if err != nil {
				return err
			}
			if err := b.Put(k, v); err != nil {
				return err
			}
		}
		return nil
	})
}

// Audit lists the entries matching q, oldest first: it reads the keys
// from q.Since to q.Until (they are ordered by time) and applies the
// rest of q to each entry.
func (s *Store) Audit(_ context.Context, q engine.AuditQuery) ([]engine.AuditEntry, error) {
	var out []engine.AuditEntry
	err := s.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket([]byte(auditBucket))
		if b == nil {
			return nil
		}
		c := b.Cursor()
		start := make([]byte, 8)
		if !q.Since.IsZero() {
			binary.BigEndian.PutUint64(start, uint64(q.Since.UnixNano()))
		}
		for k, v := c.Seek(start); k != nil; k, v = c.Next() {
			if !q.Until.IsZero() && binary.BigEndian.Uint64(k) >= uint64(q.Until.UnixNano()) {
				break
			}
			var e engine.AuditEntry
			if err := json.Unmarshal(v, &e); err != nil {
				return fmt.Errorf("decode audit entry: %w", err)
			}
			if q.Matches(e) {
				out = append(out, e)
			}
		}
		return nil
	})
	if q.Limit > 0 && len(out) > q.Limit {
		out = out[len(out)-q.Limit:]
	}
	return out, err
}
