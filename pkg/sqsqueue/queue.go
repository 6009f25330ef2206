package sqsqueue

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
)

// Queue sends work keys to an SQS FIFO queue: one message per key and
// deduplication window, grouped by key (see the package documentation).
type Queue struct {
	client *sqs.Client
	url    string
	opts   Options
}

// New returns a Queue sending to the FIFO queue at queueURL.
func New(client *sqs.Client, queueURL string, opts Options) *Queue {
	return &Queue{client: client, url: queueURL, opts: opts.withDefaults()}
}

// Enqueue sends one work key under ctx, within Options.Timeout. A key
// already sent in the same deduplication window is accepted and dropped by
// SQS.
func (q *Queue) Enqueue(ctx context.Context, key string) error {
	ctx, cancel := context.WithTimeout(ctx, q.opts.Timeout)
	defer cancel()
	body, err := Encode(key)
	if err != nil {
		return err
	}
	_, err = q.client.SendMessage(ctx, &sqs.SendMessageInput{
		QueueUrl:               aws.String(q.url),
		MessageBody:            aws.String(body),
		MessageGroupId:         aws.String(key),
		MessageDeduplicationId: aws.String(DeduplicationID(key, q.opts.Clock.Now(), q.opts.DedupWindow)),
	})
	if err != nil {
		return fmt.Errorf("sqsqueue: enqueue %s: %w", key, err)
	}
	return nil
}
