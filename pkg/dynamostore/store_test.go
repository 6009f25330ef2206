package dynamostore_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/smithy-go/logging"

	"github.com/xtsync/xtsync/internal/awslocal"
	"github.com/xtsync/xtsync/pkg/dynamostore"
	"github.com/xtsync/xtsync/pkg/engine"
	"github.com/xtsync/xtsync/pkg/engine/storetest"
)

// TestContract runs the engine.Store contract against a fresh table per
// subtest on the local DynamoDB.
func TestContract(t *testing.T) {
	storetest.Run(t, func(t *testing.T) engine.Store {
		// The contract's audit entries are dated 2026-11-28 and Audit reads
		// only the retention window up to the clock's today: pin the clock
		// to that day so the contract does not depend on the date it runs.
		clock := &fakeClock{now: time.Date(2026, 11, 28, 23, 0, 0, 0, time.UTC)}
		s, _, _ := newStore(t, dynamostore.Options{Clock: clock})
		return s
	})
}

// TestCreateTableTwice checks that CreateTable on an existing table only
// waits for it.
func TestCreateTableTwice(t *testing.T) {
	s, db, table := newStore(t, dynamostore.Options{})
	ctx := testContext(t)
	if err := s.CreateTable(ctx); err != nil {
		t.Fatalf("second CreateTable: %v", err)
	}
	d, err := db.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(table)})
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, k := range d.Table.KeySchema {
		keys = append(keys, aws.ToString(k.AttributeName)+" "+string(k.KeyType))
	}
	if fmt.Sprint(keys) != "[PK HASH SK RANGE]" {
		t.Fatalf("key schema %v, want PK HASH, SK RANGE", keys)
	}
}

// newStore creates a store on a fresh, uniquely named table of the local
// DynamoDB (dynalite, started by `make test`), deleted when the test ends.
func newStore(t *testing.T, opts dynamostore.Options) (*dynamostore.Store, *dynamodb.Client, string) {
	t.Helper()
	endpoint := awslocal.DynamoDBEndpoint(t)
	db := dynamodb.NewFromConfig(awslocal.Config(t), clientOptions(t, endpoint))
	table := awslocal.UniqueName(t)
	s := dynamostore.New(db, table, opts)
	if err := s.CreateTable(testContext(t)); err != nil {
		t.Fatalf("CreateTable: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := db.DeleteTable(ctx, &dynamodb.DeleteTableInput{TableName: aws.String(table)}); err != nil {
			t.Logf("delete table %s: %v", table, err)
		}
	})
	return s, db, table
}

// clientOptions points a DynamoDB client at endpoint and routes the SDK's
// log to the test's.
func clientOptions(t *testing.T, endpoint string) func(*dynamodb.Options) {
	return func(o *dynamodb.Options) {
		o.BaseEndpoint = aws.String(endpoint)
		o.Logger = logging.LoggerFunc(func(c logging.Classification, format string, v ...any) {
			t.Logf("aws sdk %s: %s", c, fmt.Sprintf(format, v...))
		})
	}
}

func testContext(t *testing.T) context.Context { return awslocal.Context(t) }

// fakeClock is an engine.Clock the test moves.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}
