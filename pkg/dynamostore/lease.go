package dynamostore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// AcquireLease takes or renews the lease name for owner until now + ttl. It
// reports true when owner holds the lease afterwards: the lease was absent,
// expired, or already owner's (a renewal). It reports false, with no error,
// while another owner holds it. It is one conditional write, so of
// concurrent acquirers exactly one wins.
func (s *Store) AcquireLease(ctx context.Context, name, owner string, ttl time.Duration) (bool, error) {
	what := "acquire lease " + name
	if err := checkSortKey(what, name); err != nil {
		return false, err
	}
	if owner == "" {
		return false, errors.New(what + ": the owner must not be empty")
	}
	if ttl <= 0 {
		return false, fmt.Errorf("%s: ttl %v must be positive", what, ttl)
	}
	now := s.clock.Now()
	until := now.Add(ttl)
	item := itemKey(pkLease, name)
	item[attrOwner] = str(owner)
	item[attrUntil] = num(until.UnixMilli())
	item[attrTTL] = num(ceilUnix(until))
	if err := checkItem(what, item); err != nil {
		return false, err
	}
	_, err := s.db.PutItem(ctx, &dynamodb.PutItemInput{
		TableName:                aws.String(s.table),
		Item:                     item,
		ConditionExpression:      aws.String("attribute_not_exists(#pk) OR #until < :now OR #owner = :owner"),
		ExpressionAttributeNames: map[string]string{"#pk": attrPK, "#until": attrUntil, "#owner": attrOwner},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":now":   num(now.UnixMilli()),
			":owner": str(owner),
		},
	})
	if err != nil {
		if _, failed := conditionFailed(err); failed {
			return false, nil
		}
		return false, fmt.Errorf("dynamodb %s for %s: %w", what, owner, err)
	}
	return true, nil
}

// ReleaseLease gives up the lease name if owner holds it. Releasing a lease
// that is absent or held by another owner (it expired and was taken over)
// changes nothing and is not an error.
func (s *Store) ReleaseLease(ctx context.Context, name, owner string) error {
	what := "release lease " + name
	if err := checkSortKey(what, name); err != nil {
		return err
	}
	_, err := s.db.DeleteItem(ctx, &dynamodb.DeleteItemInput{
		TableName:                 aws.String(s.table),
		Key:                       itemKey(pkLease, name),
		ConditionExpression:       aws.String("#owner = :owner"),
		ExpressionAttributeNames:  map[string]string{"#owner": attrOwner},
		ExpressionAttributeValues: map[string]types.AttributeValue{":owner": str(owner)},
	})
	if err != nil {
		if _, failed := conditionFailed(err); failed {
			return nil
		}
		return fmt.Errorf("dynamodb %s for %s: %w", what, owner, err)
	}
	return nil
}

// ceilUnix is t in epoch seconds, rounded up.
func ceilUnix(t time.Time) int64 {
	sec := t.Unix()
	if t.Nanosecond() > 0 {
		sec++
	}
	return sec
}
