package main

import (
	"errors"
	"fmt"
	"log/slog"
	"time"

	bolterrors "go.etcd.io/bbolt/errors"

	"github.com/xtsync/xtsync/pkg/boltstore"
	"github.com/xtsync/xtsync/pkg/config"
	"github.com/xtsync/xtsync/pkg/engine"
	"github.com/xtsync/xtsync/pkg/msgraph"
)

// syncer is the engine wired to both tenants and the embedded state.
type syncer struct {
	eng      *engine.Engine
	store    *boltstore.Store
	src, dst *msgraph.Client
	scope    []string
}

func (s *syncer) Close() error { return s.store.Close() }

// requests returns the Graph requests sent so far, by tenant and route.
func (s *syncer) requests() map[string]map[string]int {
	return map[string]map[string]int{"source": s.src.Counter().Snapshot(), "target": s.dst.Counter().Snapshot()}
}

// newSyncer builds the engine from a loaded configuration.
func newSyncer(cfg *config.Config, log *slog.Logger) (*syncer, error) {
	src, err := msgraph.ForTenant(cfg.Source, log.With("tenant", "source"))
	if err != nil {
		return nil, &usageError{fmt.Errorf("source: %w", err)}
	}
	dst, err := msgraph.ForTenant(cfg.Target, log.With("tenant", "target"))
	if err != nil {
		return nil, &usageError{fmt.Errorf("target: %w", err)}
	}
	store, err := boltstore.Open(cfg.State.Path, 5*time.Second)
	if err != nil {
		if errors.Is(err, bolterrors.ErrTimeout) {
			return nil, fmt.Errorf("state.path: %w: is another xtsync running? (stop `xtsync serve`, or run the command against it)", err)
		}
		if perr := config.CheckStatePath(cfg.State.Path); perr != nil {
			return nil, fmt.Errorf("%w (%w)", perr, err)
		}
		return nil, fmt.Errorf("state.path: %w", err)
	}
	eng, err := engine.New(msgraph.NewSource(src, msgraph.SchemaOf(cfg.EngineOptions())), msgraph.NewTarget(dst, msgraph.SchemaOf(cfg.EngineOptions())), store, cfg.EngineOptions(), log, engine.SystemClock{})
	if err != nil {
		store.Close()
		return nil, err
	}
	return &syncer{eng: eng, store: store, src: src, dst: dst, scope: cfg.Scope.Groups}, nil
}
