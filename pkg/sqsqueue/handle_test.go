package sqsqueue_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/xtsync/xtsync/pkg/sqsqueue"
	"github.com/xtsync/xtsync/pkg/task"
)

// fakeWork is an in-memory process: it records the keys of the tasks it
// runs and fails the first calls of a key with the errors given for it.
type fakeWork struct {
	fail  map[string][]error
	calls []string
}

// process runs one task.
func (w *fakeWork) process(_ context.Context, t task.Task) error {
	key := t.Key()
	w.calls = append(w.calls, key)
	errs := w.fail[key]
	if len(errs) == 0 {
		return nil
	}
	w.fail[key] = errs[1:]
	return errs[0]
}

// rec is a record of a FIFO batch: group "" leaves out the MessageGroupId
// attribute; body "" means the encoded task of key.
type rec struct{ id, group, key, body string }

// event builds a Lambda SQS event as the event source mapping does.
func event(t *testing.T, recs ...rec) events.SQSEvent {
	t.Helper()
	var ev events.SQSEvent
	for _, r := range recs {
		body := r.body
		if body == "" {
			tk, err := task.Parse(r.key)
			if err == nil {
				body, err = tk.Encode()
			}
			if err != nil {
				t.Fatal(err)
			}
		}
		attrs := map[string]string{"ApproximateReceiveCount": "1", "SentTimestamp": "1800000000100"}
		if r.group != "" {
			attrs["MessageGroupId"] = r.group
		}
		ev.Records = append(ev.Records, events.SQSMessage{
			MessageId: r.id, ReceiptHandle: "rh-" + r.id, Body: body, Attributes: attrs,
			EventSource: "aws:sqs", EventSourceARN: "arn:aws:sqs:us-east-1:000000000000:work.fifo", AWSRegion: "us-east-1",
		})
	}
	return ev
}

// failedIDs lists the message ids a response reports.
func failedIDs(resp events.SQSEventResponse) []string {
	ids := []string{}
	for _, f := range resp.BatchItemFailures {
		ids = append(ids, f.ItemIdentifier)
	}
	return ids
}

// permanentCall is one call of the WithPermanent callback.
type permanentCall struct {
	id  string
	err error
}

const (
	keyA = "shard:aaaaaaaaaaaaaaaa"
	keyB = "shard:bbbbbbbbbbbbbbbb"
)

func TestHandle(t *testing.T) {
	errGraph := errors.New("graph: 503 Service Unavailable")
	for _, tc := range []struct {
		name          string
		recs          []rec
		fail          map[string][]error
		wantFailed    []string
		wantCalls     []string
		wantPermanent []string     // message ids given to the callback
		wantPermErr   []error      // what each of their errors wraps
		wantErrorLogs []string     // message ids logged at error level
		wantNotLogged []slog.Level // levels that must not appear
	}{
		{
			name: "all succeed",
			recs: []rec{
				{id: "a1", group: keyA, key: keyA}, {id: "b1", group: keyB, key: keyB},
				{id: "r1", group: "reconcile", key: "reconcile"}, {id: "s1", group: "subscriptions", key: "subscriptions"},
			},
			wantFailed:    []string{},
			wantCalls:     []string{keyA, keyB, "reconcile", "subscriptions"},
			wantNotLogged: []slog.Level{slog.LevelWarn, slog.LevelError},
		},
		{
			name: "transient failure holds back the rest of its group only",
			recs: []rec{
				{id: "a1", group: keyA, key: keyA}, {id: "b1", group: keyB, key: keyB},
				{id: "a2", group: keyA, key: keyA}, {id: "b2", group: keyB, key: keyB},
				{id: "a3", group: keyA, key: keyA},
			},
			fail:       map[string][]error{keyA: {fmt.Errorf("delta pass %s: %w", keyA, errGraph)}},
			wantFailed: []string{"a1", "a2", "a3"},
			wantCalls:  []string{keyA, keyB, keyB},
		},
		{
			name: "a group that fails later keeps its earlier successes",
			recs: []rec{
				{id: "a1", group: keyA, key: keyA}, {id: "a2", group: keyA, key: keyA}, {id: "a3", group: keyA, key: keyA},
			},
			fail:       map[string][]error{keyA: {nil, errGraph}},
			wantFailed: []string{"a2", "a3"},
			wantCalls:  []string{keyA, keyA},
		},
		{
			name: "every group fails",
			recs: []rec{
				{id: "a1", group: keyA, key: keyA}, {id: "b1", group: keyB, key: keyB}, {id: "b2", group: keyB, key: keyB},
			},
			fail:       map[string][]error{keyA: {errGraph}, keyB: {errGraph}},
			wantFailed: []string{"a1", "b1", "b2"},
			wantCalls:  []string{keyA, keyB},
		},
		{
			name: "bad bodies are dropped, not retried",
			recs: []rec{
				{id: "x1", group: keyA, body: "group changed"},
				{id: "a1", group: keyA, key: keyA},
				{id: "x2", group: keyB, body: `{"v":2,"key":"` + keyB + `"}`},
				{id: "b1", group: keyB, key: keyB},
				{id: "x3", group: "nonsense", body: `{"v":1,"key":"nonsense"}`},
			},
			wantFailed:    []string{},
			wantCalls:     []string{keyA, keyB},
			wantPermanent: []string{"x1", "x2", "x3"},
			wantPermErr:   []error{task.ErrBadMessage, task.ErrBadMessage, task.ErrBadMessage},
			wantErrorLogs: []string{"x1", "x2", "x3"},
		},
		{
			name: "ErrPermanent is dropped and does not hold back its group",
			recs: []rec{
				{id: "a1", group: keyA, key: keyA}, {id: "a2", group: keyA, key: keyA}, {id: "b1", group: keyB, key: keyB},
			},
			fail:          map[string][]error{keyA: {fmt.Errorf("renew: subscription gone: %w", task.ErrPermanent)}},
			wantFailed:    []string{},
			wantCalls:     []string{keyA, keyA, keyB},
			wantPermanent: []string{"a1"},
			wantPermErr:   []error{task.ErrPermanent},
			wantErrorLogs: []string{"a1"},
		},
		{
			name: "a bad body behind a failed message of its group waits its turn",
			recs: []rec{
				{id: "a1", group: keyA, key: keyA}, {id: "x1", group: keyA, body: "garbage"},
			},
			fail:          map[string][]error{keyA: {errGraph}},
			wantFailed:    []string{"a1", "x1"},
			wantCalls:     []string{keyA},
			wantNotLogged: []slog.Level{slog.LevelError},
		},
		{
			name: "without a message group nothing is held back",
			recs: []rec{
				{id: "m1", key: keyA}, {id: "m2", key: keyA}, {id: "m3", key: keyB},
			},
			fail:       map[string][]error{keyA: {errGraph}},
			wantFailed: []string{"m1"},
			wantCalls:  []string{keyA, keyA, keyB},
		},
		{
			name:       "empty batch",
			wantFailed: []string{},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			log, logs := testLogger(t)
			work := &fakeWork{fail: tc.fail}
			if work.fail == nil {
				work.fail = map[string][]error{}
			}
			var perm []permanentCall
			resp := sqsqueue.Handle(t.Context(), event(t, tc.recs...), work.process, log,
				sqsqueue.WithPermanent(func(id string, err error) { perm = append(perm, permanentCall{id, err}) }))

			if got := failedIDs(resp); !slices.Equal(got, tc.wantFailed) {
				t.Errorf("reported failures %q, want %q", got, tc.wantFailed)
			}
			if !slices.Equal(work.calls, tc.wantCalls) {
				t.Errorf("process ran %q, want %q", work.calls, tc.wantCalls)
			}
			var permIDs []string
			for i, p := range perm {
				permIDs = append(permIDs, p.id)
				if i < len(tc.wantPermErr) && !errors.Is(p.err, tc.wantPermErr[i]) {
					t.Errorf("permanent %s: error %v, want one wrapping %v", p.id, p.err, tc.wantPermErr[i])
				}
			}
			if !slices.Equal(permIDs, tc.wantPermanent) {
				t.Errorf("permanent callback got %q, want %q", permIDs, tc.wantPermanent)
			}
			var errorLogged []string
			for _, r := range logs.records() {
				if slices.Contains(tc.wantNotLogged, r.Level) {
					t.Errorf("unexpected %s log: %s", r.Level, r.Message)
				}
				if r.Level != slog.LevelError {
					continue
				}
				r.Attrs(func(a slog.Attr) bool {
					if a.Key == "message_id" {
						errorLogged = append(errorLogged, a.Value.String())
					}
					return true
				})
			}
			if !slices.Equal(errorLogged, tc.wantErrorLogs) {
				t.Errorf("logged at error level for messages %q, want %q", errorLogged, tc.wantErrorLogs)
			}
		})
	}
}

// TestHandleWithoutPermanentCallback drops a bad message without a callback.
func TestHandleWithoutPermanentCallback(t *testing.T) {
	log, _ := testLogger(t)
	work := &fakeWork{fail: map[string][]error{}}
	resp := sqsqueue.Handle(t.Context(), event(t, rec{id: "x1", group: keyA, body: "{"}, rec{id: "a1", group: keyA, key: keyA}), work.process, log)
	if got := failedIDs(resp); len(got) != 0 {
		t.Errorf("reported %q, want nothing", got)
	}
	if !slices.Equal(work.calls, []string{keyA}) {
		t.Errorf("process ran %q, want [%s]", work.calls, keyA)
	}
	// A nil logger is allowed too.
	resp = sqsqueue.Handle(t.Context(), event(t, rec{id: "x1", group: keyA, body: "{"}), work.process, nil)
	if got := failedIDs(resp); len(got) != 0 {
		t.Errorf("nil logger: reported %q, want nothing", got)
	}
}

// TestHandleContextDone reports what is left once the context is done
// (Lambda's deadline) without running it.
func TestHandleContextDone(t *testing.T) {
	log, _ := testLogger(t)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var calls []string
	process := func(ctx context.Context, t task.Task) error {
		calls = append(calls, t.Key())
		cancel()
		return nil
	}
	ev := event(t, rec{id: "a1", group: keyA, key: keyA}, rec{id: "b1", group: keyB, key: keyB}, rec{id: "r1", group: "reconcile", key: "reconcile"})
	resp := sqsqueue.Handle(ctx, ev, process, log)
	if got, want := failedIDs(resp), []string{"b1", "r1"}; !slices.Equal(got, want) {
		t.Errorf("reported %q, want %q", got, want)
	}
	if !slices.Equal(calls, []string{keyA}) {
		t.Errorf("process ran %q, want only %s", calls, keyA)
	}
}

// TestHandleResponseJSON checks the wire form Lambda reads.
func TestHandleResponseJSON(t *testing.T) {
	work := &fakeWork{fail: map[string][]error{keyA: {errors.New("boom")}}}
	resp := sqsqueue.Handle(t.Context(), event(t, rec{id: "a1", group: keyA, key: keyA}, rec{id: "b1", group: keyB, key: keyB}), work.process, nil)
	b, err := json.Marshal(resp)
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"batchItemFailures":[{"itemIdentifier":"a1"}]}`; string(b) != want {
		t.Errorf("response %s, want %s", b, want)
	}
	resp = sqsqueue.Handle(t.Context(), event(t, rec{id: "b1", group: keyB, key: keyB}), work.process, nil)
	if b, _ = json.Marshal(resp); string(b) != `{"batchItemFailures":[]}` {
		t.Errorf("all-success response %s, want an empty list", b)
	}
}
