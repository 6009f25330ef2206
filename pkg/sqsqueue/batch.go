package sqsqueue

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

// maxBatch is the most entries one SendMessageBatch takes.
const maxBatch = 10

// pending is one key on its way into a batch.
type pending struct {
	key   string
	body  string
	dedup string
}

// EnqueueBatch sends work keys with SendMessageBatch, ten at a time, all
// stamped with one reading of the clock. Repeated keys are sent once.
// Entries that SQS fails inside a batch on its side are resent up to
// Options.BatchRetries times (with the same deduplication ids, so a resend
// never doubles a message). The keys that still failed, or were invalid,
// come back in a *BatchError; the others were queued. EnqueueBatch stops
// early when ctx is done.
func (q *Queue) EnqueueBatch(ctx context.Context, keys []string) error {
	now := q.opts.Clock.Now()
	var failed []KeyError
	var todo []pending
	seen := make(map[string]bool, len(keys))
	for _, key := range keys {
		if seen[key] {
			continue
		}
		seen[key] = true
		body, err := Encode(key)
		if err != nil {
			failed = append(failed, KeyError{Key: key, Err: err})
			continue
		}
		todo = append(todo, pending{key: key, body: body, dedup: DeduplicationID(key, now, q.opts.DedupWindow)})
	}
	for len(todo) > 0 {
		n := min(len(todo), maxBatch)
		failed = append(failed, q.sendChunk(ctx, todo[:n])...)
		todo = todo[n:]
	}
	if len(failed) > 0 {
		return &BatchError{Failed: failed}
	}
	return nil
}

// sendChunk sends at most ten entries, resending the ones SQS failed on its
// side, and returns those that were not queued.
func (q *Queue) sendChunk(ctx context.Context, chunk []pending) []KeyError {
	var failed []KeyError
	delay := q.opts.RetryDelay
	for attempt := 0; ; attempt++ {
		last := attempt >= q.opts.BatchRetries
		retry, gaveUp, err := q.sendOnce(ctx, chunk, last)
		if err != nil {
			return append(failed, keyErrors(chunk, err)...)
		}
		failed = append(failed, gaveUp...)
		if len(retry) == 0 {
			return failed
		}
		q.opts.Log.Warn("resending SendMessageBatch entries that SQS failed", "entries", len(retry), "attempt", attempt+1, "delay", delay)
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return append(failed, keyErrors(retry, fmt.Errorf("sqsqueue: send batch: %w", ctx.Err()))...)
		case <-t.C:
		}
		delay *= 2
		chunk = retry
	}
}

// sendOnce sends one SendMessageBatch and sorts the entries SQS did not
// queue into those to resend and those given up on (sender faults, and all
// of them when last is set). An error means the call itself failed (after
// the SDK's own retries): no entry is known to be queued.
func (q *Queue) sendOnce(ctx context.Context, chunk []pending, last bool) (retry []pending, gaveUp []KeyError, err error) {
	entries := make([]types.SendMessageBatchRequestEntry, len(chunk))
	for i, p := range chunk {
		entries[i] = types.SendMessageBatchRequestEntry{
			Id:                     aws.String(strconv.Itoa(i)),
			MessageBody:            aws.String(p.body),
			MessageGroupId:         aws.String(p.key),
			MessageDeduplicationId: aws.String(p.dedup),
		}
	}
	out, err := q.client.SendMessageBatch(ctx, &sqs.SendMessageBatchInput{QueueUrl: aws.String(q.url), Entries: entries})
	if err != nil {
		return nil, nil, fmt.Errorf("sqsqueue: send batch: %w", err)
	}
	answered := make([]bool, len(chunk))
	for _, s := range out.Successful {
		if i, ok := entryIndex(s.Id, len(chunk)); ok {
			answered[i] = true
		}
	}
	for _, f := range out.Failed {
		i, ok := entryIndex(f.Id, len(chunk))
		if !ok {
			q.opts.Log.Error("SendMessageBatch failed an entry it was not sent", "id", aws.ToString(f.Id), "code", aws.ToString(f.Code))
			continue
		}
		answered[i] = true
		reason := fmt.Errorf("sqsqueue: SendMessageBatch entry failed: %s: %s (sender fault: %t)", aws.ToString(f.Code), aws.ToString(f.Message), f.SenderFault)
		if f.SenderFault || last {
			gaveUp = append(gaveUp, KeyError{Key: chunk[i].key, Err: reason})
			continue
		}
		retry = append(retry, chunk[i])
	}
	// An entry SQS did not answer for is not known to be queued: resend it
	// (deduplication makes that safe) or give up on it.
	for i, ok := range answered {
		switch {
		case ok:
		case last:
			gaveUp = append(gaveUp, KeyError{Key: chunk[i].key, Err: errors.New("sqsqueue: SendMessageBatch did not answer for the entry")})
		default:
			retry = append(retry, chunk[i])
		}
	}
	return retry, gaveUp, nil
}

// entryIndex parses a batch entry id, which is the entry's index.
func entryIndex(id *string, n int) (int, bool) {
	i, err := strconv.Atoi(aws.ToString(id))
	return i, err == nil && i >= 0 && i < n
}

// keyErrors gives every key of chunk the same error.
func keyErrors(chunk []pending, err error) []KeyError {
	out := make([]KeyError, len(chunk))
	for i, p := range chunk {
		out[i] = KeyError{Key: p.key, Err: err}
	}
	return out
}
