package lambdaapp

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/xtsync/xtsync/pkg/metrics"
	"log/slog"
	"net/http"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/ssm"

	"github.com/xtsync/xtsync/internal/lazy"
	"github.com/xtsync/xtsync/pkg/app"
	"github.com/xtsync/xtsync/pkg/config"
	"github.com/xtsync/xtsync/pkg/contract"
	"github.com/xtsync/xtsync/pkg/dynamostore"
	"github.com/xtsync/xtsync/pkg/emf"
	"github.com/xtsync/xtsync/pkg/engine"
	"github.com/xtsync/xtsync/pkg/sqsqueue"
	"github.com/xtsync/xtsync/pkg/subscribe"
	"github.com/xtsync/xtsync/pkg/task"
)

// The SQS queue is the application's queue on AWS.
var _ app.Queue = (*sqsqueue.Queue)(nil)

// ---- webhook ----

// scope is the webhook function's scope: the configuration is loaded on
// the first notification (never for a validation request), under the
// request's context, and kept for the life of the container.
type scope struct{ sharding lazy.Value[engine.Sharding] }

func newScope(load func(ctx context.Context) (*config.Config, error), log *slog.Logger) *scope {
	return &scope{sharding: lazy.Value[engine.Sharding]{Clock: engine.SystemClock{}, Load: func(ctx context.Context) (engine.Sharding, error) {
		cfg, err := load(ctx)
		if err != nil {
			log.ErrorContext(ctx, "load config", "err", err)
			return engine.Sharding{}, err
		}
		return engine.NewSharding(cfg.Scope.Groups), nil
	}}}
}

// ShardOf implements app.Scope. While the configuration cannot be loaded
// no group is in scope: the item is not acted on, and the reconcile
// repairs.
func (s *scope) ShardOf(ctx context.Context, groupID string) string {
	sh, ok := s.sharding.Get(ctx, false)
	if !ok {
		return ""
	}
	return sh.ShardOf(groupID)
}

// NewWebhook builds the webhook function's HTTP handler: the application's
// router to SQS behind pkg/webhook, over the subscriptions stored in
// DynamoDB. It makes no AWS call until a notification needs one. After
// each request it writes the changes it received to out as EMF (none
// without s.MetricsNamespace).
func NewWebhook(s Settings, cfg aws.Config, log *slog.Logger, out MetricsOut) (http.Handler, error) {
	store := dynamostore.New(dynamodb.NewFromConfig(cfg), s.Table, dynamostore.Options{Clock: engine.SystemClock{}})
	sc := newScope(func(ctx context.Context) (*config.Config, error) {
		return LoadConfig(ctx, s, ssm.NewFromConfig(cfg), nil, false)
	}, log)
	// Graph wants an answer within 3 s. The dedup window is short: a
	// message deduplicated away while a pass of its shard is already past
	// its delta read would leave a change to the next reconcile; a spare
	// message costs one empty delta read.
	q := sqsqueue.New(sqs.NewFromConfig(cfg), s.QueueURL, sqsqueue.Options{Timeout: 2 * time.Second, DedupWindow: time.Millisecond})
	m := metrics.New()
	h, err := app.Webhook(subscribe.NewStoredLookup(store, engine.SystemClock{}), app.NewStoredMirrors(store, engine.SystemClock{}), app.NewRouter(sc, q, m, log), log)
	if err != nil {
		return nil, err
	}
	return flushAfter(h, NewFlusher(m, s.MetricsNamespace, out, log)), nil
}

// ---- worker and reconcile ----

// App is the application of the worker and reconcile functions: the
// engine over the DynamoDB store and the SQS queue.
type App struct {
	*app.App
	Store *dynamostore.Store
	// Metrics counts what this function instance does.
	Metrics *metrics.Set
	// Flusher writes Metrics after each invocation (EMF).
	Flusher *Flusher
	clock   engine.Clock
	log     *slog.Logger
}

// GraphPorts builds the Graph side of a configuration: the engine's source
// and target, and the source's subscriptions. The worker and reconcile mains
// pass msgraph.Ports; this package does not import msgraph, so the webhook
// function, which also imports it, links no Graph SDK.
type GraphPorts func(c *config.Config, log *slog.Logger, m *metrics.Set) (engine.Graph, error)

// New loads the configuration and secrets (once per container) and builds
// the application with app.Build. After each invocation the handlers write
// what the function counted to out as EMF (none without
// s.MetricsNamespace).
func New(ctx context.Context, s Settings, cfg aws.Config, log *slog.Logger, graph GraphPorts, out MetricsOut) (*App, error) {
	c, err := LoadConfig(ctx, s, ssm.NewFromConfig(cfg), secretsmanager.NewFromConfig(cfg), true)
	if err != nil {
		return nil, err
	}
	c.ShareQuota(s.QuotaShare) // the function's instances share each tenant's quota
	m := metrics.New()
	g, err := graph(c, log, m)
	if err != nil {
		return nil, err
	}
	store := dynamostore.New(dynamodb.NewFromConfig(cfg), s.Table, dynamostore.Options{Clock: engine.SystemClock{}})
	q := sqsqueue.New(sqs.NewFromConfig(cfg), s.QueueURL, sqsqueue.Options{DedupWindow: time.Millisecond})
	a, err := app.Build(app.Deps{
		Config: c, Graph: g, Store: store,
		// The worker is the Lambda function on the queue: SQS does not run
		// the process itself.
		Queue:   func(func(context.Context, task.Task) error) app.Queue { return q },
		Approve: app.ApproveAWS, Metrics: m, Log: log, Clock: engine.SystemClock{},
	})
	if err != nil {
		return nil, err
	}
	return &App{App: a, Store: store, Metrics: m, Flusher: NewFlusher(m, s.MetricsNamespace, out, log), clock: out.Clock, log: log}, nil
}

// HandleSQS is the worker function: one FIFO batch, with partial batch
// failures. A message dropped as permanent is audited. It writes its
// metrics before it returns.
func (a *App) HandleSQS(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
	defer func() { _ = a.Flusher.Flush(ctx) }()
	if err := a.Subscriptions.Load(ctx); err != nil { // subscription work needs the current set
		return events.SQSEventResponse{}, err
	}
	permanent := func(msgID string, err error) {
		entry := engine.AuditEntry{Time: time.Now(), Run: "worker", Action: "drop-message", Source: msgID, Outcome: "failed", Detail: err.Error()}
		if aerr := a.Store.AppendAudit(context.WithoutCancel(ctx), entry); aerr != nil {
			a.log.Error("audit dropped message", "err", aerr)
		}
	}
	return sqsqueue.Handle(ctx, ev, a.Worker.Process, a.log, sqsqueue.WithPermanent(permanent)), nil
}

// reconcileLease is the lease that keeps two reconciles from overlapping.
const reconcileLease = "reconcile"

// ScheduleDetail is the detail of the reconcile function's event. The
// schedule sends none; an operator approves a plan the deletion guard held
// by invoking the function with {"detail":{"allowDeletions":true}}, and
// turns the change notifications off or on with
// {"detail":{"subscriptions":"off"}} ("on"), which does only that.
type ScheduleDetail struct {
	AllowDeletions bool   `json:"allowDeletions"`
	Subscriptions  string `json:"subscriptions,omitempty"`
}

// HandleSchedule is the reconcile function: under a lease, it keeps the
// subscriptions alive, plans the whole scope, puts the whole plan through
// the deletion guard and fans the work out to the queue by shard. It writes
// its metrics, with the run's plan and subscriptions, before it returns.
func (a *App) HandleSchedule(ctx context.Context, ev events.EventBridgeEvent) error {
	var run []emf.Value // the run's one-off values, when it planned
	defer func() { _ = a.Flusher.Flush(ctx, run...) }()
	var detail ScheduleDetail
	if len(ev.Detail) > 0 && string(ev.Detail) != "null" {
		if err := json.Unmarshal(ev.Detail, &detail); err != nil {
			return fmt.Errorf("reconcile event detail: %w (want {\"allowDeletions\": true}, {\"subscriptions\": \"off\"|\"on\"} or none)", err)
		}
	}
	if s := detail.Subscriptions; s != "" && s != "off" && s != "on" {
		return errors.New(`reconcile event detail: subscriptions: want "off" or "on"`)
	}
	owner := newOwner(ctx)
	ttl := 15 * time.Minute
	ok, err := a.Store.AcquireLease(ctx, reconcileLease, owner, ttl)
	if err != nil {
		return fmt.Errorf("reconcile lease: %w", err)
	}
	if !ok {
		a.log.Warn("another reconcile holds the lease; skipping this run")
		return nil
	}
	defer func() {
		if err := a.Store.ReleaseLease(context.WithoutCancel(ctx), reconcileLease, owner); err != nil {
			a.log.Error("release reconcile lease", "err", err)
		}
	}()
	if err := a.Subscriptions.Load(ctx); err != nil {
		return err
	}
	switch detail.Subscriptions {
	case "off":
		n, err := a.Subscriptions.Unsubscribe(ctx)
		a.log.Info("subscriptions switched by an operator", "off", true, "deleted", n)
		return err
	case "on":
		a.log.Info("subscriptions switched by an operator", "off", false)
		return a.Subscriptions.Subscribe(ctx)
	}
	subsErr := a.Subscriptions.Ensure(ctx)
	if subsErr != nil {
		contract.LogSubscriptionsFailed(ctx, a.log, subsErr) // the sync goes on; the next run retries
	}
	rep, err := a.FanOut(ctx, detail.AllowDeletions)
	var plan *engine.Plan
	if rep != nil && rep.Plan != nil {
		plan = rep.Plan
		contract.LogPlanned(ctx, a.log, rep.Plan)
	}
	run = ReconcileValues(plan, subsErr != nil, a.Subscriptions.List(), a.clock)
	if err != nil {
		return fmt.Errorf("reconcile: %w", err)
	}
	return nil
}

func newOwner(ctx context.Context) string {
	if lc, ok := lambdacontext.FromContext(ctx); ok && lc.AwsRequestID != "" {
		return lc.AwsRequestID
	}
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// FromEnv is what the worker and reconcile mains run at start: the
// environment, the AWS configuration (read from the environment), and the
// application.
func FromEnv(ctx context.Context, getenv func(string) string, log *slog.Logger, graph GraphPorts, out MetricsOut) (*App, error) {
	settings, cfg, err := environment(ctx, getenv)
	if err != nil {
		return nil, err
	}
	return New(ctx, settings, cfg, log, graph, out)
}

// environment reads the function's settings and the AWS configuration
// (from the environment only: no AWS call).
func environment(ctx context.Context, getenv func(string) string) (Settings, aws.Config, error) {
	settings, err := ReadSettings(getenv)
	if err != nil {
		return Settings{}, aws.Config{}, err
	}
	cfg, err := awsconfig.LoadDefaultConfig(ctx)
	if err != nil {
		return Settings{}, aws.Config{}, fmt.Errorf("aws config: %w", err)
	}
	return settings, cfg, nil
}

// WebhookFromEnv is what the webhook main runs at start: the environment,
// the AWS configuration (read from the environment only: no AWS call), and
// the handler.
func WebhookFromEnv(ctx context.Context, getenv func(string) string, log *slog.Logger, out MetricsOut) (http.Handler, error) {
	settings, cfg, err := environment(ctx, getenv)
	if err != nil {
		return nil, err
	}
	return NewWebhook(settings, cfg, log, out)
}
