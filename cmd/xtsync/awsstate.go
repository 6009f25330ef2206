package main

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/xtsync/xtsync/pkg/config"
	"github.com/xtsync/xtsync/pkg/dynamostore"
	"github.com/xtsync/xtsync/pkg/engine"
	"github.com/xtsync/xtsync/pkg/sqsqueue"
	"github.com/xtsync/xtsync/pkg/task"
)

// openAWSState opens the state table with the AWS environment's
// credentials and endpoint (AWS_PROFILE, AWS_REGION,
// AWS_ENDPOINT_URL_DYNAMODB ...), and state.region when set. It sends
// nothing: the first read does.
func openAWSState(ctx context.Context, cfg *config.Config) (unclosed, error) {
	ac, err := awsConfig(ctx, cfg)
	if err != nil {
		return unclosed{}, fmt.Errorf("state.dynamodb_table: %w", err)
	}
	if ac.Region == "" {
		return unclosed{}, &usageError{fmt.Errorf("state.dynamodb_table %s: no AWS region: set state.region, or AWS_REGION", cfg.State.DynamoDBTable)}
	}
	return unclosed{dynamostore.New(dynamodb.NewFromConfig(ac), cfg.State.DynamoDBTable, dynamostore.Options{Clock: engine.SystemClock{}})}, nil
}

// awsConfig is the AWS environment's configuration (credentials,
// endpoints), in state.region when set.
func awsConfig(ctx context.Context, cfg *config.Config) (aws.Config, error) {
	var opts []func(*awsconfig.LoadOptions) error
	if cfg.State.Region != "" {
		opts = append(opts, awsconfig.WithRegion(cfg.State.Region))
	}
	ac, err := awsconfig.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return aws.Config{}, fmt.Errorf("the AWS configuration: %w", err)
	}
	return ac, nil
}

// errAWSWrites refuses a command that would write the AWS deployment's
// state from this machine: its functions are its only writers (one FIFO
// queue per shard keeps two from writing one group).
func errAWSWrites(cfg *config.Config, what string) error {
	return &usageError{fmt.Errorf("state.dynamodb_table %s is the AWS deployment's state, which only its functions write: %s there (docs/aws.md), or run this with --dry-run to see the plan", cfg.State.DynamoDBTable, what)}
}

// queueSync sends the sync of one group's shard to the AWS deployment's
// queue (state.queue_url), where a worker runs it as it runs a reconcile's
// part: in the shard's FIFO message group, one writer at a time.
func queueSync(ctx context.Context, e env, cfg *config.Config, group string) error {
	if cfg.State.QueueURL == "" {
		return errAWSWrites(cfg, "set state.queue_url to the stack's QueueUrl output to send the sync to its workers; or invoke the reconcile function")
	}
	ac, err := awsConfig(ctx, cfg)
	if err != nil {
		return fmt.Errorf("state.queue_url: %w", err)
	}
	shard := engine.NewSharding(cfg.Scope.Groups).ShardOf(group)
	t := task.Of(task.SyncShard, shard)
	if err := sqsqueue.New(sqs.NewFromConfig(ac), cfg.State.QueueURL, sqsqueue.Options{}).Enqueue(ctx, t); err != nil {
		return fmt.Errorf("state.queue_url %s: send %s: %w", cfg.State.QueueURL, t, err)
	}
	e.log.Info("sync sent to the AWS deployment's queue", "group", group, "task", t)
	fmt.Fprintf(e.stdout, "sent %s to the deployment's queue: a worker syncs the group's shard (xtsync audit --group %s shows what it did)\n", t, group)
	return nil
}

// invokeReconcile runs the AWS deployment's reconcile now: it invokes the
// reconcile function (state.reconcile_function) as its schedule does, and,
// with allow, with {"detail":{"allowDeletions":true}}, the approval of a
// halt docs/aws.md describes; the function plans and fans the work out to
// the workers. IAM decides who may invoke it.
func invokeReconcile(ctx context.Context, e env, cfg *config.Config, allow bool) error {
	if _, err := invokeFunction(ctx, cfg, map[string]bool{"allowDeletions": allow}); err != nil {
		return err
	}
	e.log.Info("reconcile function invoked", "function", cfg.State.ReconcileFunction, "allow_deletions", allow)
	if allow {
		fmt.Fprintf(e.stdout, "approved: the reconcile function %s planned with the deletions allowed and sent the work to the workers (xtsync status shows when the halt is lifted)\n", cfg.State.ReconcileFunction)
	} else {
		fmt.Fprintf(e.stdout, "reconciling: the reconcile function %s planned and sent the work to the workers (xtsync status and audit show what they did)\n", cfg.State.ReconcileFunction)
	}
	return nil
}

// invokeFunction invokes the reconcile function (state.reconcile_function)
// with an operator's event of the given detail and returns its answer; a
// failed run is an error with the function's message.
func invokeFunction(ctx context.Context, cfg *config.Config, detail any) ([]byte, error) {
	ac, err := awsConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("state.reconcile_function: %w", err)
	}
	payload, _ := json.Marshal(map[string]any{
		"version": "0", "id": "xtsync-operator", "detail-type": "xtsync operator", "source": "xtsync.cli", "detail": detail,
	})
	out, err := lambda.NewFromConfig(ac).Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String(cfg.State.ReconcileFunction), Payload: payload})
	if err != nil {
		return nil, fmt.Errorf("state.reconcile_function %s: invoke: %w", cfg.State.ReconcileFunction, err)
	}
	if out.FunctionError != nil {
		return nil, fmt.Errorf("state.reconcile_function %s: the run failed (%s): %s", cfg.State.ReconcileFunction, *out.FunctionError, truncateText(string(out.Payload), 500))
	}
	return out.Payload, nil
}

// truncateText cuts s to n bytes, marking the cut.
func truncateText(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
