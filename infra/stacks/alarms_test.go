package stacks

import (
	"encoding/json"
	"testing"
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
		{"xtsync/Xtsync ReconcileHalted null", 1, "GreaterThanOrEqualToThreshold"},
		{"xtsync/Xtsync SubscriptionErrors null", 1, "GreaterThanOrEqualToThreshold"},
	}
	for _, fn := range []*Function{s.dep.Sync.Webhook, s.dep.Sync.Worker, s.dep.Sync.Reconcile} {
		d := dim("FunctionName", ref(logicalID(st, fn.Function)))
		wants = append(wants,
			want{"AWS/Lambda Errors " + d, 1, "GreaterThanOrEqualToThreshold"},
			want{"AWS/Lambda Throttles " + d, 1, "GreaterThanOrEqualToThreshold"})
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

	// The metric filters read the reconcile's own log lines.
	reconcileLogs := ref(logicalID(st, s.dep.Sync.Reconcile.LogGroup))
	filters := map[string]string{}
	for _, f := range resources(s.syncJSON, "AWS::Logs::MetricFilter") {
		p := props(f)
		if !same(p["LogGroupName"], reconcileLogs) {
			t.Errorf("metric filter on %v, want the reconcile's log group", p["LogGroupName"])
		}
		mt := p["MetricTransformations"].([]any)[0].(map[string]any)
		filters[mt["MetricName"].(string)] = p["FilterPattern"].(string) + " -> " + mt["MetricValue"].(string)
	}
	// The lines pkg/lambdaapp's reconcile writes.
	for name, want := range map[string]string{
		"ReconcileActions":     `{ $.msg = "reconcile planned" } -> $.actions`,
		"ReconcileFailedReads": `{ $.msg = "reconcile planned" } -> $.failed_reads`,
		"ReconcileHalted":      `{ $.msg = "reconcile halted*" } -> 1`,
		"SubscriptionErrors":   `{ ($.level = "ERROR") && ($.msg = "subscriptions") } -> 1`,
	} {
		if got := filters[name]; got != want {
			t.Errorf("filter %s = %q, want %q", name, got, want)
		}
	}
	if len(filters) != 4 {
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
