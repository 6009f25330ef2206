// Package sqsqueue is the SQS FIFO form of xtsync's work queue (the AWS
// counterpart of pkg/memqueue); for the AWS worker it drops a failed task
// that task.Retryable says retrying cannot help, and retries the rest.
//
// # Sending
//
// Queue implements app.Queue (without importing it). Each task becomes one message whose body
// is the task's wire form, task.Task.Encode: its key (whose grammar
// pkg/task documents) in versioned JSON. A task that task.Task.Check
// refuses, its key being no valid message group id, is not sent. Each
// message has:
//
//   - MessageGroupId = the task's lane (task.Task.Lane): its key, except
//     that the work of one delta shard (its delta pass "shard:K", its full
//     sync "sync-shard:K", its mirror pass "mirrors:K") shares the lane
//     "shard:K". SQS FIFO hands the
//     messages of one group to one consumer at a time, in order: while a
//     message of a group is in flight (received, not yet deleted,
//     visibility timeout not yet over), no other message of that group is
//     delivered. So one delta shard (and the deltaLink stored for it, which
//     each pass reads, follows and replaces) is never worked by two workers
//     at once, and its link advances one pass after another, exactly as the
//     in-process queue's "a key is never worked by two workers at once" rule
//     gives serve mode. Different shards are different groups and run in
//     parallel (the Lambda event source mapping scales with the number of
//     active groups).
//     "reconcile" and "subscriptions" are groups of their own: two
//     reconciles never overlap, and neither waits behind shard work nor
//     holds it up; each subscription's renew/recreate is its own group too.
//   - MessageDeduplicationId = hex SHA-256 of the key and the enqueue time
//     truncated to Options.DedupWindow (default one second, read from
//     Options.Clock). SQS FIFO drops a message whose deduplication id it has
//     seen in the last five minutes, so a burst of notifications for one
//     shard within one window collapses to one message (one delta pass),
//     while a change in a later window gets a message of its own. The id is
//     computed once per enqueue, so the SDK's retries of a send are
//     deduplicated too.
//
// An Enqueue of one task is a SendMessage; of several, SendMessageBatch
// requests of up to ten messages (SQS's limit), and a batch entry that SQS
// refuses comes back in Enqueue's error, named by its task's key.
//
// The price of the window: a change notified in the same window as an
// earlier enqueue of its shard, after that earlier message's delta pass has
// already read the shard, is dropped as a duplicate and waits for the next
// notification of the shard or the scheduled reconcile (which repairs
// everything). With a one-second window and Graph's notification latency
// this is rare; a shorter window narrows it.
//
// # Receiving
//
// Handle runs one Lambda SQS batch and builds its partial batch response
// (the event source mapping needs FunctionResponseTypes
// ReportBatchItemFailures). Each message is either
//
//   - done: process returned nil; not reported, so Lambda deletes it;
//   - permanent: task.Retryable says so: the body is not a task message
//     (task.Decode's task.ErrBadMessage) or process returned an error
//     wrapping task.ErrPermanent. Retrying cannot help, so it is logged at
//     error level with its message id, handed to the WithPermanent callback
//     (the audit hook) and not reported: Lambda deletes it instead of
//     retrying it until the dead-letter queue;
//   - transient: any other error. It is reported as a batch item failure,
//     stays in the queue and comes back after the visibility timeout (to the
//     dead-letter queue after the redrive policy's maxReceiveCount).
//
// FIFO order is kept per message group: once a message of a group fails
// transiently, every later message of that group in the batch is reported
// failed too without being processed, so nothing of a group is deleted ahead
// of an earlier message that will come back. Other groups go on. (This is
// the per-group refinement of AWS's advice to stop a FIFO batch at the first
// failure, as in Powertools' skipGroupOnError.) Once the context is done,
// the remaining messages are reported failed without being processed.
package sqsqueue
