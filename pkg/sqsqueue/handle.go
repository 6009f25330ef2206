package sqsqueue

import (
	"context"
	"log/slog"
	"strconv"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/xtsync/xtsync/pkg/task"
)

// attrGroup is the record attribute holding the message group id.
const attrGroup = "MessageGroupId"

// HandleOption configures Handle.
type HandleOption func(*handleConfig)

// handleConfig is what the HandleOptions set.
type handleConfig struct {
	permanent func(msgID string, err error)
}

// WithPermanent has Handle call f for each message it drops as permanent
// (a bad body, task.ErrBadMessage, or an error of process wrapping
// task.ErrPermanent), with the SQS message id and the error: the caller's
// audit hook. f runs before Handle goes on to the next message.
func WithPermanent(f func(msgID string, err error)) HandleOption {
	return func(c *handleConfig) { c.permanent = f }
}

// Handle runs the work of one Lambda SQS batch and returns its partial
// batch response: the messages to retry. Each record's body is decoded
// with task.Decode and process runs its task, in the order of the batch.
// Whether a failure is permanent is task.Retryable's answer: a body that
// does not decode (task.ErrBadMessage) and an error of process wrapping
// task.ErrPermanent are; any other error of process is transient and
// reported. A permanent failure is logged at error level, passed to the
// WithPermanent callback and not reported, so Lambda deletes the message.
// After a transient failure in a message group, the later messages of that
// group are reported without being processed; other groups go on. After
// ctx is done, the remaining messages are reported without being
// processed. A record without a MessageGroupId attribute (a standard
// queue) holds back no other record.
func Handle(ctx context.Context, ev events.SQSEvent, process func(ctx context.Context, t task.Task) error, log *slog.Logger, opts ...HandleOption) events.SQSEventResponse {
	var cfg handleConfig
	for _, o := range opts {
		o(&cfg)
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	resp := events.SQSEventResponse{BatchItemFailures: []events.SQSBatchItemFailure{}}
	retry := func(rec events.SQSMessage) {
		resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: rec.MessageId})
	}
	permanent := func(rec events.SQSMessage, key string, err error) {
		log.Error("work message dropped: permanent failure", "message_id", rec.MessageId, "group", rec.Attributes[attrGroup], "key", key, "err", err)
		if cfg.permanent != nil {
			cfg.permanent(rec.MessageId, err)
		}
	}
	// blocked maps a message group to the message whose transient failure
	// holds back the rest of the group in this batch.
	blocked := map[string]string{}
	for i, rec := range ev.Records {
		group := rec.Attributes[attrGroup]
		if first, ok := blocked[group]; ok {
			log.Info("work message held back behind a failed one of its group", "message_id", rec.MessageId, "group", group, "behind", first)
			retry(rec)
			continue
		}
		if err := ctx.Err(); err != nil {
			log.Warn("batch cut short: reporting the rest for a retry", "message_id", rec.MessageId, "remaining", len(ev.Records)-i, "err", err)
			for _, rest := range ev.Records[i:] {
				retry(rest)
			}
			break
		}
		t, err := task.Decode(rec.Body)
		if err == nil {
			err = process(received(ctx, rec), t)
		}
		key := t.Key() // "" when the body did not decode
		switch {
		case err == nil:
		case !task.Retryable(err):
			permanent(rec, key, err)
		default:
			log.Warn("work failed: message reported for a retry", "message_id", rec.MessageId, "group", group, "key", key, "receive_count", rec.Attributes["ApproximateReceiveCount"], "err", err)
			retry(rec)
			if group != "" {
				blocked[group] = rec.MessageId
			}
		}
	}
	return resp
}

// received is ctx carrying when the message was sent (its SentTimestamp,
// milliseconds since the epoch), for the change's latency.
func received(ctx context.Context, rec events.SQSMessage) context.Context {
	ms, err := strconv.ParseInt(rec.Attributes["SentTimestamp"], 10, 64)
	if err != nil || ms <= 0 {
		return ctx
	}
	return task.WithReceived(ctx, task.Received{At: time.UnixMilli(ms), N: 1})
}
