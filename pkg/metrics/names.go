// Package metrics counts what xtsync does (changes received and applied,
// the change-to-converged latency, Graph requests, 429s and retries, the
// deletion guard's held runs) in one Set that its exporters read: the
// Prometheus collector of serve's /metrics (pkg/prommetrics) and the
// CloudWatch embedded metric format of the Lambda functions (pkg/emf).
// The names below are the one list both exporters and the CDK app's alarms
// and dashboard use. It imports the standard library only.
package metrics

// Prometheus names (the xtsync_ prefix, _total for counters, _seconds for
// durations).
const (
	// ChangesReceived counts the changes queued from change notifications
	// (after the webhook coalesced duplicates).
	ChangesReceived = "xtsync_changes_received_total"
	// ChangesApplied counts the queued changes whose delta pass applied
	// them.
	ChangesApplied = "xtsync_changes_applied_total"
	// ChangeLatency is the time from a change's notification to the end of
	// the delta pass that applied it.
	ChangeLatency = "xtsync_change_latency_seconds"
	// GraphRequests counts Graph requests by tenant ("source", "target"),
	// method, route template and status (every attempt; 0 when no answer).
	GraphRequests = "xtsync_graph_requests_total"
	// GraphThrottled counts Graph's 429 answers by tenant.
	GraphThrottled = "xtsync_graph_throttled_total"
	// GraphRetries counts the requests sent again by tenant.
	GraphRetries = "xtsync_graph_retries_total"
	// GraphWrites counts Graph write requests (not GET) by tenant.
	GraphWrites = "xtsync_graph_writes_total"
	// GuardHeld counts the runs whose removals, deletes and disables the
	// deletion guard held.
	GuardHeld = "xtsync_deletion_guard_held_runs_total"
	// MirrorRepairs counts the mirrors a mirror pass, and the users a
	// target users pass, found changed by someone else in the target
	// (each synced again from its source).
	MirrorRepairs = "xtsync_mirror_repairs_total"
	// QueueDepth is the work pending or running in serve's queue.
	QueueDepth = "xtsync_queue_depth"
	// ParkedTasks is the work serve's queue parked after repeated failures.
	ParkedTasks = "xtsync_parked_tasks"
	// GuardHalted is 1 while the deletion guard holds, else 0.
	GuardHalted = "xtsync_deletion_guard_halted"
	// SubscriptionExpiry is the time left until the soonest subscription
	// expires, in seconds.
	SubscriptionExpiry = "xtsync_subscription_expiry_seconds"
)

// CloudWatch names of the same metrics, in the functions' namespace (EMF).
const (
	CWChangesReceived    = "ChangesReceived"
	CWChangesApplied     = "ChangesApplied"
	CWChangeLatency      = "ChangeLatency"
	CWGraphRequests      = "GraphRequests"
	CWGraphThrottled     = "GraphThrottled"
	CWGraphRetries       = "GraphRetries"
	CWGraphWrites        = "GraphWrites"
	CWGuardHeld          = "DeletionGuardHeldRuns"
	CWMirrorRepairs      = "MirrorRepairs"
	CWSubscriptionExpiry = "SubscriptionExpirySeconds"
	// CWTenant is the dimension of the per-tenant Graph metrics.
	CWTenant = "Tenant"
)

// LatencyBuckets are the upper bounds, in seconds, of the latency
// histogram's buckets.
func LatencyBuckets() []float64 {
	return []float64{0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300}
}

// CloudWatch names of what only the reconcile function writes, once a run,
// in the functions' namespace (EMF, no dimension).
const (
	// CWReconcileActions is the number of actions a run planned: each a
	// change the notifications did not carry, or an edit of the target.
	CWReconcileActions = "ReconcileActions"
	// CWReconcileDeletions is the number of destructive actions planned.
	CWReconcileDeletions = "ReconcileDeletions"
	// CWReconcileFailedReads is the number of groups a run could not read
	// (and left alone).
	CWReconcileFailedReads = "ReconcileFailedReads"
	// CWSubscriptionErrors is 1 for a run that could not create or renew
	// the Graph subscriptions, else 0.
	CWSubscriptionErrors = "SubscriptionErrors"
)

// Values of CWTenant: the tenants the Graph metrics are counted by.
const (
	CWTenantSource = "source"
	CWTenantTarget = "target"
)
