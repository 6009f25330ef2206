package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
)

// skippedKey is the record of the groups the last full reconcile skipped.
const skippedKey = "skipped-groups"

// saveSkipped stores the group-level skips of a full run (the groups it
// does not mirror, and why), for status to name them: one write per run.
func (e *Engine) saveSkipped(ctx context.Context, skips []Skip) error {
	groups := []Skip{}
	for _, s := range skips {
		if s.Member == "" {
			groups = append(groups, s)
		}
	}
	data, _ := json.Marshal(groups)
	var version int64
	switch rec, err := e.store.Get(ctx, RecordMeta, skippedKey); {
	case err == nil:
		version = rec.Version
	case !errors.Is(err, ErrNotFound):
		return fmt.Errorf("load skipped groups: %w", err)
	}
	if _, err := e.store.Put(ctx, RecordMeta, skippedKey, version, data); err != nil {
		return fmt.Errorf("save skipped groups: %w", err)
	}
	return nil
}

// LoadSkippedGroups returns the groups the last full reconcile skipped,
// with their names and reasons (none before the first).
func LoadSkippedGroups(ctx context.Context, s Store) ([]Skip, error) {
	rec, err := s.Get(ctx, RecordMeta, skippedKey)
	switch {
	case errors.Is(err, ErrNotFound):
		return nil, nil
	case err != nil:
		return nil, fmt.Errorf("load skipped groups: %w", err)
	}
	var out []Skip
	if err := json.Unmarshal(rec.Data, &out); err != nil {
		return nil, fmt.Errorf("decode skipped groups: %w", err)
	}
	return out, nil
}
