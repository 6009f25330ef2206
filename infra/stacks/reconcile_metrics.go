package stacks

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/xtsync/xtsync/pkg/contract"
)

// The log lines the metrics are read from: JSON records from log/slog.
//
// The reconcile function's (written by pkg/contract's LogPlanned and
// LogSubscriptionsFailed):
//
//	{"level":"INFO","msg":"reconcile planned","actions":12,"deletions":0,"failed_reads":0}
//	{"level":"ERROR","msg":"subscriptions","err":"..."}
//
// The deletion guard's (pkg/engine/guard.go), written by both the worker and
// the reconcile function, once per run whose destructive changes it holds:
//
//	{"level":"WARN","msg":"deletion guard holding","run":"…","planned":12,"held":12,"since":"…","threshold":5,"window":"1h0m0s"}
//
// These messages and fields come from pkg/contract, which the function code
// logs with, so a rename changes both sides (TestAlarmsMatchRealLogs and
// TestMetricsFromRealLogs feed the lines the code writes through the
// filters). The application's "task held by the deletion guard" and the
// guard's "deletion guard approved" lines are not read: the guard's line
// covers every held run, from either function.
const (
	ReconcilePlannedMessage     = contract.LogReconcilePlanned
	ReconcileActionsField       = contract.FieldActions
	ReconcileFailedField        = contract.FieldFailedReads
	SubscriptionsMessage        = contract.LogSubscriptions
	DeletionGuardHoldingMessage = contract.LogGuardHolding
)

// DeletionGuardHoldingMetric is the metric of held runs, published by one
// metric filter on each of the worker's and the reconcile's log groups
// (CloudWatch sums what filters publish to the same metric).
const DeletionGuardHoldingMetric = "DeletionGuardHolding"

// ReconcileMetricsProps are the log groups the metrics are read from and
// their namespace.
type ReconcileMetricsProps struct {
	ReconcileLogs awslogs.ILogGroup
	WorkerLogs    awslogs.ILogGroup
	Namespace     string
}

// ReconcileMetrics are the metrics read from the functions' logs by metric
// filters, each summed over 5 minutes.
type ReconcileMetrics struct {
	// Drift is what a run found to repair (planned actions): every one is
	// a change the notifications did not carry, or an edit of the target.
	Drift awscloudwatch.IMetric
	// FailedReads counts groups a run could not read (and so left alone).
	FailedReads awscloudwatch.IMetric
	// GuardHolding counts the runs, reconciles and worker passes alike,
	// whose removals, deletes and disables the deletion guard holds.
	GuardHolding awscloudwatch.IMetric
	// SubscriptionErrors counts runs that could not create or renew the
	// Graph subscriptions: notifications stop until they can.
	SubscriptionErrors awscloudwatch.IMetric
}

// NewReconcileMetrics creates the metric filters on the reconcile's log
// group, and the deletion guard's on the worker's too.
func NewReconcileMetrics(scope constructs.Construct, id string, props ReconcileMetricsProps) *ReconcileMetrics {
	c := constructs.NewConstruct(scope, jsii.String(id))
	five := awscdk.Duration_Minutes(jsii.Number(5))
	filter := func(id string, logGroup awslogs.ILogGroup, name string, pattern awslogs.IFilterPattern, value string) awslogs.MetricFilter {
		return awslogs.NewMetricFilter(c, jsii.String(id), &awslogs.MetricFilterProps{
			LogGroup:        logGroup,
			FilterPattern:   pattern,
			MetricNamespace: jsii.String(props.Namespace),
			MetricName:      jsii.String(name),
			MetricValue:     jsii.String(value),
		})
	}
	metric := func(name string, pattern awslogs.IFilterPattern, value string) awscloudwatch.IMetric {
		mf := filter(name, props.ReconcileLogs, name, pattern, value)
		return mf.Metric(&awscloudwatch.MetricOptions{Statistic: jsii.String("Sum"), Period: five})
	}
	msg := func(value string) awslogs.JsonPattern {
		return awslogs.FilterPattern_StringValue(jsii.String("$.msg"), jsii.String("="), jsii.String(value))
	}
	errorLevel := awslogs.FilterPattern_StringValue(jsii.String("$.level"), jsii.String("="), jsii.String("ERROR"))

	filter(DeletionGuardHoldingMetric+"Worker", props.WorkerLogs, DeletionGuardHoldingMetric, msg(DeletionGuardHoldingMessage), "1")
	filter(DeletionGuardHoldingMetric+"Reconcile", props.ReconcileLogs, DeletionGuardHoldingMetric, msg(DeletionGuardHoldingMessage), "1")
	return &ReconcileMetrics{
		Drift:       metric("ReconcileActions", msg(ReconcilePlannedMessage), "$."+ReconcileActionsField),
		FailedReads: metric("ReconcileFailedReads", msg(ReconcilePlannedMessage), "$."+ReconcileFailedField),
		GuardHolding: awscloudwatch.NewMetric(&awscloudwatch.MetricProps{
			Namespace:  jsii.String(props.Namespace),
			MetricName: jsii.String(DeletionGuardHoldingMetric),
			Statistic:  jsii.String("Sum"),
			Period:     five,
		}),
		SubscriptionErrors: metric("SubscriptionErrors", awslogs.FilterPattern_All(errorLevel, msg(SubscriptionsMessage)), "1"),
	}
}
