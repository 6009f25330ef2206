package stacks

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// The reconcile function's log lines the metrics are read from: JSON records
// from log/slog (pkg/lambdaapp), e.g.
//
//	{"level":"INFO","msg":"reconcile planned","actions":12,"deletions":0,"failed_reads":0}
//	{"level":"ERROR","msg":"reconcile halted by the deletion threshold: ...","deletions":900,"threshold":500}
//	{"level":"ERROR","msg":"subscriptions","err":"..."}
//
// These messages and fields are a contract with the function code: renaming
// them silences the alarms built on them.
const (
	ReconcilePlannedMessage = "reconcile planned"
	ReconcileActionsField   = "actions"
	ReconcileFailedField    = "failed_reads"
	ReconcileHaltedPrefix   = "reconcile halted"
	SubscriptionsMessage    = "subscriptions"
)

// ReconcileMetrics are the metrics read from the reconcile's logs by metric
// filters, each summed over 5 minutes.
type ReconcileMetrics struct {
	// Drift is what a run found to repair (planned actions): every one is
	// a change the notifications did not carry, or an edit of the target.
	Drift awscloudwatch.IMetric
	// FailedReads counts groups a run could not read (and so left alone).
	FailedReads awscloudwatch.IMetric
	// Halted counts runs stopped by the deletion threshold.
	Halted awscloudwatch.IMetric
	// SubscriptionErrors counts runs that could not create or renew the
	// Graph subscriptions: notifications stop until they can.
	SubscriptionErrors awscloudwatch.IMetric
}

// NewReconcileMetrics creates the metric filters on the reconcile's log
// group, publishing to namespace.
func NewReconcileMetrics(scope constructs.Construct, id string, logGroup awslogs.ILogGroup, namespace string) *ReconcileMetrics {
	c := constructs.NewConstruct(scope, jsii.String(id))
	metric := func(name string, pattern awslogs.IFilterPattern, value string) awscloudwatch.IMetric {
		mf := awslogs.NewMetricFilter(c, jsii.String(name), &awslogs.MetricFilterProps{
			LogGroup:        logGroup,
			FilterPattern:   pattern,
			MetricNamespace: jsii.String(namespace),
			MetricName:      jsii.String(name),
			MetricValue:     jsii.String(value),
		})
		return mf.Metric(&awscloudwatch.MetricOptions{Statistic: jsii.String("Sum"), Period: awscdk.Duration_Minutes(jsii.Number(5))})
	}
	msg := func(value string) awslogs.JsonPattern {
		return awslogs.FilterPattern_StringValue(jsii.String("$.msg"), jsii.String("="), jsii.String(value))
	}
	errorLevel := awslogs.FilterPattern_StringValue(jsii.String("$.level"), jsii.String("="), jsii.String("ERROR"))
	return &ReconcileMetrics{
		Drift:              metric("ReconcileActions", msg(ReconcilePlannedMessage), "$."+ReconcileActionsField),
		FailedReads:        metric("ReconcileFailedReads", msg(ReconcilePlannedMessage), "$."+ReconcileFailedField),
		Halted:             metric("ReconcileHalted", msg(ReconcileHaltedPrefix+"*"), "1"),
		SubscriptionErrors: metric("SubscriptionErrors", awslogs.FilterPattern_All(errorLevel, msg(SubscriptionsMessage)), "1"),
	}
}
