package sqsqueue_test

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/xtsync/xtsync/internal/awslocal"
	"github.com/xtsync/xtsync/pkg/sqsqueue"
)

// TestEnqueueRoundTrip sends a key of each kind and receives each as one
// message: the versioned body, the key as MessageGroupId and the
// deduplication id of the enqueue time.
func TestEnqueueRoundTrip(t *testing.T) {
	t.Parallel()
	f := newFauxqs(t)
	url, _ := f.fifoQueue(t)
	clock := &manualClock{now: baseTime()}
	q := sqsqueue.New(f.client, url, sqsqueue.Options{Clock: clock})
	for _, key := range workKeys() {
		if err := q.Enqueue(t.Context(), key); err != nil {
			t.Fatalf("Enqueue(%q): %v", key, err)
		}
	}
	if n := f.rt.count("SendMessage"); n != len(workKeys()) {
		t.Errorf("%d SendMessage calls, want %d", n, len(workKeys()))
	}

	got := f.drain(t, url)
	if len(got) != len(workKeys()) {
		t.Fatalf("received %d messages, want %d (one per key)", len(got), len(workKeys()))
	}
	seen := map[string]bool{}
	for _, m := range got {
		body := aws.ToString(m.Body)
		key, err := sqsqueue.Decode(body)
		if err != nil {
			t.Errorf("Decode(%s): %v", body, err)
			continue
		}
		seen[key] = true
		if want, _ := sqsqueue.Encode(key); body != want {
			t.Errorf("body %s, want %s", body, want)
		}
		if g := attr(m, sqstypes.MessageSystemAttributeNameMessageGroupId); g != key {
			t.Errorf("key %s: MessageGroupId %q, want the key", key, g)
		}
		if d, want := dedupOf(m), sqsqueue.DeduplicationID(key, baseTime(), time.Second); d != want {
			t.Errorf("key %s: MessageDeduplicationId %q, want %q", key, d, want)
		}
	}
	for _, key := range workKeys() {
		if !seen[key] {
			t.Errorf("key %s not received", key)
		}
	}
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
			if err := q.Enqueue(t.Context(), key); err != nil {
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

// TestEnqueueDeduplicates sends one key twice within a second (one message)
// and again a second later (a second message); another key in the same
// second is not a duplicate.
func TestEnqueueDeduplicates(t *testing.T) {
	t.Parallel()
	f := newFauxqs(t)
	url, _ := f.fifoQueue(t)
	clock := &manualClock{}
	q := sqsqueue.New(f.client, url, sqsqueue.Options{Clock: clock})
	for _, at := range []time.Duration{0, 300 * time.Millisecond, 800 * time.Millisecond, time.Second, 1500 * time.Millisecond} {
		clock.Set(baseTime().Add(at))
		if err := q.Enqueue(t.Context(), keyA); err != nil {
			t.Fatalf("Enqueue at +%v: %v", at, err)
		}
	}
	clock.Set(baseTime())
	if err := q.Enqueue(t.Context(), keyB); err != nil {
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
		if err := q.Enqueue(t.Context(), keyA); err != nil {
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

// TestEnqueueRejectsBadKeys refuses keys that cannot be a message group id
// without calling SQS.
func TestEnqueueRejectsBadKeys(t *testing.T) {
	calls := 0
	client := unreachable(t, roundTripFunc(func(*http.Request) (*http.Response, error) {
		calls++
		return nil, errors.New("no SQS here")
	}))
	q := sqsqueue.New(client, "http://127.0.0.1:9/000000000000/work.fifo", sqsqueue.Options{})
	for _, key := range []string{"", "shard: 1", "shard:\u00e9"} {
		if err := q.Enqueue(t.Context(), key); !errors.Is(err, sqsqueue.ErrBadKey) {
			t.Errorf("Enqueue(%q) = %v, want ErrBadKey", key, err)
		}
	}
	if calls != 0 {
		t.Errorf("%d requests sent, want none", calls)
	}
}

// TestEnqueueTimeout bounds Enqueue by Options.Timeout when SQS does not
// answer.
func TestEnqueueTimeout(t *testing.T) {
	client := unreachable(t, roundTripFunc(func(r *http.Request) (*http.Response, error) {
		<-r.Context().Done()
		return nil, r.Context().Err()
	}))
	q := sqsqueue.New(client, "http://127.0.0.1:9/000000000000/work.fifo", sqsqueue.Options{Timeout: 200 * time.Millisecond})
	start := time.Now()
	err := q.Enqueue(t.Context(), keyA)
	took := time.Since(start)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Enqueue = %v, want a deadline error", err)
	}
	if took > 2*time.Second {
		t.Errorf("Enqueue took %v with a 200 ms timeout", took)
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
	err := q.Enqueue(ctx, keyA)
	took := time.Since(start)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Enqueue = %v, want a deadline error", err)
	}
	if took > 5*time.Second {
		t.Errorf("Enqueue took %v with a 200 ms caller deadline", took)
	}
}
