package stacks

import (
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"
)

func TestQueueIsFIFOWithDLQAndVisibilityOfSixWorkerTimeouts(t *testing.T) {
	s := mainApp(t)
	queues := resources(s.syncJSON, "AWS::SQS::Queue")
	if len(queues) != 2 {
		t.Fatalf("%d queues, want the work queue and its DLQ", len(queues))
	}
	queueID := logicalID(s.dep.Sync.Stack, s.dep.Sync.Queue.Queue)
	dlqID := logicalID(s.dep.Sync.Stack, s.dep.Sync.Queue.DeadLetterQueue)
	for id, q := range queues {
		p := props(q)
		if p["FifoQueue"] != true {
			t.Errorf("%s is not FIFO", id)
		}
		if p["SqsManagedSseEnabled"] != true && p["KmsMasterKeyId"] == nil {
			t.Errorf("%s is not encrypted", id)
		}
	}
	queue := props(queues[queueID])
	redrive, _ := queue["RedrivePolicy"].(map[string]any)
	if !same(redrive["deadLetterTargetArn"], getAtt(dlqID, "Arn")) {
		t.Errorf("redrive target = %v, want the DLQ %s", redrive["deadLetterTargetArn"], dlqID)
	}
	if got := redrive["maxReceiveCount"]; got != float64(s.settings.MaxReceiveCount) || got == nil {
		t.Errorf("maxReceiveCount = %v, want %d", got, s.settings.MaxReceiveCount)
	}
	// The visibility timeout against the worker's timeout as deployed.
	worker := props(resources(s.syncJSON, "AWS::Lambda::Function")[logicalID(s.dep.Sync.Stack, s.dep.Sync.Worker.Function)])
	timeout, _ := worker["Timeout"].(float64)
	visibility, _ := queue["VisibilityTimeout"].(float64)
	if timeout != 300 || visibility < 6*timeout {
		t.Errorf("queue visibility %vs, worker timeout %vs: want a 5-minute worker and visibility >= 6x", visibility, timeout)
	}
	// Both queues refuse plain HTTP.
	for _, id := range []string{queueID, dlqID} {
		check(t, "TLS-only policy on "+id, func() {
			s.sync.HasResourceProperties(jsii.String("AWS::SQS::QueuePolicy"), map[string]any{
				"Queues": []any{ref(id)},
				"PolicyDocument": map[string]any{"Statement": assertions.Match_ArrayWith(&[]any{assertions.Match_ObjectLike(&map[string]any{
					"Effect":    "Deny",
					"Action":    "sqs:*",
					"Principal": map[string]any{"AWS": "*"},
					"Condition": map[string]any{"Bool": map[string]any{"aws:SecureTransport": "false"}},
				})})},
			})
		})
	}
}

func TestWorkerMappingReportsBatchItemFailuresWithBoundedConcurrency(t *testing.T) {
	s := mainApp(t)
	_, m := only(t, s.syncJSON, "AWS::Lambda::EventSourceMapping")
	p := props(m)
	want := map[string]any{
		"EventSourceArn":        getAtt(logicalID(s.dep.Sync.Stack, s.dep.Sync.Queue.Queue), "Arn"),
		"FunctionName":          ref(logicalID(s.dep.Sync.Stack, s.dep.Sync.Worker.Function)),
		"FunctionResponseTypes": []any{"ReportBatchItemFailures"},
		"BatchSize":             10,
		"ScalingConfig":         map[string]any{"MaximumConcurrency": 5},
	}
	for k, v := range want {
		if !same(p[k], v) {
			t.Errorf("mapping %s = %v, want %v", k, p[k], v)
		}
	}
}
