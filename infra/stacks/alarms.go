package stacks

import (
	"fmt"
	"time"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigatewayv2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatchactions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/xtsync/xtsync/pkg/metrics"
)

// AlarmsProps are what the alarms watch and where they notify.
type AlarmsProps struct {
	Topic           awssns.ITopic
	Queue           awssqs.IQueue
	DeadLetterQueue awssqs.IQueue
	API             awsapigatewayv2.IHttpApi
	// Functions by name (webhook, worker, reconcile).
	Functions map[string]awslambda.IFunction
	// Metrics are the functions' own metrics (EMF).
	Metrics FunctionMetrics
	// DriftThreshold: alarm when one run repairs more than this.
	DriftThreshold int
	// QueueAgeThreshold: alarm when the oldest message is older.
	QueueAgeThreshold time.Duration
}

// Alarms are the operator's alarms, each notifying the topic when it fires
// and when it recovers. Missing data (nothing happened) is not breaching.
type Alarms struct {
	constructs.Construct
	All []awscloudwatch.Alarm
}

// NewAlarms creates the alarms.
func NewAlarms(scope constructs.Construct, id string, props AlarmsProps) *Alarms {
	c := constructs.NewConstruct(scope, jsii.String(id))
	a := &Alarms{Construct: c}
	five := awscdk.Duration_Minutes(jsii.Number(5))
	sum := &awscloudwatch.MetricOptions{Statistic: jsii.String("Sum"), Period: five}
	maximum := &awscloudwatch.MetricOptions{Statistic: jsii.String("Maximum"), Period: five}

	add := func(id, description string, metric awscloudwatch.IMetric, threshold float64, op awscloudwatch.ComparisonOperator) {
		alarm := awscloudwatch.NewAlarm(c, jsii.String(id), &awscloudwatch.AlarmProps{
			AlarmDescription:   jsii.String(description),
			Metric:             metric,
			Threshold:          jsii.Number(threshold),
			ComparisonOperator: op,
			EvaluationPeriods:  jsii.Number(1),
			TreatMissingData:   awscloudwatch.TreatMissingData_NOT_BREACHING,
		})
		action := awscloudwatchactions.NewSnsAction(props.Topic)
		alarm.AddAlarmAction(action)
		alarm.AddOkAction(action)
		a.All = append(a.All, alarm)
	}
	atLeast := awscloudwatch.ComparisonOperator_GREATER_THAN_OR_EQUAL_TO_THRESHOLD
	above := awscloudwatch.ComparisonOperator_GREATER_THAN_THRESHOLD
	below := awscloudwatch.ComparisonOperator_LESS_THAN_THRESHOLD
	m := props.Metrics

	add("DeadLetterQueueNotEmpty",
		"xtsync: work failed repeatedly and is parked in the dead-letter queue; inspect, then redrive (docs/deploy.md)",
		props.DeadLetterQueue.MetricApproximateNumberOfMessagesVisible(maximum), 1, atLeast)
	add("QueueBacklog",
		fmt.Sprintf("xtsync: the oldest queued change waits more than %s: the worker is failing, throttled or too slow", shortDuration(props.QueueAgeThreshold)),
		props.Queue.MetricApproximateAgeOfOldestMessage(maximum), props.QueueAgeThreshold.Seconds(), above)
	for _, name := range FunctionNames() {
		fn := props.Functions[name]
		errorsWhat := "the " + name + " function failed"
		if name == FunctionReconcile {
			errorsWhat = "a reconcile run failed (reads or actions failed; the next run retries)"
		}
		add(titleCase(name)+"Errors", "xtsync: "+errorsWhat, fn.MetricErrors(sum), 1, atLeast)
		add(titleCase(name)+"Throttles", "xtsync: the "+name+" function was throttled (account or reserved concurrency)", fn.MetricThrottles(sum), 1, atLeast)
	}
	add("Webhook5xx",
		"xtsync: the webhook answered Graph with 5xx; Graph retries, then drops notifications and throttles a slow or failing endpoint",
		props.API.MetricServerError(sum), 1, atLeast)
	add("ReconcileDrift",
		fmt.Sprintf("xtsync: a reconcile found more than %d repairs to make: notifications are not keeping the target in step, or the target is being edited", props.DriftThreshold),
		m.Sum(metrics.CWReconcileActions), float64(props.DriftThreshold), above)
	add("ReconcileFailedReads",
		"xtsync: a reconcile could not read some groups and left them alone (Graph errors or throttling); the next run retries",
		m.Sum(metrics.CWReconcileFailedReads), 1, atLeast)
	add("DeletionGuardHolding",
		"xtsync: the deletion guard is holding: member removals, user deletes and disables, and group deletes went over sync.deletion_threshold within sync.deletion_window, "+
			"so every reconcile and worker pass holds them (additions still apply) until approved. "+
			"Review the held plan: xtsync reconcile --dry-run --config <the deployed configuration> (and the deletion guard holding line in the worker's or reconcile's log). "+
			"If intended, approve: aws lambda invoke --function-name "+*props.Functions[FunctionReconcile].FunctionName()+
			` --cli-binary-format raw-in-base64-out --payload '{"detail":{"allowDeletions":true}}' out.json; else fix the source (docs/deploy.md)`,
		m.Sum(metrics.CWGuardHeld), 1, atLeast)
	add("SubscriptionErrors",
		"xtsync: the reconcile could not create or renew the Graph subscriptions: change notifications stop until it can (check server.public_url, the source app's Group.Read.All, the webhook)",
		m.Sum(metrics.CWSubscriptionErrors), 1, atLeast)
	add("SubscriptionExpiring",
		fmt.Sprintf("xtsync: a Graph subscription expires in less than %s: the reconcile has not renewed it (it renews 3 days ahead); change notifications stop when it expires (see the SubscriptionErrors alarm and the reconcile's log)", shortDuration(SubscriptionExpiryThreshold)),
		m.SubscriptionExpiry(), SubscriptionExpiryThreshold.Seconds(), below)
	for _, tenant := range Tenants() {
		add("GraphThrottled"+titleCase(tenant),
			fmt.Sprintf("xtsync: Graph answered more than %d requests to the %s tenant with 429 in 5 minutes: the functions are over its quota (fewer workers, xtsync:workerMaxConcurrency, or a lower pace); work is retried and delayed", GraphThrottledThreshold, tenant),
			m.TenantSum(metrics.CWGraphThrottled, tenant), GraphThrottledThreshold, above)
	}
	return a
}

// titleCase upper-cases the first letter of an ASCII name.
func titleCase(s string) string {
	if s == "" || s[0] < 'a' || s[0] > 'z' {
		return s
	}
	return string(s[0]-'a'+'A') + s[1:]
}
