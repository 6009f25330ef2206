package stacks

import (
	"time"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// WorkQueueProps configure the work queue.
type WorkQueueProps struct {
	// VisibilityTimeout is how long a received message stays hidden: at
	// least six times the worker's timeout.
	VisibilityTimeout time.Duration
	// MaxReceiveCount is how many receives move a message to the DLQ.
	MaxReceiveCount int
}

// WorkQueue is the SQS FIFO queue between the webhook (and the reconcile)
// and the worker, with its FIFO dead-letter queue. Messages are grouped by
// delta shard (MessageGroupId), so one shard is worked by one invocation at
// a time, in order. Both queues use SSE-SQS encryption and refuse plain
// HTTP.
type WorkQueue struct {
	constructs.Construct
	Queue           awssqs.Queue
	DeadLetterQueue awssqs.Queue
}

// NewWorkQueue creates the queue and its DLQ.
func NewWorkQueue(scope constructs.Construct, id string, props WorkQueueProps) *WorkQueue {
	c := constructs.NewConstruct(scope, jsii.String(id))
	dlq := awssqs.NewQueue(c, jsii.String("DeadLetterQueue"), &awssqs.QueueProps{
		Fifo:            jsii.Bool(true),
		Encryption:      awssqs.QueueEncryption_SQS_MANAGED,
		EnforceSSL:      jsii.Bool(true),
		RetentionPeriod: awscdk.Duration_Days(jsii.Number(14)),
	})
	q := awssqs.NewQueue(c, jsii.String("Queue"), &awssqs.QueueProps{
		Fifo: jsii.Bool(true),
		// A sender that sets no MessageDeduplicationId still gets
		// duplicates within 5 minutes dropped.
		ContentBasedDeduplication: jsii.Bool(true),
		Encryption:                awssqs.QueueEncryption_SQS_MANAGED,
		EnforceSSL:                jsii.Bool(true),
		VisibilityTimeout:         awscdk.Duration_Seconds(jsii.Number(props.VisibilityTimeout.Seconds())),
		// Work older than this is stale: the next reconcile repairs it.
		RetentionPeriod: awscdk.Duration_Days(jsii.Number(4)),
		DeadLetterQueue: &awssqs.DeadLetterQueue{
			Queue:           dlq,
			MaxReceiveCount: jsii.Number(props.MaxReceiveCount),
		},
	})
	return &WorkQueue{Construct: c, Queue: q, DeadLetterQueue: dlq}
}
