package sqsqueue_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/xtsync/xtsync/internal/awslocal"
	"github.com/xtsync/xtsync/pkg/sqsqueue"
	"github.com/xtsync/xtsync/pkg/task"
)

// checkReceived checks that got holds one message per task of want, with
// its encoded body, its lane as MessageGroupId (a shard's work shares
// "shard:<key>") and the deduplication id of an enqueue at at.
func checkReceived(t *testing.T, got []sqstypes.Message, want []task.Task, at time.Time) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("received %d messages, want %d (one per task)", len(got), len(want))
	}
	seen := map[task.Task]int{}
	for _, m := range got {
		body := aws.ToString(m.Body)
		tk, err := task.Decode(body)
		if err != nil {
			t.Errorf("Decode(%s): %v", body, err)
			continue
		}
		seen[tk]++
		key := tk.Key()
		if want, _ := tk.Encode(); body != want {
			t.Errorf("body %s, want %s", body, want)
		}
		lane := key
		if tk.Kind == task.Delta || tk.Kind == task.SyncShard || tk.Kind == task.Mirrors {
			lane = "shard:" + tk.Arg
		}
		if g := attr(m, sqstypes.MessageSystemAttributeNameMessageGroupId); g != lane {
			t.Errorf("task %s: MessageGroupId %q, want %q", key, g, lane)
		}
		if d, want := dedupOf(m), sqsqueue.DeduplicationID(key, at, time.Second); d != want {
			t.Errorf("task %s: MessageDeduplicationId %q, want %q", key, d, want)
		}
	}
	for _, tk := range want {
		if seen[tk] != 1 {
			t.Errorf("task %s received %d times, want once", tk, seen[tk])
		}
	}
}

// TestEnqueueRoundTrip sends a task of each kind, one Enqueue each, and
// receives each as one message: the versioned body, the key as
// MessageGroupId and the deduplication id of the enqueue time.
func TestEnqueueRoundTrip(t *testing.T) {
	t.Parallel()
	f := newFauxqs(t)
	url, _ := f.fifoQueue(t)
	clock := &manualClock{now: baseTime()}
	q := sqsqueue.New(f.client, url, sqsqueue.Options{Clock: clock})
	for _, tk := range workTasks() {
		if err := q.Enqueue(t.Context(), tk); err != nil {
			t.Fatalf("Enqueue(%v): %v", tk, err)
		}
	}
	if n := f.rt.count("SendMessage"); n != len(workTasks()) {
		t.Errorf("%d SendMessage calls, want %d", n, len(workTasks()))
	}
	if n := f.rt.count("SendMessageBatch"); n != 0 {
		t.Errorf("%d SendMessageBatch calls, want none", n)
	}
	checkReceived(t, f.drain(t, url), workTasks(), baseTime())
}

// TestEnqueueBatchRoundTrip sends a task of each kind in one Enqueue: one
// SendMessageBatch, and the same messages as one SendMessage each.
func TestEnqueueBatchRoundTrip(t *testing.T) {
	t.Parallel()
	f := newFauxqs(t)
	url, _ := f.fifoQueue(t)
	q := sqsqueue.New(f.client, url, sqsqueue.Options{Clock: &manualClock{now: baseTime()}})
	if err := q.Enqueue(t.Context(), workTasks()...); err != nil {
		t.Fatalf("Enqueue: %v", err)
	}
	if got, want := f.rt.batches(), []int{len(workTasks())}; !slices.Equal(got, want) {
		t.Errorf("SendMessageBatch entries %v, want %v", got, want)
	}
	if n := f.rt.count("SendMessage"); n != 0 {
		t.Errorf("%d SendMessage calls, want none", n)
	}
	checkReceived(t, f.drain(t, url), workTasks(), baseTime())
}

// TestEnqueueManyInBatchesOfTen sends 23 tasks in one Enqueue: three
// SendMessageBatch requests (10, 10 and 3 entries), and all 23 arrive.
func TestEnqueueManyInBatchesOfTen(t *testing.T) {
	t.Parallel()
	f := newFauxqs(t)
	url, _ := f.fifoQueue(t)
	q := sqsqueue.New(f.client, url, sqsqueue.Options{Clock: &manualClock{now: baseTime()}})
	var tasks []task.Task
	for i := range 23 {
		tasks = append(tasks, task.Of(task.Delta, fmt.Sprintf("%016x", i)))
	}
	if err := q.Enqueue(t.Context(), tasks...); err != nil {
		t.Fatalf("Enqueue of 23 tasks: %v", err)
	}
	if got, want := f.rt.batches(), []int{10, 10, 3}; !slices.Equal(got, want) {
		t.Errorf("SendMessageBatch entries %v, want %v", got, want)
	}
	if n := f.rt.count("SendMessage"); n != 0 {
		t.Errorf("%d SendMessage calls, want none", n)
	}
	checkReceived(t, f.drain(t, url), tasks, baseTime())
}

// TestEnqueueBatchDeduplicates sends one task twice in one Enqueue: the
// two entries share a deduplication id, and SQS keeps one message.
func TestEnqueueBatchDeduplicates(t *testing.T) {
	t.Parallel()
	f := newFauxqs(t)
	url, _ := f.fifoQueue(t)
	q := sqsqueue.New(f.client, url, sqsqueue.Options{Clock: &manualClock{now: baseTime()}})
	a, b := mustParse(t, keyA), mustParse(t, keyB)
	if err := q.Enqueue(t.Context(), a, b, a); err != nil {
		t.Fatalf("Enqueue: %v", err)
	}
	checkReceived(t, f.drain(t, url), []task.Task{a, b}, baseTime())
}

// TestEnqueueKeepsOrderWithinGroup sends 20 messages to each of two groups,
// interleaved, a second apart (so none is a duplicate), and receives each
// group's in the order sent.
func TestEnqueueKeepsOrderWithinGroup(t *testing.T) {
	t.Parallel()
	f := newFauxqs(t)
	url, _ := f.fifoQueue(t)
	clock := &manualClock{}
	q := sqsqueue.New(f.client, url, sqsqueue.Options{Clock: clock})
	want := map[string][]string{}
	for i := range 20 {
		at := baseTime().Add(time.Duration(i) * time.Second)
		clock.Set(at)
		for _, key := range []string{keyA, keyB} {
			if err := q.Enqueue(t.Context(), mustParse(t, key)); err != nil {
				t.Fatalf("Enqueue(%s) #%d: %v", key, i, err)
			}
			want[key] = append(want[key], sqsqueue.DeduplicationID(key, at, time.Second))
		}
	}

	got := f.drain(t, url)
	order := byGroup(got, dedupOf)
	for _, key := range []string{keyA, keyB} {
		if !slices.Equal(order[key], want[key]) {
			t.Errorf("group %s: received deduplication ids\n%q\nwant, in the order sent,\n%q", key, order[key], want[key])
		}
	}
	if len(got) != 40 {
		t.Errorf("received %d messages, want 40", len(got))
	}
	// SQS numbers a FIFO queue's messages in the order it stores them.
	seqs := byGroup(got, func(m sqstypes.Message) string { return attr(m, sqstypes.MessageSystemAttributeNameSequenceNumber) })
	for key, s := range seqs {
		for i := 1; i < len(s); i++ {
			if len(s[i]) != len(s[i-1]) || s[i] <= s[i-1] {
				t.Errorf("group %s: sequence number %s after %s", key, s[i], s[i-1])
			}
		}
	}
}

// TestEnqueueDeduplicates sends one task twice within a second (one
// message) and again a second later (a second message); another task in
// the same second is not a duplicate.
func TestEnqueueDeduplicates(t *testing.T) {
	t.Parallel()
	f := newFauxqs(t)
	url, _ := f.fifoQueue(t)
	clock := &manualClock{}
	q := sqsqueue.New(f.client, url, sqsqueue.Options{Clock: clock})
	for _, at := range []time.Duration{0, 300 * time.Millisecond, 800 * time.Millisecond, time.Second, 1500 * time.Millisecond} {
		clock.Set(baseTime().Add(at))
		if err := q.Enqueue(t.Context(), mustParse(t, keyA)); err != nil {
			t.Fatalf("Enqueue at +%v: %v", at, err)
		}
	}
	clock.Set(baseTime())
	if err := q.Enqueue(t.Context(), mustParse(t, keyB)); err != nil {
		t.Fatalf("Enqueue(%s): %v", keyB, err)
	}

	got := byGroup(f.drain(t, url), dedupOf)
	want := map[string][]string{
		keyA: {sqsqueue.DeduplicationID(keyA, baseTime(), time.Second), sqsqueue.DeduplicationID(keyA, baseTime().Add(time.Second), time.Second)},
		keyB: {sqsqueue.DeduplicationID(keyB, baseTime(), time.Second)},
	}
	for key, w := range want {
		if !slices.Equal(got[key], w) {
			t.Errorf("group %s: received %d messages %q, want %d %q", key, len(got[key]), got[key], len(w), w)
		}
	}
	if len(got) != len(want) {
		t.Errorf("received groups %v, want %s and %s only", got, keyA, keyB)
	}
}

// TestEnqueueDedupWindow widens the deduplication window to ten seconds.
func TestEnqueueDedupWindow(t *testing.T) {
	t.Parallel()
	f := newFauxqs(t)
	url, _ := f.fifoQueue(t)
	start := time.Unix(1_800_000_000, 0)
	clock := &manualClock{}
	q := sqsqueue.New(f.client, url, sqsqueue.Options{Clock: clock, DedupWindow: 10 * time.Second})
	for _, at := range []time.Duration{time.Second, 5 * time.Second, 9 * time.Second, 10 * time.Second} {
		clock.Set(start.Add(at))
		if err := q.Enqueue(t.Context(), mustParse(t, keyA)); err != nil {
			t.Fatalf("Enqueue at +%v: %v", at, err)
		}
	}
	got := byGroup(f.drain(t, url), dedupOf)[keyA]
	want := []string{sqsqueue.DeduplicationID(keyA, start, 10*time.Second), sqsqueue.DeduplicationID(keyA, start.Add(10*time.Second), 10*time.Second)}
	if !slices.Equal(got, want) {
		t.Errorf("received %q, want %q (one message per 10 s window)", got, want)
	}
}

// unreachable is a client whose every request goes to rt; no stand-in
// needed.
func unreachable(t *testing.T, rt http.RoundTripper) *sqs.Client {
	t.Helper()
	return sqs.NewFromConfig(awslocal.Config(t), func(o *sqs.Options) {
		o.BaseEndpoint = aws.String("http://127.0.0.1:9")
		o.HTTPClient = &http.Client{Transport: rt}
	})
}

// roundTripFunc is a RoundTripper made of a function.
type roundTripFunc func(*http.Request) (*http.Response, error)

// RoundTrip calls f.
func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// fakeSQS is a RoundTripper answering SendMessage and SendMessageBatch in
// SQS's JSON protocol, with answer's reply to each SendMessageBatch.
type fakeSQS struct {
	// answer returns the status and body of the reply to the n-th
	// (0-based) SendMessageBatch, given its entries.
	answer func(n int, entries []batchEntry) (int, any)

	mu      sync.Mutex
	calls   []string // the actions, in order
	batches int
}

// RoundTrip answers one request.
func (f *fakeSQS) RoundTrip(r *http.Request) (*http.Response, error) {
	action := strings.TrimPrefix(r.Header.Get("X-Amz-Target"), "AmazonSQS.")
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return nil, err
	}
	f.mu.Lock()
	f.calls = append(f.calls, action)
	n := f.batches
	if action == "SendMessageBatch" {
		f.batches++
	}
	f.mu.Unlock()
	status, reply := http.StatusOK, any(map[string]string{"MessageId": "m", "SequenceNumber": "1"})
	switch action {
	case "SendMessage":
	case "SendMessageBatch":
		status, reply = f.answer(n, requestEntries(body))
	default:
		status, reply = http.StatusBadRequest, map[string]string{"__type": "com.amazonaws.sqs#InvalidAction", "message": action}
	}
	b, err := json.Marshal(reply)
	if err != nil {
		return nil, err
	}
	return &http.Response{
		StatusCode:    status,
		Header:        http.Header{"Content-Type": {"application/x-amz-json-1.0"}},
		Body:          io.NopCloser(bytes.NewReader(b)),
		ContentLength: int64(len(b)),
		Request:       r,
	}, nil
}

// actions returns the actions called, in order.
func (f *fakeSQS) actions() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.calls...)
}

// batchResult is a SendMessageBatch reply.
type batchResult struct {
	Successful []map[string]string `json:"Successful"`
	Failed     []map[string]any    `json:"Failed"`
}

// checkJoined checks that err joins one error per key of want, in order,
// each naming its key, containing the texts of also[key] and wrapping
// target when it is not nil.
func checkJoined(t *testing.T, err error, target error, also map[string][]string, want ...string) {
	t.Helper()
	var errs []error
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		errs = j.Unwrap()
	} else if err != nil {
		errs = []error{err}
	}
	if len(errs) != len(want) {
		t.Fatalf("error %v joins %d errors, want %d (for %q)", err, len(errs), len(want), want)
	}
	for i, e := range errs {
		if !strings.Contains(e.Error(), `"`+want[i]+`"`) {
			t.Errorf("error #%d = %v, want one naming %q", i, e, want[i])
		}
		for _, s := range also[want[i]] {
			if !strings.Contains(e.Error(), s) {
				t.Errorf("error #%d = %v, want one saying %q", i, e, s)
			}
		}
		if target != nil && !errors.Is(e, target) {
			t.Errorf("error #%d = %v, want one wrapping %v", i, e, target)
		}
	}
}

// shards returns the delta tasks of shards 0 to n-1.
func shards(n int) []task.Task {
	out := make([]task.Task, n)
	for i := range out {
		out[i] = task.Of(task.Delta, fmt.Sprintf("%016x", i))
	}
	return out
}

// TestEnqueueBatchFailures loses no task: a batch entry SQS refuses, one
// it gives no result for, and the entries of a batch request that fails
// each come back in Enqueue's error, named by key, while the rest is sent.
func TestEnqueueBatchFailures(t *testing.T) {
	tasks := shards(12)
	sqsFake := &fakeSQS{answer: func(n int, entries []batchEntry) (int, any) {
		if n == 1 { // the second request: 2 entries, refused as a whole
			return http.StatusBadRequest, map[string]string{"__type": "com.amazonaws.sqs#QueueDoesNotExist", "message": "The specified queue does not exist."}
		}
		var res batchResult
		for _, e := range entries {
			switch e.ID {
			case "3":
				res.Failed = append(res.Failed, map[string]any{"Id": e.ID, "SenderFault": false, "Code": "InternalError", "Message": "try again"})
			case "7": // neither successful nor failed
			default:
				res.Successful = append(res.Successful, map[string]string{"Id": e.ID, "MessageId": "m-" + e.ID, "SequenceNumber": "1"})
			}
		}
		return http.StatusOK, res
	}}
	q := sqsqueue.New(unreachable(t, sqsFake), "http://127.0.0.1:9/000000000000/work.fifo", sqsqueue.Options{})
	err := q.Enqueue(t.Context(), tasks...)
	checkJoined(t, err, nil, map[string][]string{
		tasks[3].Key():  {"InternalError", "try again"},
		tasks[7].Key():  {"no result"},
		tasks[10].Key(): {"QueueDoesNotExist"},
		tasks[11].Key(): {"QueueDoesNotExist"},
	}, tasks[3].Key(), tasks[7].Key(), tasks[10].Key(), tasks[11].Key())
	if got, want := sqsFake.actions(), []string{"SendMessageBatch", "SendMessageBatch"}; !slices.Equal(got, want) {
		t.Errorf("calls %q, want %q", got, want)
	}
}

// TestEnqueueRejectsBadTasks refuses tasks that cannot travel (whose key
// cannot be a message group id, or that are no valid task) without
// sending them, and sends the others.
func TestEnqueueRejectsBadTasks(t *testing.T) {
	bad := []task.Task{{}, {Kind: "nonsense"}, task.Of(task.Delta, "1 2"), task.Of(task.Renew, "\u00e9"), task.Of(task.Delta, strings.Repeat("k", 200))}
	sqsFake := &fakeSQS{answer: func(int, []batchEntry) (int, any) { return http.StatusOK, batchResult{} }}
	q := sqsqueue.New(unreachable(t, sqsFake), "http://127.0.0.1:9/000000000000/work.fifo", sqsqueue.Options{})
	for _, tk := range bad {
		if err := q.Enqueue(t.Context(), tk); !errors.Is(err, task.ErrPermanent) {
			t.Errorf("Enqueue(%+v) = %v, want ErrPermanent", tk, err)
		}
	}
	var keys []string
	for _, tk := range bad {
		keys = append(keys, tk.Key())
	}
	checkJoined(t, q.Enqueue(t.Context(), bad...), task.ErrPermanent, nil, keys...)
	if got := sqsFake.actions(); len(got) != 0 {
		t.Fatalf("calls %q for bad tasks only, want none", got)
	}

	// Two bad tasks around a good one: the good one goes alone.
	good := mustParse(t, keyA)
	checkJoined(t, q.Enqueue(t.Context(), bad[1], good, bad[2]), task.ErrPermanent, nil, bad[1].Key(), bad[2].Key())
	if got, want := sqsFake.actions(), []string{"SendMessage"}; !slices.Equal(got, want) {
		t.Errorf("calls %q, want %q", got, want)
	}
}

// TestEnqueueNothing sends nothing for no task.
func TestEnqueueNothing(t *testing.T) {
	sqsFake := &fakeSQS{answer: func(int, []batchEntry) (int, any) { return http.StatusOK, batchResult{} }}
	q := sqsqueue.New(unreachable(t, sqsFake), "http://127.0.0.1:9/000000000000/work.fifo", sqsqueue.Options{})
	if err := q.Enqueue(t.Context()); err != nil {
		t.Errorf("Enqueue() = %v", err)
	}
	if got := sqsFake.actions(); len(got) != 0 {
		t.Errorf("calls %q, want none", got)
	}
}

// hanging is a RoundTripper that never answers: it waits for the
// request's context, recording how long each request had left when it
// came in.
type hanging struct {
	mu   sync.Mutex
	left []time.Duration
}

// RoundTrip waits for the request's end.
func (h *hanging) RoundTrip(r *http.Request) (*http.Response, error) {
	left := time.Duration(-1)
	if d, ok := r.Context().Deadline(); ok {
		left = time.Until(d)
	}
	h.mu.Lock()
	h.left = append(h.left, left)
	h.mu.Unlock()
	<-r.Context().Done()
	return nil, r.Context().Err()
}

// requests returns what each request had left of its deadline.
func (h *hanging) requests() []time.Duration {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]time.Duration(nil), h.left...)
}

// TestEnqueueTimeout bounds each request of Enqueue by Options.Timeout
// when SQS does not answer: one for a single task, one per batch of ten.
func TestEnqueueTimeout(t *testing.T) {
	const timeout = 200 * time.Millisecond
	for _, tc := range []struct {
		name     string
		tasks    []task.Task
		requests int
	}{
		{"one task", shards(1), 1},
		{"two batches", shards(11), 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := &hanging{}
			q := sqsqueue.New(unreachable(t, h), "http://127.0.0.1:9/000000000000/work.fifo", sqsqueue.Options{Timeout: timeout})
			start := time.Now()
			err := q.Enqueue(t.Context(), tc.tasks...)
			took := time.Since(start)
			var keys []string
			for _, tk := range tc.tasks {
				keys = append(keys, tk.Key())
			}
			checkJoined(t, err, context.DeadlineExceeded, nil, keys...)
			left := h.requests()
			if len(left) != tc.requests {
				t.Fatalf("%d requests, want %d", len(left), tc.requests)
			}
			for i, l := range left {
				if l <= 0 || l > timeout {
					t.Errorf("request %d came with %v left, want its own deadline of at most %v", i, l, timeout)
				}
			}
			if took > time.Duration(tc.requests)*2*time.Second {
				t.Errorf("Enqueue took %v with a 200 ms timeout per request", took)
			}
		})
	}
}

// TestEnqueueCallerContext bounds Enqueue by the caller's context too: a
// caller deadline shorter than Options.Timeout wins.
func TestEnqueueCallerContext(t *testing.T) {
	client := unreachable(t, roundTripFunc(func(r *http.Request) (*http.Response, error) {
		<-r.Context().Done()
		return nil, r.Context().Err()
	}))
	q := sqsqueue.New(client, "http://127.0.0.1:9/000000000000/work.fifo", sqsqueue.Options{Timeout: time.Minute})
	ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	err := q.Enqueue(ctx, mustParse(t, keyA))
	took := time.Since(start)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Enqueue = %v, want a deadline error", err)
	}
	if took > 5*time.Second {
		t.Errorf("Enqueue took %v with a 200 ms caller deadline", took)
	}
}
