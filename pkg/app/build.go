package app

import (
	"context"
	"errors"
	"log/slog"

	"github.com/xtsync/xtsync/pkg/config"
	"github.com/xtsync/xtsync/pkg/engine"
	"github.com/xtsync/xtsync/pkg/subscribe"
	"github.com/xtsync/xtsync/pkg/task"
)

// Deps are the adapters of one deployment, built by its wiring:
// cmd/xtsync for `serve` and the one-shot commands, pkg/lambdaapp for the
// worker and reconcile functions.
type Deps struct {
	// Config is the loaded configuration.
	Config *config.Config
	// Graph are the two tenants' Graph adapters: the source, the target,
	// the source's /subscriptions and, to watch the mirrors, the target's
	// group delta and /subscriptions.
	Graph engine.Graph
	// Store is the state (bbolt, or DynamoDB).
	Store engine.Store
	// Queue builds the queue tasks go through; process is the worker's
	// Process, which an in-process queue runs (an SQS queue's worker is
	// the Lambda function, so it ignores it). Nil for a one-shot command:
	// the App then has no Queue and no Router.
	Queue func(process func(ctx context.Context, t task.Task) error) Queue
	// Approve tells operators how to approve a plan the deletion guard
	// holds (ApproveServe, ApproveAWS).
	Approve string
	// Metrics, optional, counts changes received and applied and held
	// runs (pkg/metrics.Set).
	Metrics Metrics
	Log     *slog.Logger
	Clock   engine.Clock
}

// App is xtsync assembled: the engine, the subscription manager, the
// worker that runs tasks with them, and the queue and router that feed it.
type App struct {
	Config        *config.Config
	Engine        *engine.Engine
	Subscriptions *Subscriptions
	Sharding      engine.Sharding
	Queue         Queue
	Worker        *Worker
	Router        *Router
}

// Build assembles the App of a deployment from its adapters.
func Build(d Deps) (*App, error) {
	g := d.Graph
	if d.Config == nil || g.Source == nil || g.Target == nil || g.Subscriptions == nil || d.Store == nil || d.Log == nil || d.Clock == nil {
		return nil, errors.New("app: config, source, target, subscriptions, store, log and clock are required")
	}
	if (g.Mirrors == nil) != (g.MirrorSubscriptions == nil) {
		return nil, errors.New("app: watching the mirrors needs both the target's group delta and its subscriptions")
	}
	c := d.Config
	eng, err := engine.New(g.Source, g.Target, d.Store, c.EngineOptions(), d.Log, d.Clock)
	if err != nil {
		return nil, err
	}
	subs := &Subscriptions{}
	subs.Source, err = subscribe.New(subscribe.Config{
		Graph: g.Subscriptions, Store: d.Store, TenantID: c.Source.TenantID, Scope: c.Scope.Groups,
		PublicURL: c.Server.PublicURL, Clock: d.Clock, Log: d.Log,
	})
	if err != nil {
		return nil, err
	}
	if g.Mirrors != nil {
		eng.WatchMirrors(g.Mirrors)
		if g.TargetUsers != nil {
			eng.WatchTargetUsers(g.TargetUsers)
		}
		subs.Mirrors, err = subscribe.New(subscribe.Config{
			Graph: g.MirrorSubscriptions, Store: d.Store, TenantID: c.Target.TenantID,
			Mirrors:   func(ctx context.Context) (map[string]string, error) { return mirrorIDs(ctx, d.Store, c.Scope.Groups) },
			PublicURL: c.Server.PublicURL, Clock: d.Clock, Log: d.Log.With("tenant", "target"),
		})
		if err != nil {
			return nil, err
		}
	}
	a := &App{
		Config: c, Engine: eng, Subscriptions: subs, Sharding: engine.NewSharding(c.Scope.Groups),
		Worker: NewWorker(eng, subs, d.Approve, d.Metrics, d.Log, d.Clock),
	}
	if d.Queue != nil {
		a.Queue = d.Queue(a.Worker.Process)
		a.Router = NewRouter(Sharding{a.Sharding}, a.Queue, d.Metrics, d.Log)
	}
	return a, nil
}

// mirrorIDs are the mirrors of the scoped groups: target id -> source id.
func mirrorIDs(ctx context.Context, store engine.Store, scope []string) (map[string]string, error) {
	maps, err := engine.LoadGroupMappings(ctx, store)
	if err != nil {
		return nil, err
	}
	in := make(map[string]bool, len(scope))
	for _, id := range scope {
		in[id] = true
	}
	out := map[string]string{}
	for _, m := range maps {
		if m.TargetID != "" && in[m.SourceID] {
			out[m.TargetID] = m.SourceID
		}
	}
	return out, nil
}

// Status is what the router and the worker have done since start.
type Status struct {
	RouterStatus
	WorkerStatus
}

// Status returns the router's and the worker's status.
func (a *App) Status() Status {
	var s Status
	if a.Router != nil {
		s.RouterStatus = a.Router.Status()
	}
	s.WorkerStatus = a.Worker.Status()
	return s
}
