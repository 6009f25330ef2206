package stacks

import (
	"encoding/json"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
)

// alarmKey names an alarm by what it watches.
func alarmKey(p map[string]any) string {
	if p["MetricName"] != nil {
		dims, _ := json.Marshal(p["Dimensions"])
		return p["Namespace"].(string) + " " + p["MetricName"].(string) + " " + string(dims)
	}
	b, _ := json.Marshal(p["Metrics"])
	return "math " + string(b)
}

func TestAlarmsWatchTheQueuesFunctionsWebhookAndReconcile(t *testing.T) {
	s := mainApp(t)
	st := s.dep.Sync.Stack
	topic := ref(logicalID(st, s.dep.Sync.AlarmTopic))
	alarms := map[string]map[string]any{}
	for id, a := range resources(s.syncJSON, "AWS::CloudWatch::Alarm") {
		p := props(a)
		if !same(p["AlarmActions"], []any{topic}) || !same(p["OKActions"], []any{topic}) {
			t.Errorf("alarm %s notifies %v / %v, want the alarm topic", id, p["AlarmActions"], p["OKActions"])
		}
		if p["TreatMissingData"] != "notBreaching" {
			t.Errorf("alarm %s treats missing data as %v", id, p["TreatMissingData"])
		}
		alarms[alarmKey(p)] = p
	}
	dim := func(name string, value any) string {
		b, _ := json.Marshal([]any{map[string]any{"Name": name, "Value": value}})
		return string(b)
	}
	type want struct {
		key       string
		threshold float64
		op        string
	}
	wants := []want{
		{"AWS/SQS ApproximateNumberOfMessagesVisible " + dim("QueueName", getAtt(logicalID(st, s.dep.Sync.Queue.DeadLetterQueue), "QueueName")), 1, "GreaterThanOrEqualToThreshold"},
		{"AWS/SQS ApproximateAgeOfOldestMessage " + dim("QueueName", getAtt(logicalID(st, s.dep.Sync.Queue.Queue), "QueueName")), 3600, "GreaterThanThreshold"},
		{"AWS/ApiGateway 5xx " + dim("ApiId", ref(logicalID(st, s.dep.Sync.API.API))), 1, "GreaterThanOrEqualToThreshold"},
		{"xtsync/Xtsync ReconcileActions null", 100, "GreaterThanThreshold"},
		{"xtsync/Xtsync ReconcileFailedReads null", 1, "GreaterThanOrEqualToThreshold"},
		{"xtsync/Xtsync DeletionGuardHolding null", 1, "GreaterThanOrEqualToThreshold"},
		{"xtsync/Xtsync SubscriptionErrors null", 1, "GreaterThanOrEqualToThreshold"},
	}
	for _, fn := range []*Function{s.dep.Sync.Webhook, s.dep.Sync.Worker, s.dep.Sync.Reconcile} {
		d := dim("FunctionName", ref(logicalID(st, fn.Function)))
		wants = append(wants,
			want{"AWS/Lambda Errors " + d, 1, "GreaterThanOrEqualToThreshold"},
			want{"AWS/Lambda Throttles " + d, 1, "GreaterThanOrEqualToThreshold"})
	}
	// The guard's alarm tells the operator how to review and approve, with
	// this deployment's reconcile function in the command.
	if p, ok := alarms["xtsync/Xtsync DeletionGuardHolding null"]; ok {
		want := []any{"", []any{
			"xtsync: the deletion guard is holding: member removals, user deletes and disables, and group deletes went over sync.deletion_threshold within sync.deletion_window, " +
				"so every reconcile and worker pass holds them (additions still apply) until approved. " +
				"Review the held plan: xtsync reconcile --dry-run --config <the deployed configuration> (and the deletion guard holding line in the worker's or reconcile's log). " +
				"If intended, approve: aws lambda invoke --function-name ",
			ref(logicalID(st, s.dep.Sync.Reconcile.Function)),
			` --cli-binary-format raw-in-base64-out --payload '{"detail":{"allowDeletions":true}}' out.json; else fix the source (docs/deploy.md)`,
		}}
		if !same(p["AlarmDescription"], map[string]any{"Fn::Join": want}) {
			b, _ := json.Marshal(p["AlarmDescription"])
			t.Errorf("DeletionGuardHolding description = %s", b)
		}
	}
	for _, w := range wants {
		p, ok := alarms[w.key]
		if !ok {
			t.Errorf("no alarm on %s", w.key)
			continue
		}
		if p["Threshold"] != w.threshold || p["ComparisonOperator"] != w.op {
			t.Errorf("alarm on %s: %v %v, want %v %v", w.key, p["ComparisonOperator"], p["Threshold"], w.op, w.threshold)
		}
		delete(alarms, w.key)
	}
	if len(alarms) != 0 {
		t.Errorf("unexpected alarms: %v", sortedKeys(alarms))
	}

	filters := metricFilters(t, s, st)
	// The lines pkg/lambdaapp's reconcile writes, and pkg/engine's
	// deletion guard in either function: both publish to the one
	// DeletionGuardHolding metric the alarm watches.
	wantFilters := map[string]string{
		"reconcile ReconcileActions":     `{ $.msg = "reconcile planned" } -> $.actions`,
		"reconcile ReconcileFailedReads": `{ $.msg = "reconcile planned" } -> $.failed_reads`,
		"reconcile SubscriptionErrors":   `{ ($.level = "ERROR") && ($.msg = "subscriptions") } -> 1`,
		"reconcile DeletionGuardHolding": `{ $.msg = "deletion guard holding" } -> 1`,
		"worker DeletionGuardHolding":    `{ $.msg = "deletion guard holding" } -> 1`,
	}
	for key, want := range wantFilters {
		if got := filters[key]; got != want {
			t.Errorf("filter %s = %q, want %q", key, got, want)
		}
	}
	if len(filters) != len(wantFilters) {
		t.Errorf("metric filters %v", sortedKeys(filters))
	}
	if n := len(resources(s.syncJSON, "AWS::CloudWatch::Dashboard")); n != 1 {
		t.Errorf("%d dashboards, want 1", n)
	}
	_, topicRes := only(t, s.syncJSON, "AWS::SNS::Topic")
	if topicRes == nil {
		t.Error("no alarm topic")
	}
}

// metricFilters are the stack's log metric filters, "<log group> <metric>"
// to "<pattern> -> <value>" (the log group "reconcile" or "worker").
func metricFilters(t *testing.T, s *synthesized, st awscdk.Stack) map[string]string {
	t.Helper()
	// The metric filters read the reconcile's log lines, and the deletion
	// guard's from the worker's log too.
	reconcileLogs := ref(logicalID(st, s.dep.Sync.Reconcile.LogGroup))
	workerLogs := ref(logicalID(st, s.dep.Sync.Worker.LogGroup))
	logNames := map[string]string{}
	for name, lg := range map[string]any{"reconcile": reconcileLogs, "worker": workerLogs} {
		b, _ := json.Marshal(lg)
		logNames[string(b)] = name
	}
	filters := map[string]string{}
	for id, f := range resources(s.syncJSON, "AWS::Logs::MetricFilter") {
		p := props(f)
		b, _ := json.Marshal(p["LogGroupName"])
		logs, ok := logNames[string(b)]
		if !ok {
			t.Errorf("metric filter %s on %v, want the reconcile's or the worker's log group", id, p["LogGroupName"])
			continue
		}
		mts := p["MetricTransformations"].([]any)
		if len(mts) != 1 {
			t.Errorf("metric filter %s has %d transformations", id, len(mts))
		}
		mt := mts[0].(map[string]any)
		if mt["MetricNamespace"] != "xtsync/Xtsync" {
			t.Errorf("metric filter %s publishes to %v", id, mt["MetricNamespace"])
		}
		key := logs + " " + mt["MetricName"].(string)
		if _, dup := filters[key]; dup {
			t.Errorf("two filters for %s", key)
		}
		filters[key] = p["FilterPattern"].(string) + " -> " + mt["MetricValue"].(string)
	}
	return filters
}
