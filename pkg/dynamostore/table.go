package dynamostore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"
)

// tableActiveTimeout bounds the wait for a new table to become ACTIVE.
const tableActiveTimeout = 5 * time.Minute

// CreateTable creates the store's table (on-demand, PK and SK strings) if it
// does not exist, waits until it is ACTIVE and enables time to live on the
// attribute "ttl". It is for tests and local runs: the CDK app creates the
// real table. A server without UpdateTimeToLive (dynalite) keeps the items
// forever, which is all a test needs.
func (s *Store) CreateTable(ctx context.Context) error {
	_, err := s.db.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:   aws.String(s.table),
		BillingMode: types.BillingModePayPerRequest,
		AttributeDefinitions: []types.AttributeDefinition{
			{AttributeName: aws.String(attrPK), AttributeType: types.ScalarAttributeTypeS},
			{AttributeName: aws.String(attrSK), AttributeType: types.ScalarAttributeTypeS},
		},
		KeySchema: []types.KeySchemaElement{
			{AttributeName: aws.String(attrPK), KeyType: types.KeyTypeHash},
			{AttributeName: aws.String(attrSK), KeyType: types.KeyTypeRange},
		},
	})
	var inUse *types.ResourceInUseException
	if err != nil && !errors.As(err, &inUse) {
		return fmt.Errorf("dynamodb create table %s: %w", s.table, err)
	}
	waiter := dynamodb.NewTableExistsWaiter(s.db, func(o *dynamodb.TableExistsWaiterOptions) {
		o.MinDelay = 100 * time.Millisecond
		o.MaxDelay = 5 * time.Second
	})
	if err := waiter.Wait(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(s.table)}, tableActiveTimeout); err != nil {
		return fmt.Errorf("dynamodb table %s did not become active: %w", s.table, err)
	}
	return s.enableTTL(ctx)
}

// enableTTL turns on time to live on "ttl" unless it is on already.
func (s *Store) enableTTL(ctx context.Context) error {
	d, err := s.db.DescribeTimeToLive(ctx, &dynamodb.DescribeTimeToLiveInput{TableName: aws.String(s.table)})
	if err != nil {
		return fmt.Errorf("dynamodb describe time to live of %s: %w", s.table, err)
	}
	if ttl := d.TimeToLiveDescription; ttl != nil && aws.ToString(ttl.AttributeName) == attrTTL &&
		(ttl.TimeToLiveStatus == types.TimeToLiveStatusEnabled || ttl.TimeToLiveStatus == types.TimeToLiveStatusEnabling) {
		return nil
	}
	_, err = s.db.UpdateTimeToLive(ctx, &dynamodb.UpdateTimeToLiveInput{
		TableName:               aws.String(s.table),
		TimeToLiveSpecification: &types.TimeToLiveSpecification{AttributeName: aws.String(attrTTL), Enabled: aws.Bool(true)},
	})
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) && apiErr.ErrorCode() == "UnknownOperationException" {
		// dynalite 4 does not implement UpdateTimeToLive.
		return nil
	}
	if err != nil {
		return fmt.Errorf("dynamodb enable time to live on %s.%s: %w", s.table, attrTTL, err)
	}
	return nil
}
