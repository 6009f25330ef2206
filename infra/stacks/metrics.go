package stacks

import (
	"time"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/jsii-runtime-go"

	"github.com/xtsync/xtsync/pkg/metrics"
)

// The thresholds of the alarms on the functions' own metrics.
const (
	// GraphThrottledThreshold: alarm when Graph answers one tenant with
	// more 429s than this in 5 minutes (the clients retry them; many mean
	// the functions together go over the tenant's quota).
	GraphThrottledThreshold = 20
	// SubscriptionExpiryThreshold: alarm when the soonest subscription
	// expires sooner (the reconcile renews 3 days ahead).
	SubscriptionExpiryThreshold = 24 * time.Hour
)

// Tenants are the values of the Tenant dimension of the Graph metrics.
func Tenants() []string { return []string{metrics.CWTenantSource, metrics.CWTenantTarget} }

// FunctionMetrics are the metrics the functions write themselves, in the
// CloudWatch embedded metric format on stdout (pkg/emf, names from
// pkg/metrics), in Namespace: no metric filter reads them from the logs.
// The counters have no dimension but the Graph ones, which have Tenant.
type FunctionMetrics struct {
	Namespace string
	// ReconcileRate is how often the reconcile writes its run's values
	// (the subscription expiry's period is twice it).
	ReconcileRate time.Duration
}

// fiveMinutes is the period of the sums.
func fiveMinutes() awscdk.Duration { return awscdk.Duration_Minutes(jsii.Number(5)) }

// metric is one metric of the namespace.
func (m FunctionMetrics) metric(name, statistic string, period awscdk.Duration, dims map[string]*string) awscloudwatch.Metric {
	p := &awscloudwatch.MetricProps{
		Namespace: jsii.String(m.Namespace), MetricName: jsii.String(name),
		Statistic: jsii.String(statistic), Period: period,
	}
	if dims != nil {
		p.DimensionsMap = &dims
	}
	return awscloudwatch.NewMetric(p)
}

// Sum is a dimensionless metric summed over 5 minutes.
func (m FunctionMetrics) Sum(name string) awscloudwatch.IMetric {
	return m.metric(name, "Sum", fiveMinutes(), nil)
}

// TenantSum is a Graph metric of one tenant summed over 5 minutes.
func (m FunctionMetrics) TenantSum(name, tenant string) awscloudwatch.IMetric {
	return m.tenantSum(name, tenant)
}

// TenantGraph is TenantSum labeled with the tenant, for the dashboard (an
// alarm on a labeled metric is an alarm on metric math).
func (m FunctionMetrics) TenantGraph(name, tenant string) awscloudwatch.IMetric {
	return m.labeled(m.tenantSum(name, tenant), tenant+" "+name)
}

func (m FunctionMetrics) tenantSum(name, tenant string) awscloudwatch.Metric {
	return m.metric(name, "Sum", fiveMinutes(), map[string]*string{metrics.CWTenant: jsii.String(tenant)})
}

// Latency is a percentile ("p99") of the change latency over 5 minutes.
func (m FunctionMetrics) Latency(percentile string) awscloudwatch.IMetric {
	return m.labeled(m.metric(metrics.CWChangeLatency, percentile, fiveMinutes(), nil), percentile)
}

// SubscriptionExpiry is the least time left of the soonest subscription
// the reconcile saw, over two of its runs (at least 5 minutes, at most a
// day, the longest an alarm's period may be).
func (m FunctionMetrics) SubscriptionExpiry() awscloudwatch.IMetric {
	period := min(max(2*m.ReconcileRate, 5*time.Minute), 24*time.Hour)
	return m.metric(metrics.CWSubscriptionExpiry, "Minimum", awscdk.Duration_Minutes(jsii.Number(period.Minutes())), nil)
}

// labeled is metric with a label for the dashboard's legend.
func (FunctionMetrics) labeled(metric awscloudwatch.Metric, label string) awscloudwatch.IMetric {
	return metric.With(&awscloudwatch.MetricOptions{Label: jsii.String(label)})
}

// AlarmedMetric is one of the functions' metrics an alarm reads: its name
// and its Tenant dimension's value ("" for none).
type AlarmedMetric struct {
	Name   string
	Tenant string
}

// AlarmedMetrics are the functions' metrics the alarms read (NewAlarms;
// the stack's tests check that the two agree, and the functions' tests
// that the functions write each with these dimensions). It needs no CDK.
func AlarmedMetrics() []AlarmedMetric {
	out := []AlarmedMetric{
		{Name: metrics.CWReconcileActions}, {Name: metrics.CWReconcileFailedReads}, {Name: metrics.CWGuardHeld},
		{Name: metrics.CWSubscriptionErrors}, {Name: metrics.CWSubscriptionExpiry},
	}
	for _, t := range Tenants() {
		out = append(out, AlarmedMetric{Name: metrics.CWGraphThrottled, Tenant: t})
	}
	return out
}
