// Package dynamostore is the engine.Store of the AWS form of xtsync: the
// engine's state and audit log in one DynamoDB table, plus the lease that
// keeps two scheduled reconciles from running at once.
//
// # Table
//
// One table, on-demand (PAY_PER_REQUEST), with the key schema PK (S, hash)
// and SK (S, range), and DynamoDB's time to live on the attribute "ttl" (N,
// epoch seconds). The CDK app creates the real table; CreateTable makes the
// same one for tests and local runs. Every item belongs to one of these
// families:
//
//	PK                 SK                                  attributes
//	rec#<kind>         <key>                               v (N, version), d (B, data; absent when empty)
//	audit#<UTC day>    <UTC time, 9 fraction digits>#<rnd>  e (S, the JSON entry), ttl
//	lease              <name>                              owner (S), until (N, unix ms), ttl
//
// # Records
//
// Get is a consistent GetItem. List is a consistent Query on rec#<kind> that
// follows LastEvaluatedKey across DynamoDB's 1 MB pages; the items come back
// in SK order, which is key order. Put with version 0 is a PutItem on the
// condition attribute_not_exists(PK); with version n, on v = n; it writes
// version n+1. Delete is a DeleteItem on v = n. A failed condition is
// engine.ErrConflict, except that Delete of an absent record is
// engine.ErrNotFound: the failed DeleteItem asks for the old item
// (ReturnValuesOnConditionCheckFailure ALL_OLD), and when none comes back (the
// record is absent, or the server, like dynalite, ignores that parameter) a
// consistent GetItem tells the two apart.
//
// # Audit
//
// Entries are partitioned by UTC day: PK audit#2006-01-02, SK the entry's
// time in RFC 3339 with a fixed nine fraction digits (so that string order is
// time order, which RFC3339Nano's trimmed fractions would break), "#" and a
// random suffix, so that entries with equal times are all kept. Each entry
// carries ttl = time + Options.AuditRetention (default 90 days), after which
// DynamoDB deletes it. AppendAudit writes with BatchWriteItem, 25 items a
// request, and retries UnprocessedItems with a jittered exponential backoff.
// Audit reads the day partitions from the day of q.Since (now -
// AuditRetention when zero or older) up to today, as told by Options.Clock,
// newest first with SK >= q.Since; it filters by group in memory and stops
// once it has q.Limit entries, then returns them oldest first. Entries dated
// after today (a writer's clock ahead of the reader's) show up the next day.
//
// # Lease
//
// AcquireLease is one conditional PutItem that succeeds when the lease is
// absent, expired (until < now) or already held by the same owner (a
// renewal), so two concurrent acquirers never both win; ReleaseLease deletes
// the lease only while the owner holds it. Lease expiry compares times from
// the acquirers' clocks: keep the ttl well above the clock skew between
// them.
//
// # Limits
//
// DynamoDB items are at most 400 KB: writes that would be larger fail with
// ErrItemTooLarge, naming the key, before reaching DynamoDB. Sort keys are
// at most 1024 bytes and must not be empty.
package dynamostore
