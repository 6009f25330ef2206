package sqsqueue_test

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/xtsync/xtsync/internal/awslocal"
	"github.com/xtsync/xtsync/pkg/sqsqueue"
)

// lambdaEvent builds the event the Lambda event source mapping would pass
// for received messages.
func lambdaEvent(msgs []sqstypes.Message, arn string) events.SQSEvent {
	var ev events.SQSEvent
	for _, m := range msgs {
		ev.Records = append(ev.Records, events.SQSMessage{
			MessageId:      aws.ToString(m.MessageId),
			ReceiptHandle:  aws.ToString(m.ReceiptHandle),
			Body:           aws.ToString(m.Body),
			Md5OfBody:      aws.ToString(m.MD5OfBody),
			Attributes:     m.Attributes,
			EventSource:    "aws:sqs",
			EventSourceARN: arn,
			AWSRegion:      awslocal.Region,
		})
	}
	return ev
}

// TestEndToEnd enqueues work for two shards, receives it as the event
// source mapping does, runs Handle with the delta pass of shard A failing,
// deletes what succeeded, makes the failures visible again, and receives
// only the failures again, in order (then what SQS had held back).
func TestEndToEnd(t *testing.T) {
	t.Parallel()
	f := newFauxqs(t)
	url, arn := f.fifoQueue(t)
	ctx := testContext(t)
	log, _ := testLogger(t)
	clock := &manualClock{}
	q := sqsqueue.New(f.client, url, sqsqueue.Options{Clock: clock})

	// A1 B1 A2 B2 A3, a second apart: five messages.
	sends := []string{keyA, keyB, keyA, keyB, keyA}
	sentDedup := map[string][]string{}
	for i, key := range sends {
		at := baseTime().Add(time.Duration(i) * time.Second)
		clock.Set(at)
		if err := q.Enqueue(t.Context(), mustParse(t, key)); err != nil {
			t.Fatalf("Enqueue #%d: %v", i, err)
		}
		sentDedup[key] = append(sentDedup[key], sqsqueue.DeduplicationID(key, at, time.Second))
	}

	batch := f.receiveAvailable(t, url)
	ev := lambdaEvent(batch, arn)
	inBatch := byGroup(batch, dedupOf)
	t.Logf("batch: %d messages, %d of group A, %d of group B", len(batch), len(inBatch[keyA]), len(inBatch[keyB]))
	if len(inBatch[keyA]) == 0 || len(inBatch[keyB]) == 0 {
		t.Fatalf("batch %v lacks a group: want messages of %s and %s", inBatch, keyA, keyB)
	}
	for key, ids := range inBatch {
		if want := sentDedup[key][:len(ids)]; !slices.Equal(ids, want) {
			t.Errorf("group %s: batch holds %q, want the first sent, in order: %q", key, ids, want)
		}
	}
	if len(inBatch[keyA]) < 2 {
		// Real SQS tries to return as many messages of one group as it can
		// in one receive (up to MaxNumberOfMessages), but does not promise
		// to. fauxqs 1.9.2 never does: its dequeueFifo (dist/sqs/sqsStore.js)
		// takes one message per group and then locks the group, so a batch
		// holds at most one message of a group. The expectations below are
		// derived from the batch and hold either way; the hold-back of a
		// group's later messages is covered by TestHandle.
		t.Logf("only %d message of group %s in the batch: the hold-back of its later messages is not exercised here", len(inBatch[keyA]), keyA)
	}

	// The delta pass of shard A fails once; everything else works.
	work := &fakeWork{fail: map[string][]error{keyA: {errors.New("graph: 503")}}}
	resp := sqsqueue.Handle(ctx, ev, work.process, log)

	// What Handle must report: every message of group A in the batch (the
	// first failed, the rest held back behind it); none of group B.
	var wantFailed, wantFailedDedup []string
	var wantCalls []string
	failedA := false
	for i, m := range batch {
		g := attr(m, sqstypes.MessageSystemAttributeNameMessageGroupId)
		if g == keyA {
			wantFailed = append(wantFailed, ev.Records[i].MessageId)
			wantFailedDedup = append(wantFailedDedup, dedupOf(m))
			if !failedA {
				wantCalls = append(wantCalls, keyA)
				failedA = true
			}
			continue
		}
		wantCalls = append(wantCalls, g)
	}
	if got := failedIDs(resp); !slices.Equal(got, wantFailed) {
		t.Fatalf("reported %q, want %q", got, wantFailed)
	}
	if !slices.Equal(work.calls, wantCalls) {
		t.Errorf("process ran %q, want %q", work.calls, wantCalls)
	}

	// Do what the event source mapping does with the response (it leaves
	// failures to the visibility timeout; setting it to 0 makes them come
	// back now).
	for _, m := range batch {
		id := aws.ToString(m.MessageId)
		if slices.Contains(wantFailed, id) {
			if _, err := f.client.ChangeMessageVisibility(ctx, &sqs.ChangeMessageVisibilityInput{QueueUrl: aws.String(url), ReceiptHandle: m.ReceiptHandle, VisibilityTimeout: 0}); err != nil {
				t.Fatalf("ChangeMessageVisibility %s: %v", id, err)
			}
			continue
		}
		f.deleteMessage(t, url, m)
	}

	// The failures come back first in their group, in order, followed by
	// the messages SQS had not handed out yet; nothing that succeeded
	// returns.
	again := f.drain(t, url)
	gotAgain := byGroup(again, dedupOf)
	for _, key := range []string{keyA, keyB} {
		var want []string
		if key == keyA {
			want = append(want, wantFailedDedup...)
		}
		want = append(want, sentDedup[key][len(inBatch[key]):]...)
		if !slices.Equal(gotAgain[key], want) {
			t.Errorf("group %s received again %q, want %q", key, gotAgain[key], want)
		}
	}
	for _, m := range again {
		id := aws.ToString(m.MessageId)
		for _, b := range batch {
			if aws.ToString(b.MessageId) == id && !slices.Contains(wantFailed, id) {
				t.Errorf("message %s succeeded and was deleted, but came back", id)
			}
		}
		if slices.Contains(wantFailed, id) && attr(m, sqstypes.MessageSystemAttributeNameApproximateReceiveCount) != "2" {
			t.Errorf("failed message %s: receive count %s, want 2", id, attr(m, sqstypes.MessageSystemAttributeNameApproximateReceiveCount))
		}
	}
}
