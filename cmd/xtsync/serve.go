package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/xtsync/xtsync/pkg/app"
	"github.com/xtsync/xtsync/pkg/config"
	"github.com/xtsync/xtsync/pkg/engine"
	"github.com/xtsync/xtsync/pkg/memqueue"
	"github.com/xtsync/xtsync/pkg/metrics"
	"github.com/xtsync/xtsync/pkg/task"
	"github.com/xtsync/xtsync/pkg/webhook"
)

const serveAbout = `Serve runs xtsync on this machine: the webhook Graph calls with change
notifications (server.listen, reached at server.public_url), the
subscriptions on the source tenant, a queue whose workers apply each change
with a delta pass within seconds, and the full reconcile every
server.reconcile_interval. Local operator commands (status, audit) reach it
on server.admin_listen. It runs until interrupted.`

// runServe is `xtsync serve`.
func runServe(ctx context.Context, e env, args []string) error {
	fs := newFlagSet(e, "serve", "--config FILE", serveAbout)
	cfgPath := fs.configFlag()
	cfg, err := fs.parseConfig(args, cfgPath)
	if err != nil {
		return err
	}
	if err := cfg.RequireServer(); err != nil {
		return &usageError{err}
	}
	srv, err := startServer(ctx, cfg, e.log, nil)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "xtsync serving: webhook on %s (Graph calls %s/notifications), admin on %s\n", srv.addr, cfg.Server.PublicURL, srv.adminAddr)
	<-ctx.Done()
	e.log.Info("stopping")
	return srv.Close()
}

// server is a running `xtsync serve`.
type server struct {
	cfg   *config.Config
	local *local
	// history keeps a snapshot of local's metrics every 10 s for the last
	// hour (the console's charts).
	history   *metrics.History
	queue     *memqueue.Queue
	hook      *webhook.Handler
	http      *http.Server
	admin     *http.Server
	addr      string
	adminAddr string
	cancel    context.CancelFunc
	// base is startServer's context without its cancellation: Close's
	// shutdown deadline derives from it (keeping its values), since a
	// shutdown must outlive the cancelled context that asked for it.
	base      context.Context
	done      chan struct{}
	log       *slog.Logger
	closeOnce sync.Once
	closeErr  error
}

// startServer wires and starts everything `serve` runs; the webhook listens
// (on ln when given, else on server.listen) before the subscriptions are
// created, since Graph validates the endpoint.
func startServer(ctx context.Context, cfg *config.Config, log *slog.Logger, ln net.Listener) (*server, error) {
	if err := checkAdminListen("server.admin_listen", cfg.Server.AdminListen, os.Getenv(adminTokenEnv)); err != nil {
		return nil, err
	}
	var q *memqueue.Queue
	l, err := openLocal(ctx, cfg, log, func(process func(ctx context.Context, t task.Task) error) app.Queue {
		q = memqueue.New(process, memqueue.Options{Workers: cfg.Server.Workers, Log: log})
		return q
	})
	if err != nil {
		return nil, err
	}
	fail := func(err error) (*server, error) {
		l.Close()
		return nil, err
	}
	if err := l.Subscriptions.Load(ctx); err != nil {
		return fail(err)
	}
	if l.Subscriptions.Off() {
		log.Warn("subscriptions off", "hint", "xtsync unsubscribe turned the change notifications off: changes reach the target with the scheduled reconcile only; xtsync subscribe turns them on")
	}
	// The handler routes on the path's last segment, so it serves under
	// public_url's path as it is.
	hook, err := app.Webhook(l.Subscriptions, app.NewStoredMirrors(l.store, engine.SystemClock{}), l.Router, log)
	if err != nil {
		return fail(err)
	}
	if ln == nil {
		if ln, err = net.Listen("tcp", cfg.Server.Listen); err != nil {
			return fail(fmt.Errorf("server.listen: %w", err))
		}
	}
	aln, err := net.Listen("tcp", cfg.Server.AdminListen)
	if err != nil {
		ln.Close()
		return fail(fmt.Errorf("server.admin_listen: %w", err))
	}
	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	srv := &server{
		cfg: cfg, local: l, queue: q, history: metrics.NewHistory(l.metrics, 360), hook: hook, log: log, cancel: cancel, base: context.WithoutCancel(ctx), done: make(chan struct{}),
		addr: ln.Addr().String(), adminAddr: aln.Addr().String(),
		http: &http.Server{Handler: hook, ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 10 * time.Second, WriteTimeout: 10 * time.Second, MaxHeaderBytes: 64 << 10},
	}
	srv.admin = &http.Server{Handler: srv.adminHandler(), ReadHeaderTimeout: 5 * time.Second}
	go srv.serve(srv.http, ln)
	go srv.serve(srv.admin, aln)
	q.Start(runCtx)
	// First the subscriptions (Graph calls the webhook to validate), then a
	// full reconcile; both again on their schedules.
	_ = q.Enqueue(runCtx, task.Of(task.Subscriptions, ""), task.Of(task.Reconcile, ""))
	go srv.schedule(runCtx, cfg.ReconcileEvery())
	log.Info("serving", "listen", srv.addr, "public_url", cfg.Server.PublicURL, "admin", srv.adminAddr, "groups", len(cfg.Scope.Groups))
	return srv, nil
}

func (srv *server) serve(hs *http.Server, ln net.Listener) {
	if err := hs.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		srv.log.Error("http server", "err", err)
	}
}

// schedule runs the periodic tasks until ctx is done.
func (srv *server) schedule(ctx context.Context, every time.Duration) {
	defer close(srv.done)
	go srv.sample(ctx, 10*time.Second)
	schedule(ctx, srv.queue, every)
}

// sample records the metrics' history every `every` until ctx is done.
func (srv *server) sample(ctx context.Context, every time.Duration) {
	srv.history.Record(time.Now())
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			srv.history.Record(now)
		}
	}
}

// schedule queues the full reconcile every `every` and the subscription
// check every `every` or hourly, whichever is sooner.
func schedule(ctx context.Context, q app.Queue, every time.Duration) {
	rec := time.NewTicker(every)
	defer rec.Stop()
	subs := time.NewTicker(min(every, time.Hour))
	defer subs.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-rec.C:
			_ = q.Enqueue(ctx, task.Of(task.Reconcile, ""))
		case <-subs.C:
			_ = q.Enqueue(ctx, task.Of(task.Subscriptions, ""))
		}
	}
}

// Close stops taking notifications, lets running work finish (10 s at
// most) and closes the state.
func (srv *server) Close() error {
	srv.closeOnce.Do(func() {
		ctx, cancel := context.WithTimeout(srv.base, 10*time.Second)
		defer cancel()
		err := errors.Join(srv.http.Shutdown(ctx), srv.admin.Shutdown(ctx))
		srv.cancel()
		<-srv.done
		srv.closeErr = errors.Join(err, srv.queue.Close(ctx), srv.local.Close())
	})
	return srv.closeErr
}
