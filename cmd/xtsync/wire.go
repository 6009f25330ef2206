package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"time"

	bolterrors "go.etcd.io/bbolt/errors"

	"github.com/xtsync/xtsync/pkg/app"
	"github.com/xtsync/xtsync/pkg/boltstore"
	"github.com/xtsync/xtsync/pkg/config"
	"github.com/xtsync/xtsync/pkg/engine"
	"github.com/xtsync/xtsync/pkg/memstore"
	"github.com/xtsync/xtsync/pkg/metrics"
	"github.com/xtsync/xtsync/pkg/msgraph"
	"github.com/xtsync/xtsync/pkg/task"
)

// local is xtsync on this machine: the application (app.Build) over both
// tenants' Graph clients and the embedded state.
type local struct {
	*app.App
	store    stateStore
	src, dst *msgraph.Client
	// metrics counts what this process does (serve's /metrics).
	metrics *metrics.Set
}

// stateStore is the state a local run opens: the bbolt file, or, for a
// dry run with no state file yet, an empty state in memory (a dry run
// creates no file).
type stateStore interface {
	engine.Store
	Close() error
}

// unclosed is a state with nothing to close: the in-memory one of a dry
// run without a state file, the AWS deployment's table (its client holds
// no resource to release).
type unclosed struct{ engine.Store }

// Close closes nothing.
func (unclosed) Close() error { return nil }

// Close closes the state.
func (l *local) Close() error { return l.store.Close() }

// requests returns the Graph requests sent so far, by tenant and route.
func (l *local) requests() map[string]map[string]int {
	return map[string]map[string]int{"source": l.src.Counter().Snapshot(), "target": l.dst.Counter().Snapshot()}
}

// openLocal signs in to both tenants, opens the state and builds the
// application. queue builds serve's queue over the worker's Process; nil
// for a one-shot command (reconcile, unsubscribe).
func openLocal(ctx context.Context, cfg *config.Config, log *slog.Logger, queue func(process func(ctx context.Context, t task.Task) error) app.Queue) (*local, error) {
	return openLocalDry(ctx, cfg, log, queue, false)
}

// openLocalDry is openLocal; with dry, a missing state file is not
// created: the run sees an empty state in memory.
func openLocalDry(ctx context.Context, cfg *config.Config, log *slog.Logger, queue func(process func(ctx context.Context, t task.Task) error) app.Queue, dry bool) (*local, error) {
	m := metrics.New()
	src, err := msgraph.ForTenant("source", cfg.Source, log, m)
	if err != nil {
		return nil, &usageError{fmt.Errorf("source: %w", err)}
	}
	dst, err := msgraph.ForTenant("target", cfg.Target, log, m)
	if err != nil {
		return nil, &usageError{fmt.Errorf("target: %w", err)}
	}
	var store stateStore
	if _, serr := os.Stat(cfg.State.Path); cfg.State.DynamoDBTable != "" {
		if !dry {
			return nil, errAWSWrites(cfg, "the reconcile function runs, approves and syncs")
		}
		store, err = openAWSState(ctx, cfg)
	} else if dry && errors.Is(serr, fs.ErrNotExist) {
		store = unclosed{memstore.New()}
	} else {
		store, err = boltstore.Open(cfg.State.Path, 5*time.Second)
	}
	if err != nil {
		if errors.Is(err, bolterrors.ErrTimeout) {
			return nil, fmt.Errorf("state.path: %w: is another xtsync running? (stop `xtsync serve`, or run the command against it)", err)
		}
		if perr := config.CheckStatePath(cfg.State.Path); perr != nil {
			return nil, fmt.Errorf("%w (%w)", perr, err)
		}
		return nil, fmt.Errorf("state.path: %w", err)
	}
	a, err := app.Build(app.Deps{
		Config: cfg, Graph: msgraph.Graph(cfg, src, dst), Store: store, Queue: queue,
		Approve: app.ApproveServe, Metrics: m, Log: log, Clock: engine.SystemClock{},
	})
	if err != nil {
		store.Close()
		return nil, err
	}
	return &local{App: a, store: store, src: src, dst: dst, metrics: m}, nil
}
