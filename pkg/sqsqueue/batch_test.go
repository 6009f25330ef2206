package sqsqueue_test

import (
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/xtsync/xtsync/pkg/sqsqueue"
)

// shardKeys returns n distinct shard keys.
func shardKeys(n int) []string {
	keys := make([]string, n)
	for i := range keys {
		keys[i] = fmt.Sprintf("shard:%016x", i)
	}
	return keys
}

// receivedKeys drains the queue and returns each group's message count,
// checking that every message's group is its key.
func receivedKeys(t *testing.T, f *fauxqs, url string) map[string]int {
	t.Helper()
	got := map[string]int{}
	for _, m := range f.drain(t, url) {
		key, err := sqsqueue.Decode(aws.ToString(m.Body))
		if err != nil {
			t.Errorf("Decode: %v", err)
			continue
		}
		if g := attr(m, sqstypes.MessageSystemAttributeNameMessageGroupId); g != key {
			t.Errorf("key %s: MessageGroupId %q", key, g)
		}
		got[key]++
	}
	return got
}

// failEntry moves the answer for key's entry from Successful to Failed.
func failEntry(entries map[string]string, answer *batchAnswer, key string, senderFault bool) {
	var keep []map[string]any
	for _, s := range answer.Successful {
		id, _ := s["Id"].(string)
		if entries[id] != key {
			keep = append(keep, s)
			continue
		}
		answer.Failed = append(answer.Failed, map[string]any{"Id": id, "SenderFault": senderFault, "Code": "InternalError", "Message": "injected by the test"})
	}
	answer.Successful = keep
}

// TestEnqueueBatch sends 25 keys (and a repeat) in three batches of at most
// ten and receives each key once.
func TestEnqueueBatch(t *testing.T) {
	t.Parallel()
	f := newFauxqs(t)
	url, _ := f.fifoQueue(t)
	q := sqsqueue.New(f.client, url, sqsqueue.Options{Clock: &manualClock{now: baseTime()}})
	keys := shardKeys(25)
	if err := q.EnqueueBatch(t.Context(), append(keys, keys[3])); err != nil {
		t.Fatalf("EnqueueBatch: %v", err)
	}
	batches := f.rt.batchKeys()
	if n := f.rt.count("SendMessageBatch"); n != 3 || len(batches) != 3 {
		t.Fatalf("%d SendMessageBatch calls, want 3", n)
	}
	var sent []string
	for i, b := range batches {
		if want := []int{10, 10, 5}[i]; len(b) != want {
			t.Errorf("batch %d has %d entries, want %d", i, len(b), want)
		}
		sent = append(sent, b...)
	}
	if !slices.Equal(sent, keys) {
		t.Errorf("sent %q, want each key once, in order", sent)
	}
	got := receivedKeys(t, f, url)
	for _, key := range keys {
		if got[key] != 1 {
			t.Errorf("key %s received %d times, want once", key, got[key])
		}
	}
	if len(got) != len(keys) {
		t.Errorf("received %d keys, want %d", len(got), len(keys))
	}
}

// TestEnqueueBatchResendsFailedEntries fails one entry inside the first
// batch, as SQS may on its side, and sees it resent alone.
func TestEnqueueBatchResendsFailedEntries(t *testing.T) {
	t.Parallel()
	f := newFauxqs(t)
	url, _ := f.fifoQueue(t)
	keys := shardKeys(25)
	flaky := keys[7]
	f.rt.rewrite = func(call int, entries map[string]string, answer *batchAnswer) {
		if call == 1 {
			failEntry(entries, answer, flaky, false)
		}
	}
	log, _ := testLogger(t)
	q := sqsqueue.New(f.client, url, sqsqueue.Options{Clock: &manualClock{now: baseTime()}, RetryDelay: time.Millisecond, Log: log})
	if err := q.EnqueueBatch(t.Context(), keys); err != nil {
		t.Fatalf("EnqueueBatch: %v", err)
	}
	batches := f.rt.batchKeys()
	if len(batches) != 4 {
		t.Fatalf("%d SendMessageBatch calls, want 4 (3 batches and a resend): %q", len(batches), batches)
	}
	if !slices.Equal(batches[1], []string{flaky}) {
		t.Errorf("second call sent %q, want the resend of %s alone before the next batch", batches[1], flaky)
	}
	// The failure was injected into the answer only, so the first send was
	// stored: the resend carries the same deduplication id and SQS drops it.
	got := receivedKeys(t, f, url)
	for _, key := range keys {
		if got[key] != 1 {
			t.Errorf("key %s received %d times, want once", key, got[key])
		}
	}
}

// TestEnqueueBatchReportsKeys gives up on an entry that keeps failing after
// Options.BatchRetries resends, does not resend a sender fault, and names
// both (and an invalid key) in the error; the other keys are queued.
func TestEnqueueBatchReportsKeys(t *testing.T) {
	t.Parallel()
	f := newFauxqs(t)
	url, _ := f.fifoQueue(t)
	keys := shardKeys(5)
	failing, refused := keys[1], keys[3]
	f.rt.rewrite = func(_ int, entries map[string]string, answer *batchAnswer) {
		failEntry(entries, answer, failing, false)
		failEntry(entries, answer, refused, true)
	}
	log, _ := testLogger(t)
	q := sqsqueue.New(f.client, url, sqsqueue.Options{Clock: &manualClock{now: baseTime()}, BatchRetries: 2, RetryDelay: time.Millisecond, Log: log})
	err := q.EnqueueBatch(t.Context(), append(keys, "bad key"))
	var be *sqsqueue.BatchError
	if !errors.As(err, &be) {
		t.Fatalf("EnqueueBatch = %v, want a *BatchError", err)
	}
	got := be.Keys()
	slices.Sort(got)
	if want := []string{"bad key", failing, refused}; !slices.Equal(got, want) {
		t.Errorf("failed keys %q, want %q", got, want)
	}
	if !errors.Is(err, sqsqueue.ErrBadKey) {
		t.Errorf("error %v does not wrap ErrBadKey for the bad key", err)
	}
	batches := f.rt.batchKeys()
	want := [][]string{keys, {failing}, {failing}}
	if !slices.EqualFunc(batches, want, slices.Equal) {
		t.Errorf("SendMessageBatch calls %q, want %q (two resends of %s only)", batches, want, failing)
	}
	received := receivedKeys(t, f, url)
	for _, key := range []string{keys[0], keys[2], keys[4]} {
		if received[key] != 1 {
			t.Errorf("key %s received %d times, want once", key, received[key])
		}
	}
}
