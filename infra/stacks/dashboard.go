package stacks

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/interfaces/interfacesawscloudwatch"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/xtsync/xtsync/pkg/metrics"
)

// DashboardProps are what the dashboard shows.
type DashboardProps struct {
	Alarms *Alarms
	// The rest as for AlarmsProps.
	AlarmsProps
}

// NewDashboard creates the CloudWatch dashboard: alarm states, the webhook
// (requests, errors, latency), the queue (depth, age, dead letters), the
// functions (invocations, errors, throttles, duration), and what the
// functions write themselves (EMF): changes received and applied, the
// change latency (p50, p95, p99), Graph requests, writes and 429s per
// tenant, the reconcile (repairs, failed reads, subscription errors and
// expiry) and the deletion guard's held runs (worker and reconcile).
func NewDashboard(scope constructs.Construct, id string, props DashboardProps) awscloudwatch.Dashboard {
	five := awscdk.Duration_Minutes(jsii.Number(5))
	sum := &awscloudwatch.MetricOptions{Statistic: jsii.String("Sum"), Period: five}
	maximum := &awscloudwatch.MetricOptions{Statistic: jsii.String("Maximum"), Period: five}
	p99 := &awscloudwatch.MetricOptions{Statistic: jsii.String("p99"), Period: five}

	graph := func(title string, left ...awscloudwatch.IMetric) awscloudwatch.IWidget {
		return awscloudwatch.NewGraphWidget(&awscloudwatch.GraphWidgetProps{
			Title: jsii.String(title), Left: &left, Width: jsii.Number(8), Height: jsii.Number(6),
		})
	}
	perFunction := func(metric func(fn awslambda.IFunction) awscloudwatch.IMetric) []awscloudwatch.IMetric {
		var ms []awscloudwatch.IMetric
		for _, name := range FunctionNames() {
			ms = append(ms, metric(props.Functions[name]))
		}
		return ms
	}
	m := props.Metrics
	perTenant := func(name string) []awscloudwatch.IMetric {
		var ms []awscloudwatch.IMetric
		for _, t := range Tenants() {
			ms = append(ms, m.TenantGraph(name, t))
		}
		return ms
	}
	alarms := make([]interfacesawscloudwatch.IAlarmRef, 0, len(props.Alarms.All))
	for _, a := range props.Alarms.All {
		alarms = append(alarms, a)
	}

	api := props.API
	return awscloudwatch.NewDashboard(scope, jsii.String(id), &awscloudwatch.DashboardProps{
		DefaultInterval: awscdk.Duration_Hours(jsii.Number(6)),
		Widgets: &[]*[]awscloudwatch.IWidget{
			{alarmStatus(alarms)},
			{
				graph("Webhook requests and errors", api.MetricCount(sum), api.MetricClientError(sum), api.MetricServerError(sum)),
				graph("Webhook latency p99 (ms)", api.MetricLatency(p99), api.MetricIntegrationLatency(p99)),
				graph("Queue", props.Queue.MetricApproximateNumberOfMessagesVisible(maximum),
					props.Queue.MetricApproximateNumberOfMessagesNotVisible(maximum),
					props.DeadLetterQueue.MetricApproximateNumberOfMessagesVisible(maximum)),
			},
			{
				graph("Oldest queued change (s)", props.Queue.MetricApproximateAgeOfOldestMessage(maximum)),
				graph("Invocations", perFunction(func(fn awslambda.IFunction) awscloudwatch.IMetric { return fn.MetricInvocations(sum) })...),
				graph("Errors", perFunction(func(fn awslambda.IFunction) awscloudwatch.IMetric { return fn.MetricErrors(sum) })...),
			},
			{
				graph("Throttles", perFunction(func(fn awslambda.IFunction) awscloudwatch.IMetric { return fn.MetricThrottles(sum) })...),
				graph("Duration p99 (ms)", perFunction(func(fn awslambda.IFunction) awscloudwatch.IMetric { return fn.MetricDuration(p99) })...),
				graph("Reconcile and deletion guard: repairs, failed reads, guard holds, subscription errors",
					m.Sum(metrics.CWReconcileActions), m.Sum(metrics.CWReconcileFailedReads), m.Sum(metrics.CWGuardHeld), m.Sum(metrics.CWSubscriptionErrors)),
			},
			{
				graph("Changes received and applied; mirrors repaired", m.Sum(metrics.CWChangesReceived), m.Sum(metrics.CWChangesApplied), m.Sum(metrics.CWMirrorRepairs)),
				graph("Change latency, notification to applied (s)", m.Latency("p50"), m.Latency("p95"), m.Latency("p99")),
				graph("Soonest subscription expiry (s)", m.SubscriptionExpiry()),
			},
			{
				graph("Graph requests per tenant", perTenant(metrics.CWGraphRequests)...),
				graph("Graph writes per tenant", perTenant(metrics.CWGraphWrites)...),
				graph("Graph 429s and retries per tenant", append(perTenant(metrics.CWGraphThrottled), perTenant(metrics.CWGraphRetries)...)...),
			},
		},
	})
}

// alarmStatus is the full-width row of alarm states.
func alarmStatus(alarms []interfacesawscloudwatch.IAlarmRef) awscloudwatch.IWidget {
	return awscloudwatch.NewAlarmStatusWidget(&awscloudwatch.AlarmStatusWidgetProps{
		Title:  jsii.String("xtsync alarms"),
		Alarms: &alarms,
		Width:  jsii.Number(24),
		Height: jsii.Number(4),
	})
}
