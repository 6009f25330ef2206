// Package emf writes the CloudWatch embedded metric format (EMF): one JSON
// object per line, which CloudWatch Logs turns into metrics when a Lambda
// function writes it to its standard output
// (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html).
//
// Write turns the difference of two metrics.Snapshot values (what happened
// since the previous flush) into records:
//
//   - one record with no dimension: ChangesReceived, ChangesApplied,
//     DeletionGuardHeldRuns and MirrorRepairs (Count, zeros included), the extra values
//     (the reconcile's planned actions, failed reads, the soonest
//     subscription expiry), and ChangeLatency (Seconds) as an array of
//     values, at most 100 a record (the specification's limit: further
//     values go into records of their own);
//   - one record per tenant, with the Tenant dimension: GraphRequests,
//     GraphThrottled, GraphRetries and GraphWrites (Count).
//
// The specification allows a metric value to be a number or an array of at
// most 100 numbers, nothing else (no {"Values","Counts"} object): the
// latency histogram is written as one value per observation, each the upper
// bound of its bucket, or the mean of all when they fall in one bucket
// (so a single observation is exact). It imports the standard library and
// pkg/metrics only.
package emf
