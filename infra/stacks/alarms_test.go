package stacks

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/xtsync/xtsync/pkg/metrics"
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
	}
	// The functions' own metrics (EMF): the names are pkg/metrics'.
	for _, w := range emfAlarms() {
		wants = append(wants, want{"xtsync/Xtsync " + w.name + " " + w.dims(), w.threshold, w.op})
	}
	for _, fn := range []*Function{s.dep.Sync.Webhook, s.dep.Sync.Worker, s.dep.Sync.Reconcile} {
		d := dim("FunctionName", ref(logicalID(st, fn.Function)))
		wants = append(wants,
			want{"AWS/Lambda Errors " + d, 1, "GreaterThanOrEqualToThreshold"},
			want{"AWS/Lambda Throttles " + d, 1, "GreaterThanOrEqualToThreshold"})
	}
	// The guard's alarm tells the operator how to review and approve, with
	// this deployment's reconcile function in the command.
	if p, ok := alarms["xtsync/Xtsync "+metrics.CWGuardHeld+" null"]; ok {
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

	// The functions write their metrics: no filter reads the logs.
	if fs := resources(s.syncJSON, "AWS::Logs::MetricFilter"); len(fs) != 0 {
		t.Errorf("log metric filters remain: %v", sortedKeys(fs))
	}
	if n := len(resources(s.syncJSON, "AWS::CloudWatch::Dashboard")); n != 1 {
		t.Errorf("%d dashboards, want 1", n)
	}
	_, topicRes := only(t, s.syncJSON, "AWS::SNS::Topic")
	if topicRes == nil {
		t.Error("no alarm topic")
	}
}

// emfAlarm is an alarm on a metric the functions write (EMF).
type emfAlarm struct {
	name      string
	tenant    string // the Tenant dimension's value; "" for none
	statistic string
	period    float64 // seconds
	threshold float64
	op        string
}

// dims is the alarm's Dimensions as the template writes them.
func (a emfAlarm) dims() string {
	if a.tenant == "" {
		return "null"
	}
	b, _ := json.Marshal([]any{map[string]any{"Name": metrics.CWTenant, "Value": a.tenant}})
	return string(b)
}

// emfAlarms are the alarms on the functions' own metrics the main app's
// stack has (reconcile every hour, the default settings).
func emfAlarms() []emfAlarm {
	atLeast, above := "GreaterThanOrEqualToThreshold", "GreaterThanThreshold"
	out := []emfAlarm{
		{metrics.CWReconcileActions, "", "Sum", 300, 100, above},
		{metrics.CWReconcileFailedReads, "", "Sum", 300, 1, atLeast},
		{metrics.CWGuardHeld, "", "Sum", 300, 1, atLeast},
		{metrics.CWSubscriptionErrors, "", "Sum", 300, 1, atLeast},
		{metrics.CWSubscriptionExpiry, "", "Minimum", 7200, 86400, "LessThanThreshold"},
	}
	for _, tenant := range []string{"source", "target"} {
		out = append(out, emfAlarm{metrics.CWGraphThrottled, tenant, "Sum", 300, 20, above})
	}
	return out
}

// TestEMFAlarmsStatistics checks the statistic and period of the alarms on
// the functions' own metrics, in their namespace.
func TestEMFAlarmsStatistics(t *testing.T) {
	s := mainApp(t)
	alarms := map[string]map[string]any{}
	for _, a := range resources(s.syncJSON, "AWS::CloudWatch::Alarm") {
		p := props(a)
		if p["MetricName"] != nil {
			alarms[alarmKey(p)] = p
		}
	}
	for _, w := range emfAlarms() {
		key := "xtsync/Xtsync " + w.name + " " + w.dims()
		p, ok := alarms[key]
		if !ok {
			t.Errorf("no alarm on %s", key)
			continue
		}
		if p["Statistic"] != w.statistic || p["Period"] != w.period {
			t.Errorf("alarm on %s: %v over %v s, want %v over %v s", key, p["Statistic"], p["Period"], w.statistic, w.period)
		}
	}
}

// TestDashboardShowsTheFunctionsMetrics checks that the dashboard graphs
// the functions' own metrics (names from pkg/metrics), the Graph ones per
// tenant, and the latency's percentiles.
func TestDashboardShowsTheFunctionsMetrics(t *testing.T) {
	s := mainApp(t)
	_, d := only(t, s.syncJSON, "AWS::CloudWatch::Dashboard")
	body, _ := json.Marshal(props(d)["DashboardBody"])
	text := string(body)
	for _, name := range []string{
		metrics.CWChangesReceived, metrics.CWChangesApplied, metrics.CWGuardHeld, metrics.CWMirrorRepairs, metrics.CWReconcileActions,
		metrics.CWReconcileFailedReads, metrics.CWSubscriptionErrors, metrics.CWSubscriptionExpiry,
	} {
		if want := `\"xtsync/Xtsync\",\"` + name + `\"`; !strings.Contains(text, want) {
			t.Errorf("the dashboard does not graph %s (no %s)", name, want)
		}
	}
	for _, name := range []string{metrics.CWGraphRequests, metrics.CWGraphWrites, metrics.CWGraphThrottled, metrics.CWGraphRetries} {
		for _, tenant := range []string{"source", "target"} {
			if want := `\"` + name + `\",\"` + metrics.CWTenant + `\",\"` + tenant + `\"`; !strings.Contains(text, want) {
				t.Errorf("the dashboard does not graph %s of %s (no %s)", name, tenant, want)
			}
		}
	}
	for _, p := range []string{"p50", "p95", "p99"} {
		if want := `\"` + metrics.CWChangeLatency + `\",{\"label\":\"` + p + `\",\"stat\":\"` + p + `\"`; !strings.Contains(text, want) {
			t.Errorf("the dashboard does not graph the latency's %s (no %s)", p, want)
		}
	}
}
