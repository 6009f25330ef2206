package dynamostore

import (
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/xtsync/xtsync/pkg/engine"
)

var _ engine.Store = (*Store)(nil)

// DefaultAuditRetention is how long audit entries are kept when
// Options.AuditRetention is zero.
const DefaultAuditRetention = 90 * 24 * time.Hour

// Options tune a Store; the zero value is usable.
type Options struct {
	// Clock tells the time for audit day partitions and expiry, and
	// leases. Default: engine.SystemClock.
	Clock engine.Clock
	// AuditRetention is how long DynamoDB keeps an audit entry (its ttl) and
	// how far back Audit reads. Default: DefaultAuditRetention.
	AuditRetention time.Duration
}

// Store is a DynamoDB-backed engine.Store on one table (see the package
// documentation for its layout). It is safe for concurrent use.
type Store struct {
	db        *dynamodb.Client
	table     string
	clock     engine.Clock
	retention time.Duration
}

// New returns a Store on the named table, which must exist with the layout
// CreateTable makes.
func New(client *dynamodb.Client, table string, opts Options) *Store {
	if opts.Clock == nil {
		opts.Clock = engine.SystemClock{}
	}
	if opts.AuditRetention <= 0 {
		opts.AuditRetention = DefaultAuditRetention
	}
	return &Store{db: client, table: table, clock: opts.Clock, retention: opts.AuditRetention}
}
