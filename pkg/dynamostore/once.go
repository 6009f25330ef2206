package dynamostore

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Once records the idempotency key for ttl and reports whether this call
// recorded it (first) or it was already recorded and has not expired, so
// that a message delivered twice is processed once. Of concurrent calls
// with one key, exactly one is first.
func (s *Store) Once(ctx context.Context, key string, ttl time.Duration) (first bool, err error) {
	what := "once " + key
	if err := checkSortKey(what, key); err != nil {
		return false, err
	}
	if ttl <= 0 {
		return false, fmt.Errorf("%s: ttl %v must be positive", what, ttl)
	}
	now := s.clock.Now()
	item := itemKey(pkOnce, key)
	item[attrTTL] = num(ceilUnix(now.Add(ttl)))
	if err := checkItem(what, item); err != nil {
		return false, err
	}
	_, err = s.db.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: aws.String(s.table),
		Item:      item,
		// DynamoDB deletes expired items lazily (within days): an expired
		// key still present counts as absent.
		ConditionExpression:       aws.String("attribute_not_exists(#pk) OR #ttl <= :now"),
		ExpressionAttributeNames:  map[string]string{"#pk": attrPK, "#ttl": attrTTL},
		ExpressionAttributeValues: map[string]types.AttributeValue{":now": num(now.Unix())},
	})
	if err != nil {
		if _, failed := conditionFailed(err); failed {
			return false, nil
		}
		return false, fmt.Errorf("dynamodb %s: %w", what, err)
	}
	return true, nil
}
