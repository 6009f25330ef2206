package lambdaapp

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/ssm"

	"github.com/xtsync/xtsync/pkg/config"
	"github.com/xtsync/xtsync/pkg/contract"
	"github.com/xtsync/xtsync/pkg/dynamostore"
	"github.com/xtsync/xtsync/pkg/engine"
	"github.com/xtsync/xtsync/pkg/service"
	"github.com/xtsync/xtsync/pkg/sqsqueue"
	"github.com/xtsync/xtsync/pkg/subscribe"
	"github.com/xtsync/xtsync/pkg/webhook"
)

// The SQS queue is the service's queue on AWS.
var _ service.Queue = (*sqsqueue.Queue)(nil)

// ---- webhook ----

// lazyScope loads the configuration on the first InScope (never for a
// validation request), under the request's context, and answers scope
// questions from it.
type lazyScope struct {
	load func(ctx context.Context) (*config.Config, error)
	log  *slog.Logger

	mu       sync.Mutex
	sharding *engine.Sharding
	tried    time.Time
}

// get loads the sharding under ctx (3 s at most) unless it is cached, and
// caches it. After a failed load it does not try again for 5 s.
func (l *lazyScope) get(ctx context.Context) (engine.Sharding, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.sharding != nil {
		return *l.sharding, true
	}
	if time.Since(l.tried) < 5*time.Second {
		return engine.Sharding{}, false
	}
	caller := ctx
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	cfg, err := l.load(ctx)
	if err != nil {
		if caller.Err() == nil {
			// Only a failure of the load itself waits: a request that went
			// away must not keep the next ones out of scope.
			l.tried = time.Now()
		}
		l.log.ErrorContext(ctx, "load config", "err", err)
		return engine.Sharding{}, false
	}
	sh := engine.NewSharding(cfg.Scope.Groups)
	l.sharding = &sh
	return sh, true
}

// cached returns the sharding if a load succeeded.
func (l *lazyScope) cached() (engine.Sharding, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.sharding == nil {
		return engine.Sharding{}, false
	}
	return *l.sharding, true
}

// ShardOf implements service.Sharder, a pure port: it answers from the
// sharding InScope loaded and never loads it. The webhook checks every group
// with InScope before it hands it to the sink (whose Changed calls ShardOf),
// so the sharding is loaded by then; if it is not, ShardOf returns "" (out
// of scope: nothing is queued, and the reconcile repairs).
func (l *lazyScope) ShardOf(groupID string) string {
	sh, ok := l.cached()
	if !ok {
		return ""
	}
	return sh.ShardOf(groupID)
}

// InScope reports whether a group is synced, loading the configuration
// under ctx (the request's) on first use. It is false while the config
// cannot be loaded: the item is not acted on, and the reconcile repairs.
func (l *lazyScope) InScope(ctx context.Context, groupID string) bool {
	sh, ok := l.get(ctx)
	return ok && sh.ShardOf(groupID) != ""
}

// NewWebhook builds the webhook function's HTTP handler: pkg/webhook over a
// subscription lookup in DynamoDB and a router to SQS. It makes no AWS call
// until a notification needs one.
func NewWebhook(s Settings, cfg aws.Config, log *slog.Logger) (http.Handler, error) {
	store := dynamostore.New(dynamodb.NewFromConfig(cfg), s.Table, dynamostore.Options{Clock: engine.SystemClock{}})
	scope := &lazyScope{log: log, load: func(ctx context.Context) (*config.Config, error) {
		return LoadConfig(ctx, s, ssm.NewFromConfig(cfg), nil, false)
	}}
	// Graph wants an answer within 3 s. The dedup window is short: a
	// message deduplicated away while a pass of its shard is already past
	// its delta read would leave a change to the next reconcile; a spare
	// message costs one empty delta read.
	q := sqsqueue.New(sqs.NewFromConfig(cfg), s.QueueURL, sqsqueue.Options{Timeout: 2 * time.Second, DedupWindow: time.Millisecond})
	router := service.NewRouter(scope, q, log, engine.SystemClock{})
	h, err := webhook.New(webhook.Config{
		Subscriptions: &subscribe.StoredLookup{Store: store, Clock: engine.SystemClock{}},
		InScope:       scope.InScope,
		Sink:          router,
		Log:           log,
	})
	if err != nil {
		return nil, err
	}
	return lastSegment(h), nil
}

// lastSegment serves the webhook whatever path prefix the endpoint has (an
// API stage, a custom domain's base path, public_url's path): the handler
// sees /notifications, /lifecycle or /healthz.
func lastSegment(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := r.URL.Path
		if i := strings.LastIndex(p, "/"); i > 0 {
			r2 := r.Clone(r.Context())
			r2.URL.Path, r2.URL.RawPath = p[i:], ""
			r = r2
		}
		h.ServeHTTP(w, r)
	})
}

// ---- worker and reconcile ----

// Sync is the engine of the AWS form: Graph clients, the DynamoDB store, the
// SQS queue, the subscription manager and the service over them.
type Sync struct {
	Config   *config.Config
	Store    *dynamostore.Store
	Engine   *engine.Engine
	Subs     *subscribe.Manager
	Service  *service.Service
	Sharding engine.Sharding
	log      *slog.Logger
}

// GraphPorts builds the Graph side of a configuration: the engine's source
// and target, and the source's subscriptions. The worker and reconcile mains
// pass msgraph.Ports; this package does not import msgraph, so the webhook
// function, which also imports it, links no Graph SDK.
type GraphPorts func(c *config.Config, log *slog.Logger) (engine.Source, engine.Target, subscribe.Graph, error)

// NewSync loads the configuration and secrets (once per container) and
// builds the clients.
func NewSync(ctx context.Context, s Settings, cfg aws.Config, log *slog.Logger, graph GraphPorts) (*Sync, error) {
	c, err := LoadConfig(ctx, s, ssm.NewFromConfig(cfg), secretsmanager.NewFromConfig(cfg), true)
	if err != nil {
		return nil, err
	}
	src, dst, subsGraph, err := graph(c, log)
	if err != nil {
		return nil, err
	}
	store := dynamostore.New(dynamodb.NewFromConfig(cfg), s.Table, dynamostore.Options{Clock: engine.SystemClock{}})
	eng, err := engine.New(src, dst, store, c.EngineOptions(), log, engine.SystemClock{})
	if err != nil {
		return nil, err
	}
	subs, err := subscribe.New(subscribe.Config{
		Graph: subsGraph, Store: store, TenantID: c.Source.TenantID, Scope: c.Scope.Groups,
		PublicURL: c.Server.PublicURL, Clock: engine.SystemClock{}, Log: log,
	})
	if err != nil {
		return nil, err
	}
	q := sqsqueue.New(sqs.NewFromConfig(cfg), s.QueueURL, sqsqueue.Options{DedupWindow: time.Millisecond})
	svc := service.New(eng, subs, q, log, engine.SystemClock{})
	return &Sync{Config: c, Store: store, Engine: eng, Subs: subs, Service: svc, Sharding: engine.NewSharding(c.Scope.Groups), log: log}, nil
}

// HandleSQS is the worker function: one FIFO batch, with partial batch
// failures. A message dropped as permanent is audited.
func (y *Sync) HandleSQS(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
	if err := y.Subs.Load(ctx); err != nil { // subscription work needs the current set
		return events.SQSEventResponse{}, err
	}
	permanent := func(msgID string, err error) {
		entry := engine.AuditEntry{Time: time.Now(), Run: "worker", Action: "drop-message", Source: msgID, Outcome: "failed", Detail: err.Error()}
		if aerr := y.Store.AppendAudit(context.WithoutCancel(ctx), entry); aerr != nil {
			y.log.Error("audit dropped message", "err", aerr)
		}
	}
	return sqsqueue.Handle(ctx, ev, y.Service.Process, y.log, sqsqueue.WithPermanent(permanent)), nil
}

// reconcileLease is the lease that keeps two reconciles from overlapping.
const reconcileLease = "reconcile"

// ScheduleDetail is the detail of the reconcile function's event. The
// schedule sends none; an operator approves a plan the deletion guard held
// by invoking the function with {"detail":{"allowDeletions":true}}.
type ScheduleDetail struct {
	AllowDeletions bool `json:"allowDeletions"`
}

// HandleSchedule is the reconcile function: under a lease, it keeps the
// subscriptions alive, plans the whole scope, puts the whole plan through
// the deletion guard and fans the work out to the queue by shard.
func (y *Sync) HandleSchedule(ctx context.Context, ev events.EventBridgeEvent) error {
	var detail ScheduleDetail
	if len(ev.Detail) > 0 && string(ev.Detail) != "null" {
		if err := json.Unmarshal(ev.Detail, &detail); err != nil {
			return fmt.Errorf("reconcile event detail: %w (want {\"allowDeletions\": true} or none)", err)
		}
	}
	owner := newOwner(ctx)
	ttl := 15 * time.Minute
	ok, err := y.Store.AcquireLease(ctx, reconcileLease, owner, ttl)
	if err != nil {
		return fmt.Errorf("reconcile lease: %w", err)
	}
	if !ok {
		y.log.Warn("another reconcile holds the lease; skipping this run")
		return nil
	}
	defer func() {
		if err := y.Store.ReleaseLease(context.WithoutCancel(ctx), reconcileLease, owner); err != nil {
			y.log.Error("release reconcile lease", "err", err)
		}
	}()
	if err := y.Subs.Load(ctx); err != nil {
		return err
	}
	if err := y.Subs.Ensure(ctx); err != nil {
		y.log.Error(contract.LogSubscriptions, "err", err) // the sync goes on; the next run retries
	}
	rep, err := y.Service.FanOut(ctx, y.Sharding, detail.AllowDeletions)
	if rep != nil && rep.Plan != nil {
		y.log.Info(contract.LogReconcilePlanned, contract.FieldActions, len(rep.Plan.Actions), "deletions", rep.Plan.Deletions, contract.FieldFailedReads, len(rep.Plan.Failed))
	}
	if errors.Is(err, engine.ErrThreshold) {
		y.log.Warn("reconcile halted by the deletion guard: additions queued, removals held; review, then invoke the reconcile function with {\"detail\":{\"allowDeletions\":true}}", "deletions", rep.Plan.Deletions, "threshold", y.Config.Sync.DeletionThreshold)
		return nil
	}
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

// SyncFromEnv is what the worker and reconcile mains run at start: the
// environment, the AWS configuration (read from the environment), and the
// wired engine.
func SyncFromEnv(ctx context.Context, getenv func(string) string, log *slog.Logger, graph GraphPorts) (*Sync, error) {
	settings, err := ReadSettings(getenv)
	if err != nil {
		return nil, err
	}
	cfg, err := awsconfig.LoadDefaultConfig(ctx)
	if err != nil {
		return nil, fmt.Errorf("aws config: %w", err)
	}
	return NewSync(ctx, settings, cfg, log, graph)
}
