package e2e_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"github.com/xtsync/xtsync/internal/emutest"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/xtsync/xtsync/internal/awslocal"
	"github.com/xtsync/xtsync/internal/rie"
	"github.com/xtsync/xtsync/internal/waitfor"
	"github.com/xtsync/xtsync/pkg/dynamostore"
	"github.com/xtsync/xtsync/pkg/engine"
	"github.com/xtsync/xtsync/pkg/graphemu"
)

const (
	src = graphemu.SampleSourceTenant
	dst = graphemu.SampleTargetTenant
)

// world is the AWS form running locally.
type world struct {
	t       *testing.T
	em      *graphemu.Emulator
	ddb     *dynamodb.Client
	sqs     *sqs.Client
	store   *dynamostore.Store
	table   string
	yaml    string // the functions' configuration (XTSYNC_CONFIG)
	queue   string
	env     []string
	webhook *rie.Function
	worker  *rie.Function
	recon   *rie.Function
	hook    *http.Server
	nick    map[string]string
	scope   []string
}

func newWorld(t *testing.T) *world {
	t.Helper()
	return newWorldWith(t, "")
}

// newWorldWith is newWorld with extra configuration (YAML) after the
// world's own.
func newWorldWith(t *testing.T, extra string) *world {
	t.Helper()
	em, ca := emutest.StartSample(t, graphemu.Options{AllowHTTPNotifications: true, NotifyRetryBase: 200 * time.Millisecond})
	cfg := awslocal.Config(t)
	ddbURL, sqsURL := awslocal.DynamoDBEndpoint(t), awslocal.SQSEndpoint(t)
	w := &world{t: t, em: em, nick: map[string]string{}}
	w.ddb = dynamodb.NewFromConfig(cfg, func(o *dynamodb.Options) { o.BaseEndpoint = aws.String(ddbURL) })
	w.sqs = sqs.NewFromConfig(cfg, func(o *sqs.Options) { o.BaseEndpoint = aws.String(sqsURL) })
	w.table = awslocal.UniqueName(t)
	w.store = dynamostore.New(w.ddb, w.table, dynamostore.Options{Clock: engine.SystemClock{}})
	ctx := context.Background()
	if err := w.store.CreateTable(ctx); err != nil {
		t.Fatal(err)
	}
	q, err := w.sqs.CreateQueue(ctx, &sqs.CreateQueueInput{
		QueueName:  aws.String(awslocal.UniqueName(t) + ".fifo"),
		Attributes: map[string]string{"FifoQueue": "true", "VisibilityTimeout": "2"},
	})
	if err != nil {
		t.Fatal(err)
	}
	w.queue = *q.QueueUrl
	for _, g := range em.Groups(src) {
		w.nick[g.MailNickname] = g.ID
		w.scope = append(w.scope, g.ID)
	}
	slices.Sort(w.scope)

	// The API Gateway stand-in: Graph's calls become HTTP API events.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	public := "http://" + ln.Addr().String() + "/xtsync"
	yaml := fmt.Sprintf(`source: {tenant_id: %s, client_id: %s, client_secret: "${XTSYNC_SOURCE_CLIENT_SECRET}", graph_endpoint: %s, authority_host: %s, ca_file: %s}
target: {tenant_id: %s, client_id: %s, client_secret: "${XTSYNC_TARGET_CLIENT_SECRET}", graph_endpoint: %s, authority_host: %s, ca_file: %s}
scope: {groups: [%s]}
server: {public_url: %q}
%s`, src, graphemu.SampleSourceClientID, em.URL(), em.URL(), ca, dst, graphemu.SampleTargetClientID, em.URL(), em.URL(), ca, strings.Join(w.scope, ", "), public, extra)
	w.yaml = yaml
	w.env = []string{
		"XTSYNC_CONFIG=" + yaml, "XTSYNC_TABLE=" + w.table, "XTSYNC_QUEUE_URL=" + w.queue,
		"XTSYNC_SOURCE_CLIENT_SECRET=" + graphemu.SampleSourceSecret, "XTSYNC_TARGET_CLIENT_SECRET=" + graphemu.SampleTargetSecret,
		"AWS_ENDPOINT_URL_DYNAMODB=" + ddbURL, "AWS_ENDPOINT_URL_SQS=" + sqsURL,
		"AWS_REGION=" + cfg.Region, "AWS_ACCESS_KEY_ID=local", "AWS_SECRET_ACCESS_KEY=local",
		"XTSYNC_METRICS_NAMESPACE=" + metricsNamespace,
	}
	w.webhook = rie.Start(t, rie.Build(t, "github.com/xtsync/xtsync/functions/webhook"), w.env)
	w.worker = rie.Start(t, rie.Build(t, "github.com/xtsync/xtsync/functions/worker"), w.env)
	w.recon = rie.Start(t, rie.Build(t, "github.com/xtsync/xtsync/functions/reconcile"), w.env)
	w.hook = &http.Server{Handler: http.HandlerFunc(w.apiGateway)}
	go w.hook.Serve(ln)
	t.Cleanup(func() { w.hook.Close() })
	return w
}

// apiGateway turns a request into an HTTP API (payload 2.0) event, invokes
// the webhook function and writes its answer back.
func (w *world) apiGateway(rw http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	headers := map[string]string{}
	for k, v := range r.Header {
		headers[strings.ToLower(k)] = strings.Join(v, ",")
	}
	ev := events.APIGatewayV2HTTPRequest{
		Version: "2.0", RouteKey: "$default", RawPath: strings.TrimPrefix(r.URL.Path, "/xtsync"), RawQueryString: r.URL.RawQuery,
		Headers: headers, Body: base64.StdEncoding.EncodeToString(body), IsBase64Encoded: true,
		RequestContext: events.APIGatewayV2HTTPRequestContext{Stage: "$default", HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: r.Method, Path: r.URL.Path, SourceIP: "127.0.0.1"}},
	}
	payload, _ := json.Marshal(ev)
	out, err := w.webhook.Invoke(r.Context(), payload)
	if err != nil {
		http.Error(rw, err.Error(), http.StatusBadGateway)
		return
	}
	var resp events.APIGatewayV2HTTPResponse
	if err := json.Unmarshal(out, &resp); err != nil {
		http.Error(rw, "bad function answer: "+string(out), http.StatusBadGateway)
		return
	}
	for k, v := range resp.Headers {
		rw.Header().Set(k, v)
	}
	rw.WriteHeader(resp.StatusCode)
	b := []byte(resp.Body)
	if resp.IsBase64Encoded {
		b, _ = base64.StdEncoding.DecodeString(resp.Body)
	}
	rw.Write(b)
}

// reconcile invokes the scheduled function.
func (w *world) reconcile() {
	w.t.Helper()
	ev := events.EventBridgeEvent{Version: "0", ID: "e2e", DetailType: "Scheduled Event", Source: "aws.events", Region: "us-east-1", Time: time.Now(), Detail: json.RawMessage("{}")}
	payload, _ := json.Marshal(ev)
	if out, err := w.recon.Invoke(context.Background(), payload); err != nil || strings.Contains(string(out), "errorMessage") {
		w.t.Fatalf("reconcile: %v %s", err, out)
	}
}

// drain is the SQS event source mapping: it receives batches, invokes the
// worker, deletes what succeeded and releases what failed, until the queue
// stays empty: it is empty, and the emulator has no notification left to
// deliver, which the webhook function would queue (it sends to SQS before it
// answers). It returns how many batches it ran.
func (w *world) drain(worker *rie.Function) int {
	w.t.Helper()
	ctx := context.Background()
	batches := 0
	waitfor.WaitFor(w.t, 60*time.Second, "the queue drained", func() bool {
		// Looked at before the queue: what was delivered by then is in it.
		delivered := w.em.PendingDeliveries() == 0
		out, err := w.sqs.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{
			QueueUrl: aws.String(w.queue), MaxNumberOfMessages: 10, WaitTimeSeconds: 0,
			MessageSystemAttributeNames: []sqstypes.MessageSystemAttributeName{sqstypes.MessageSystemAttributeNameAll},
		})
		if err != nil {
			w.t.Fatal(err)
		}
		if len(out.Messages) == 0 {
			return delivered
		}
		batches++
		failed := w.invokeWorker(ctx, worker, out.Messages)
		for _, m := range out.Messages {
			if failed[*m.MessageId] {
				w.sqs.ChangeMessageVisibility(ctx, &sqs.ChangeMessageVisibilityInput{QueueUrl: aws.String(w.queue), ReceiptHandle: m.ReceiptHandle, VisibilityTimeout: 0})
				continue
			}
			if _, err := w.sqs.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: aws.String(w.queue), ReceiptHandle: m.ReceiptHandle}); err != nil {
				w.t.Fatal(err)
			}
		}
		return false
	})
	return batches
}

func sqsEvent(queueURL string, msgs []sqstypes.Message) events.SQSEvent {
	var ev events.SQSEvent
	for _, m := range msgs {
		attrs := map[string]string{}
		for k, v := range m.Attributes {
			attrs[k] = v
		}
		ev.Records = append(ev.Records, events.SQSMessage{
			MessageId: *m.MessageId, ReceiptHandle: *m.ReceiptHandle, Body: *m.Body, Attributes: attrs,
			EventSource: "aws:sqs", EventSourceARN: "arn:aws:sqs:us-east-1:000000000000:" + filepath.Base(queueURL), AWSRegion: "us-east-1",
		})
	}
	return ev
}

func (w *world) invokeWorker(ctx context.Context, worker *rie.Function, msgs []sqstypes.Message) map[string]bool {
	payload, _ := json.Marshal(sqsEvent(w.queue, msgs))
	out, err := worker.Invoke(ctx, payload)
	failed := map[string]bool{}
	if err != nil {
		for _, m := range msgs {
			failed[*m.MessageId] = true
		}
		return failed
	}
	var resp events.SQSEventResponse
	if err := json.Unmarshal(out, &resp); err != nil || bytes.Contains(out, []byte("errorMessage")) {
		w.t.Logf("worker answered %s", out)
		for _, m := range msgs {
			failed[*m.MessageId] = true
		}
		return failed
	}
	for _, f := range resp.BatchItemFailures {
		failed[f.ItemIdentifier] = true
	}
	return failed
}

// mirrored reports whether the target mirrors every scoped syncable group.
func (w *world) mirrored() error {
	for _, sid := range w.scope {
		sg, _ := w.em.Group(src, sid)
		if sg.IsDistributionList() {
			continue
		}
		var tg graphemu.Group
		found := false
		for _, g := range w.em.Groups(dst) {
			if g.MailNickname == engine.TargetNickname(sid) {
				tg, found = g, true
			}
		}
		if !found {
			return fmt.Errorf("%s has no mirror", sg.DisplayName)
		}
		var want, got []string
		for _, m := range sg.Members {
			if u, ok := w.em.User(src, m); ok && u.UserType != "Guest" {
				want = append(want, strings.ToLower(u.Mail))
			}
		}
		for _, m := range tg.Members {
			u, _ := w.em.User(dst, m)
			got = append(got, strings.ToLower(u.Mail))
		}
		slices.Sort(want)
		slices.Sort(got)
		if !slices.Equal(want, got) || tg.DisplayName != sg.DisplayName {
			return fmt.Errorf("%s: mirror %q has %v, source has %v", sg.DisplayName, tg.DisplayName, got, want)
		}
	}
	return nil
}

// settle drains the queue until the target mirrors the source (at most
// 60 s); on a timeout it logs the last difference.
func (w *world) settle(worker *rie.Function) {
	w.t.Helper()
	var err error
	defer func() {
		if err != nil {
			w.t.Logf("not converged: %v", err)
		}
	}()
	waitfor.WaitFor(w.t, 60*time.Second, "converged", func() bool {
		w.drain(worker)
		err = w.mirrored()
		return err == nil
	})
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// restartWorker starts a new worker function (a new container).
func (w *world) restartWorker() *rie.Function {
	w.t.Helper()
	return rie.Start(w.t, rie.Build(w.t, "github.com/xtsync/xtsync/functions/worker"), w.env)
}

// targetOf is the mirror of a source group.
func (w *world) targetOf(sid string) graphemu.Group {
	for _, g := range w.em.Groups(dst) {
		if g.MailNickname == engine.TargetNickname(sid) {
			return g
		}
	}
	w.t.Fatalf("no mirror of %s", sid)
	return graphemu.Group{}
}

// logInit logs a function's cold start (init duration) and invoke times.
func logInit(t *testing.T, name string, reps []rie.Report) {
	for i, r := range reps {
		if r.InitDuration > 0 {
			t.Logf("%s: init %s (invoke %d)", name, r.InitDuration, i)
		}
	}
	t.Logf("%s: %d invokes", name, len(reps))
}

// pump is the SQS event source mapping running beside the test, as Lambda
// runs it beside an operator: until ctx is done it receives batches,
// invokes the worker, deletes what succeeded and releases what failed. It
// returns how many batches it ran, and the first error, when ctx ends.
func (w *world) pump(ctx context.Context, worker *rie.Function) <-chan pumpResult {
	done := make(chan pumpResult, 1)
	go func() {
		var r pumpResult
		defer func() { done <- r }()
		for ctx.Err() == nil {
			out, err := w.sqs.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{
				QueueUrl: aws.String(w.queue), MaxNumberOfMessages: 10, WaitTimeSeconds: 1,
				MessageSystemAttributeNames: []sqstypes.MessageSystemAttributeName{sqstypes.MessageSystemAttributeNameAll},
			})
			if ctx.Err() != nil {
				return
			}
			if err != nil {
				r.err = err
				return
			}
			if len(out.Messages) == 0 {
				continue
			}
			r.batches++
			bg := context.WithoutCancel(ctx) // a batch started is finished
			failed := w.invokeWorker(bg, worker, out.Messages)
			for _, m := range out.Messages {
				if failed[*m.MessageId] {
					w.sqs.ChangeMessageVisibility(bg, &sqs.ChangeMessageVisibilityInput{QueueUrl: aws.String(w.queue), ReceiptHandle: m.ReceiptHandle, VisibilityTimeout: 0})
					continue
				}
				if _, err := w.sqs.DeleteMessage(bg, &sqs.DeleteMessageInput{QueueUrl: aws.String(w.queue), ReceiptHandle: m.ReceiptHandle}); err != nil && r.err == nil {
					r.err = err
				}
			}
		}
	}()
	return done
}

// pumpResult is what a pump did.
type pumpResult struct {
	batches int
	err     error
}
