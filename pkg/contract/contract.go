// Package contract is what the AWS functions and the CDK app (infra/) must
// agree on: the environment variables the stack sets and the functions read,
// and the log lines and fields the alarms' descriptions and operators refer
// to (the alarms read the metrics the functions write, pkg/metrics' names).
// Both sides import these names, so renaming one renames both; it imports
// only pkg/engine (standard library only), so the CDK app links no Graph SDK.
package contract

import (
	"context"
	"log/slog"

	"github.com/xtsync/xtsync/pkg/engine"
)

// The environment of the functions.
const (
	// EnvConfig holds the YAML configuration inline (local runs, tests).
	EnvConfig = "XTSYNC_CONFIG"
	// EnvConfigParameter names the SSM String parameter with the YAML
	// configuration.
	EnvConfigParameter = "XTSYNC_CONFIG_PARAMETER"
	// EnvTable is the DynamoDB table name.
	EnvTable = "XTSYNC_TABLE"
	// EnvQueueURL is the SQS FIFO queue URL.
	EnvQueueURL = "XTSYNC_QUEUE_URL"
	// EnvSourceSecretARN and EnvTargetSecretARN are the Secrets Manager
	// secrets with each tenant's Graph client secret (not given to the
	// webhook, which never calls Graph).
	EnvSourceSecretARN = "XTSYNC_SOURCE_SECRET_ARN"
	EnvTargetSecretARN = "XTSYNC_TARGET_SECRET_ARN"
	// EnvConfigDigest and EnvRevision are not read by the functions: a new
	// value changes the function configuration, so Lambda starts fresh
	// execution environments, which load the configuration and secrets
	// again (they cache them per container).
	EnvConfigDigest = "XTSYNC_CONFIG_DIGEST"
	EnvRevision     = "XTSYNC_REVISION"
	// EnvQuotaShare is how many function instances may call Graph at once
	// (the worker's maximum concurrency, plus the reconcile): each divides
	// its client-side pace by it, so that together they stay under each
	// tenant's quota (Graph's limits are per app per tenant).
	EnvQuotaShare = "XTSYNC_QUOTA_SHARE"
	// EnvMetricsNamespace is the CloudWatch namespace the functions write
	// their metrics to, in the embedded metric format on stdout (pkg/emf);
	// unset, they write no metrics.
	EnvMetricsNamespace = "XTSYNC_METRICS_NAMESPACE"
)

// The log lines (JSON from log/slog, message in "msg") an operator reads
// when an alarm fires.
const (
	// LogReconcilePlanned is logged by the reconcile function after it
	// plans the scope, with FieldActions and FieldFailedReads.
	LogReconcilePlanned = "reconcile planned"
	FieldActions        = "actions"
	FieldFailedReads    = "failed_reads"
	// LogSubscriptions is logged at ERROR when the subscriptions cannot be
	// created or renewed.
	LogSubscriptions = "subscriptions"
	// LogGuardHolding is logged at WARN, by the worker and the reconcile,
	// for each run whose removals the deletion guard holds.
	LogGuardHolding = engine.LogGuardHolding
)

// LogPlanned writes the reconcile function's LogReconcilePlanned line for
// a plan: the one place that line is written.
func LogPlanned(ctx context.Context, log *slog.Logger, p *engine.Plan) {
	log.InfoContext(ctx, LogReconcilePlanned, FieldActions, len(p.Actions), "deletions", p.Deletions, FieldFailedReads, len(p.Failed))
}

// LogSubscriptionsFailed writes the LogSubscriptions line, at ERROR, for a
// run that could not create or renew the subscriptions.
func LogSubscriptionsFailed(ctx context.Context, log *slog.Logger, err error) {
	log.ErrorContext(ctx, LogSubscriptions, "err", err)
}
