package sqsqueue

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/xtsync/xtsync/pkg/task"
)

// maxBatch is how many messages one SendMessageBatch request carries at
// most (SQS's limit); Enqueue sends more tasks in several requests.
const maxBatch = 10

// Queue sends tasks to an SQS FIFO queue: one message per task and
// deduplication window, grouped by the task's key (see the package
// documentation).
type Queue struct {
	client *sqs.Client
	url    string
	opts   Options
}

// New returns a Queue sending to the FIFO queue at queueURL.
func New(client *sqs.Client, queueURL string, opts Options) *Queue {
	return &Queue{client: client, url: queueURL, opts: opts.withDefaults()}
}

// Enqueue sends tasks under ctx, each request within Options.Timeout: one
// task with SendMessage, two or more with SendMessageBatch, ten to a
// request, in the order given. A task whose key was already sent in the
// same deduplication window is accepted and dropped by SQS.
//
// A task that cannot travel (task.Task.Check: an unknown kind, a key that
// is no valid message group id) is not sent; its error wraps
// task.ErrPermanent. The error joins one error per task not sent (a bad
// task, a failed request, or a batch entry SQS reports failed, with its
// code and message), each naming the task's key; the other tasks are sent.
// An Enqueue of no task does nothing.
func (q *Queue) Enqueue(ctx context.Context, tasks ...task.Task) error {
	if len(tasks) == 0 {
		return nil
	}
	var errs []error
	msgs := make([]outgoing, 0, len(tasks))
	now := q.opts.Clock.Now()
	for _, t := range tasks {
		body, err := t.Encode()
		if err != nil {
			errs = append(errs, fmt.Errorf("sqsqueue: enqueue %q: %w", t.Key(), err))
			continue
		}
		key := t.Key()
		msgs = append(msgs, outgoing{key: key, group: t.Lane(), body: body, dedup: DeduplicationID(key, now, q.opts.DedupWindow)})
	}
	switch {
	case len(msgs) == 1:
		errs = append(errs, q.send(ctx, msgs[0]))
	case len(msgs) > 1:
		for start := 0; start < len(msgs); start += maxBatch {
			errs = append(errs, q.sendBatch(ctx, msgs[start:min(start+maxBatch, len(msgs))])...)
		}
	}
	return errors.Join(errs...)
}

// outgoing is one message to send.
type outgoing struct {
	key   string // the task's key
	group string // the task's lane: the message group id
	body  string
	dedup string // the message deduplication id
}

// send sends one message with SendMessage, within Options.Timeout.
func (q *Queue) send(ctx context.Context, m outgoing) error {
	ctx, cancel := q.requestContext(ctx)
	defer cancel()
	_, err := q.client.SendMessage(ctx, &sqs.SendMessageInput{
		QueueUrl:               aws.String(q.url),
		MessageBody:            aws.String(m.body),
		MessageGroupId:         aws.String(m.group),
		MessageDeduplicationId: aws.String(m.dedup),
	})
	if err != nil {
		return fmt.Errorf("sqsqueue: enqueue %q: %w", m.key, err)
	}
	return nil
}

// sendBatch sends up to maxBatch messages with one SendMessageBatch,
// within Options.Timeout. It returns one error per message not sent.
func (q *Queue) sendBatch(ctx context.Context, msgs []outgoing) []error {
	ctx, cancel := q.requestContext(ctx)
	defer cancel()
	entries := make([]sqstypes.SendMessageBatchRequestEntry, len(msgs))
	for i, m := range msgs {
		entries[i] = sqstypes.SendMessageBatchRequestEntry{
			Id:                     aws.String(strconv.Itoa(i)),
			MessageBody:            aws.String(m.body),
			MessageGroupId:         aws.String(m.group),
			MessageDeduplicationId: aws.String(m.dedup),
		}
	}
	out, err := q.client.SendMessageBatch(ctx, &sqs.SendMessageBatchInput{QueueUrl: aws.String(q.url), Entries: entries})
	if err != nil {
		errs := make([]error, len(msgs))
		for i, m := range msgs {
			errs[i] = fmt.Errorf("sqsqueue: enqueue %q (batch of %d): %w", m.key, len(msgs), err)
		}
		return errs
	}
	// Every entry is either successful or failed; one that SQS reports as
	// neither is not known to be sent, and is an error too.
	failed := make([]error, len(msgs))
	for _, f := range out.Failed {
		i, ok := entryIndex(f.Id, len(msgs))
		if !ok {
			continue
		}
		failed[i] = fmt.Errorf("sqsqueue: enqueue %q: SQS refused the batch entry: %s: %s (sender fault: %t)",
			msgs[i].key, aws.ToString(f.Code), aws.ToString(f.Message), f.SenderFault)
	}
	sent := make([]bool, len(msgs))
	for _, s := range out.Successful {
		if i, ok := entryIndex(s.Id, len(msgs)); ok {
			sent[i] = true
		}
	}
	var errs []error
	for i, m := range msgs {
		switch {
		case failed[i] != nil:
			errs = append(errs, failed[i])
		case !sent[i]:
			errs = append(errs, fmt.Errorf("sqsqueue: enqueue %q: SQS reported no result for the batch entry", m.key))
		}
	}
	return errs
}

// entryIndex returns the index of the batch entry of id, as sendBatch
// numbered them.
func entryIndex(id *string, n int) (int, bool) {
	i, err := strconv.Atoi(aws.ToString(id))
	return i, err == nil && i >= 0 && i < n
}

// requestContext bounds one request by Options.Timeout within ctx.
func (q *Queue) requestContext(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, q.opts.Timeout)
}
