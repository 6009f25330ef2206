package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/xtsync/xtsync/pkg/config"
	"github.com/xtsync/xtsync/pkg/engine"
	"github.com/xtsync/xtsync/pkg/msgraph"
	"github.com/xtsync/xtsync/pkg/queue"
	"github.com/xtsync/xtsync/pkg/service"
	"github.com/xtsync/xtsync/pkg/subscribe"
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
	cfgPath := fs.String("config", "", "configuration `file` (YAML)")
	if err := fs.parse(args); err != nil {
		return err
	}
	cfg, err := loadConfig(*cfgPath)
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
	cfg       *config.Config
	syncer    *syncer
	subs      *subscribe.Manager
	svc       *service.Service
	queue     *queue.Queue
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
	s, err := newSyncer(cfg, log)
	if err != nil {
		return nil, err
	}
	fail := func(err error) (*server, error) {
		s.Close()
		return nil, err
	}
	subs, err := subscribe.New(subscribe.Config{
		Graph: msgraph.NewSubscriptions(s.src), Store: s.store, TenantID: cfg.Source.TenantID,
		Scope: cfg.Scope.Groups, PublicURL: cfg.Server.PublicURL, Clock: engine.SystemClock{}, Log: log,
	})
	if err != nil {
		return fail(err)
	}
	if err := subs.Load(ctx); err != nil {
		return fail(err)
	}
	svc := service.New(s.eng, subs, nil, log, engine.SystemClock{})
	q := queue.New(svc.Process, queue.Options{Workers: cfg.Server.Workers, Log: log})
	svc.SetQueue(q)
	hook, err := webhook.New(webhook.Config{Subscriptions: subs, InScope: func(_ context.Context, id string) bool { return s.eng.InScope(id) }, Sink: svc, Log: log})
	if err != nil {
		return fail(err)
	}
	pub, _ := url.Parse(cfg.Server.PublicURL)
	prefix := strings.TrimRight(pub.Path, "/")
	mux := http.NewServeMux()
	mux.Handle(prefix+"/", http.StripPrefix(prefix, hook))
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
		cfg: cfg, syncer: s, subs: subs, svc: svc, queue: q, hook: hook, log: log, cancel: cancel, base: context.WithoutCancel(ctx), done: make(chan struct{}),
		addr: ln.Addr().String(), adminAddr: aln.Addr().String(),
		http: &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 10 * time.Second, WriteTimeout: 10 * time.Second, MaxHeaderBytes: 64 << 10},
	}
	srv.admin = &http.Server{Handler: srv.adminHandler(), ReadHeaderTimeout: 5 * time.Second}
	go srv.serve(srv.http, ln)
	go srv.serve(srv.admin, aln)
	q.Start(runCtx)
	// First the subscriptions (Graph calls the webhook to validate), then a
	// full reconcile; both again on their schedules.
	_ = q.Enqueue(runCtx, task.Of(task.Subscriptions, "").Key())
	_ = q.Enqueue(runCtx, task.Of(task.Reconcile, "").Key())
	go srv.schedule(runCtx, cfg.ReconcileEvery())
	log.Info("serving", "listen", srv.addr, "public_url", cfg.Server.PublicURL, "admin", srv.adminAddr, "groups", len(cfg.Scope.Groups))
	return srv, nil
}

func (srv *server) serve(hs *http.Server, ln net.Listener) {
	if err := hs.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		srv.log.Error("http server", "err", err)
	}
}

// schedule queues the periodic reconcile and the subscription check.
func (srv *server) schedule(ctx context.Context, every time.Duration) {
	defer close(srv.done)
	rec := time.NewTicker(every)
	defer rec.Stop()
	subs := time.NewTicker(min(every, time.Hour))
	defer subs.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-rec.C:
			_ = srv.queue.Enqueue(ctx, task.Of(task.Reconcile, "").Key())
		case <-subs.C:
			_ = srv.queue.Enqueue(ctx, task.Of(task.Subscriptions, "").Key())
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
		srv.closeErr = errors.Join(err, srv.queue.Close(ctx), srv.syncer.Close())
	})
	return srv.closeErr
}
