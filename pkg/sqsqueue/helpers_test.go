package sqsqueue_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/xtsync/xtsync/internal/awslocal"
	"github.com/xtsync/xtsync/internal/testlog"
	"github.com/xtsync/xtsync/pkg/task"
)

// mustParse returns the task of key, failing the test when it has none.
func mustParse(t testing.TB, key string) task.Task {
	t.Helper()
	tk, err := task.Parse(key)
	if err != nil {
		t.Fatal(err)
	}
	return tk
}

// workTasks returns a task of every kind.
func workTasks() []task.Task {
	sub := "7f3c1d2e-4b5a-4c6d-8e9f-0a1b2c3d4e5f"
	return []task.Task{
		task.Of(task.Delta, "0123456789abcdef"), task.Of(task.SyncShard, "0123456789abcdef"), task.Of(task.SyncUnscoped, ""),
		task.Of(task.Users, ""), task.Of(task.Reconcile, ""), task.Of(task.Subscriptions, ""),
		task.Of(task.Renew, sub), task.Of(task.Recreate, sub), task.Of(task.Mirrors, "0123456789abcdef"),
	}
}

// testContext is cancelled at the end of the test, or after a minute.
func testContext(t *testing.T) context.Context { return awslocal.Context(t) }

// logRecorder keeps the records logged through it and passes them on to
// t.Log.
type logRecorder struct {
	slog.Handler
	mu   *sync.Mutex
	recs *[]slog.Record
}

// Handle records r and passes it on.
func (h logRecorder) Handle(ctx context.Context, r slog.Record) error {
	h.mu.Lock()
	*h.recs = append(*h.recs, r.Clone())
	h.mu.Unlock()
	return h.Handler.Handle(ctx, r)
}

// WithAttrs keeps recording.
func (h logRecorder) WithAttrs(as []slog.Attr) slog.Handler {
	return logRecorder{Handler: h.Handler.WithAttrs(as), mu: h.mu, recs: h.recs}
}

// WithGroup keeps recording.
func (h logRecorder) WithGroup(name string) slog.Handler {
	return logRecorder{Handler: h.Handler.WithGroup(name), mu: h.mu, recs: h.recs}
}

// records returns what was logged so far.
func (h logRecorder) records() []slog.Record {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]slog.Record(nil), *h.recs...)
}

// testLogger routes logs to t.Log and records them.
func testLogger(t testing.TB) (*slog.Logger, logRecorder) {
	h := logRecorder{
		Handler: slog.NewTextHandler(testlog.Writer{T: t}, &slog.HandlerOptions{Level: slog.LevelDebug}),
		mu:      &sync.Mutex{},
		recs:    new([]slog.Record),
	}
	return slog.New(h), h
}

// manualClock tells the time it is set to.
type manualClock struct {
	mu  sync.Mutex
	now time.Time
}

// Now returns the time set.
func (c *manualClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Set sets the time.
func (c *manualClock) Set(t time.Time) {
	c.mu.Lock()
	c.now = t
	c.mu.Unlock()
}

// baseTime is 100 ms into a whole second, so that +800 ms stays in the same
// second and +1 s does not.
func baseTime() time.Time { return time.Unix(1_800_000_000, 100_000_000) }

// recordingTransport wraps the SDK's HTTP transport and counts the SQS
// calls by action, and the entries of each SendMessageBatch.
type recordingTransport struct {
	next http.RoundTripper

	mu           sync.Mutex
	calls        map[string]int
	batchEntries []int
}

// RoundTrip counts the call and passes it on.
func (rt *recordingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	action := strings.TrimPrefix(req.Header.Get("X-Amz-Target"), "AmazonSQS.")
	entries := -1
	if action == "SendMessageBatch" && req.Body != nil {
		b, err := io.ReadAll(req.Body)
		req.Body.Close()
		if err != nil {
			return nil, err
		}
		req.Body = io.NopCloser(bytes.NewReader(b))
		entries = len(requestEntries(b))
	}
	rt.mu.Lock()
	rt.calls[action]++
	if entries >= 0 {
		rt.batchEntries = append(rt.batchEntries, entries)
	}
	rt.mu.Unlock()
	return rt.next.RoundTrip(req)
}

// batches returns the number of entries of each SendMessageBatch sent.
func (rt *recordingTransport) batches() []int {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	return append([]int(nil), rt.batchEntries...)
}

// batchEntry is an entry of a SendMessageBatch request, as sent.
type batchEntry struct {
	ID                     string `json:"Id"`
	MessageBody            string `json:"MessageBody"`
	MessageGroupID         string `json:"MessageGroupId"`
	MessageDeduplicationID string `json:"MessageDeduplicationId"`
}

// requestEntries reads the entries of a SendMessageBatch request body
// (SQS's JSON protocol); none when it is not one.
func requestEntries(body []byte) []batchEntry {
	var in struct{ Entries []batchEntry }
	if json.Unmarshal(body, &in) != nil {
		return nil
	}
	return in.Entries
}

// count returns how many calls of an action were made.
func (rt *recordingTransport) count(action string) int {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	return rt.calls[action]
}

// fauxqs is a client of the local SQS, connected as internal/awslocal does,
// with its HTTP transport wrapped by a recordingTransport.
type fauxqs struct {
	client *sqs.Client
	rt     *recordingTransport
}

// newFauxqs connects to the local SQS (failing the test with a hint to run
// `make test` when it is not there; skipping it under -short).
func newFauxqs(t *testing.T) *fauxqs {
	t.Helper()
	endpoint := awslocal.SQSEndpoint(t)
	rt := &recordingTransport{next: awshttp.NewBuildableClient().GetTransport(), calls: map[string]int{}}
	client := sqs.NewFromConfig(awslocal.Config(t), func(o *sqs.Options) {
		o.BaseEndpoint = aws.String(endpoint)
		o.HTTPClient = &http.Client{Transport: rt}
	})
	return &fauxqs{client: client, rt: rt}
}

// fifoQueue creates a FIFO queue named for the test, with explicit
// deduplication ids, and deletes it at the end. It returns its URL and ARN.
func (f *fauxqs) fifoQueue(t *testing.T) (url, arn string) {
	t.Helper()
	ctx := testContext(t)
	created, err := f.client.CreateQueue(ctx, &sqs.CreateQueueInput{
		QueueName: aws.String(awslocal.UniqueName(t) + ".fifo"),
		Attributes: map[string]string{
			string(sqstypes.QueueAttributeNameFifoQueue):                 "true",
			string(sqstypes.QueueAttributeNameContentBasedDeduplication): "false",
			string(sqstypes.QueueAttributeNameVisibilityTimeout):         "30",
		},
	})
	if err != nil {
		t.Fatalf("CreateQueue: %v", err)
	}
	url = aws.ToString(created.QueueUrl)
	t.Cleanup(func() {
		_, _ = f.client.DeleteQueue(context.Background(), &sqs.DeleteQueueInput{QueueUrl: aws.String(url)})
	})
	attrs, err := f.client.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{
		QueueUrl: aws.String(url), AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameQueueArn},
	})
	if err != nil {
		t.Fatalf("GetQueueAttributes: %v", err)
	}
	return url, attrs.Attributes[string(sqstypes.QueueAttributeNameQueueArn)]
}

// receiveOnce receives up to ten messages with their system attributes,
// waiting up to a second for some.
func (f *fauxqs) receiveOnce(t *testing.T, url string) []sqstypes.Message {
	t.Helper()
	return f.receive(t, url, 0)
}

// receive is one ReceiveMessage of up to 10 messages, long-polling 1 s,
// with a visibility timeout of visibility seconds (0: the queue's).
func (f *fauxqs) receive(t *testing.T, url string, visibility int32) []sqstypes.Message {
	t.Helper()
	out, err := f.client.ReceiveMessage(testContext(t), &sqs.ReceiveMessageInput{
		QueueUrl:            aws.String(url),
		MaxNumberOfMessages: 10,
		WaitTimeSeconds:     1,
		VisibilityTimeout:   visibility,
		MessageSystemAttributeNames: []sqstypes.MessageSystemAttributeName{
			sqstypes.MessageSystemAttributeNameMessageGroupId,
			sqstypes.MessageSystemAttributeNameMessageDeduplicationId,
			sqstypes.MessageSystemAttributeNameSequenceNumber,
			sqstypes.MessageSystemAttributeNameApproximateReceiveCount,
			sqstypes.MessageSystemAttributeNameSentTimestamp,
		},
	})
	if err != nil {
		t.Fatalf("ReceiveMessage: %v", err)
	}
	return out.Messages
}

// receiveAvailable receives, without deleting, until a receive comes back
// empty: every message SQS will hand out now (FIFO holds back the rest of a
// group while some of it is in flight).
func (f *fauxqs) receiveAvailable(t *testing.T, url string) []sqstypes.Message {
	t.Helper()
	var all []sqstypes.Message
	for range 20 {
		got := f.receiveOnce(t, url)
		if len(got) == 0 {
			return all
		}
		all = append(all, got...)
	}
	t.Fatalf("still receiving after 20 calls (%d messages)", len(all))
	return nil
}

// drain receives and deletes until the queue holds nothing, visible,
// in flight or delayed, and returns the messages in the order received. It
// receives with a visibility timeout of 2 s: a receive whose answer was
// lost (the SDK retries it) leaves its messages in flight, and they come
// back to a later receive instead of being missed.
func (f *fauxqs) drain(t *testing.T, url string) []sqstypes.Message {
	t.Helper()
	var all []sqstypes.Message
	for range 100 {
		got := f.receive(t, url, 2)
		if len(got) == 0 {
			if f.held(t, url) == 0 {
				return all
			}
			continue
		}
		for _, m := range got {
			f.deleteMessage(t, url, m)
		}
		all = append(all, got...)
	}
	t.Fatalf("still receiving after 100 calls (%d messages)", len(all))
	return nil
}

// held is how many messages the queue holds: visible, in flight and
// delayed.
func (f *fauxqs) held(t *testing.T, url string) int {
	t.Helper()
	names := []sqstypes.QueueAttributeName{
		sqstypes.QueueAttributeNameApproximateNumberOfMessages,
		sqstypes.QueueAttributeNameApproximateNumberOfMessagesNotVisible,
		sqstypes.QueueAttributeNameApproximateNumberOfMessagesDelayed,
	}
	out, err := f.client.GetQueueAttributes(testContext(t), &sqs.GetQueueAttributesInput{QueueUrl: aws.String(url), AttributeNames: names})
	if err != nil {
		t.Fatalf("GetQueueAttributes: %v", err)
	}
	n := 0
	for _, name := range names {
		v, err := strconv.Atoi(out.Attributes[string(name)])
		if err != nil {
			t.Fatalf("queue attribute %s = %q: %v", name, out.Attributes[string(name)], err)
		}
		n += v
	}
	return n
}

// deleteMessage deletes a received message.
func (f *fauxqs) deleteMessage(t *testing.T, url string, m sqstypes.Message) {
	t.Helper()
	if _, err := f.client.DeleteMessage(testContext(t), &sqs.DeleteMessageInput{QueueUrl: aws.String(url), ReceiptHandle: m.ReceiptHandle}); err != nil {
		t.Fatalf("DeleteMessage %s: %v", aws.ToString(m.MessageId), err)
	}
}

// attr returns a system attribute of a received message.
func attr(m sqstypes.Message, name sqstypes.MessageSystemAttributeName) string {
	return m.Attributes[string(name)]
}

// byGroup splits received messages by message group, keeping their order.
func byGroup(msgs []sqstypes.Message, value func(sqstypes.Message) string) map[string][]string {
	out := map[string][]string{}
	for _, m := range msgs {
		g := attr(m, sqstypes.MessageSystemAttributeNameMessageGroupId)
		out[g] = append(out[g], value(m))
	}
	return out
}

// dedupOf returns a received message's deduplication id.
func dedupOf(m sqstypes.Message) string {
	return attr(m, sqstypes.MessageSystemAttributeNameMessageDeduplicationId)
}
