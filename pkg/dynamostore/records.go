package dynamostore

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/xtsync/xtsync/pkg/engine"
)

func recordPK(kind engine.RecordKind) string { return pkRecordPrefix + string(kind) }

// decodeRecord turns a record item into an engine.Record.
func decodeRecord(item map[string]types.AttributeValue) (engine.Record, error) {
	key, err := getString(item, attrSK)
	if err != nil {
		return engine.Record{}, err
	}
	version, err := getInt(item, attrVer)
	if err != nil {
		return engine.Record{}, fmt.Errorf("record %s: %w", key, err)
	}
	r := engine.Record{Key: key, Version: version, Data: []byte{}}
	switch d := item[attrData].(type) {
	case nil:
	case *types.AttributeValueMemberB:
		r.Data = d.Value
	default:
		return engine.Record{}, fmt.Errorf("record %s: attribute %s is not binary", key, attrData)
	}
	return r, nil
}

// Get returns a record (a consistent read), or engine.ErrNotFound.
func (s *Store) Get(ctx context.Context, kind engine.RecordKind, key string) (engine.Record, error) {
	if err := checkSortKey(fmt.Sprintf("get %s", kind), key); err != nil {
		return engine.Record{}, err
	}
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:      aws.String(s.table),
		Key:            itemKey(recordPK(kind), key),
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return engine.Record{}, fmt.Errorf("dynamodb get %s %s: %w", kind, key, err)
	}
	if out.Item == nil {
		return engine.Record{}, fmt.Errorf("%s %s: %w", kind, key, engine.ErrNotFound)
	}
	r, err := decodeRecord(out.Item)
	if err != nil {
		return engine.Record{}, fmt.Errorf("decode %s: %w", kind, err)
	}
	return r, nil
}

// List returns every record of a kind in key order, following DynamoDB's
// pages (consistent reads).
func (s *Store) List(ctx context.Context, kind engine.RecordKind) ([]engine.Record, error) {
	p := dynamodb.NewQueryPaginator(s.db, &dynamodb.QueryInput{
		TableName:                 aws.String(s.table),
		KeyConditionExpression:    aws.String("#pk = :pk"),
		ExpressionAttributeNames:  map[string]string{"#pk": attrPK},
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(recordPK(kind))},
		ConsistentRead:            aws.Bool(true),
	})
	var out []engine.Record
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("dynamodb list %s (after %d records): %w", kind, len(out), err)
		}
		for _, item := range page.Items {
			r, err := decodeRecord(item)
			if err != nil {
				return nil, fmt.Errorf("decode %s: %w", kind, err)
			}
			out = append(out, r)
		}
	}
	return out, nil
}

// Put writes data when the stored version equals version (0: the record
// must not exist) and returns the new version, version+1; otherwise it
// returns engine.ErrConflict. Data larger than an item can hold is
// ErrItemTooLarge.
func (s *Store) Put(ctx context.Context, kind engine.RecordKind, key string, version int64, data []byte) (int64, error) {
	what := fmt.Sprintf("put %s %s", kind, key)
	if err := checkSortKey(what, key); err != nil {
		return 0, err
	}
	item := itemKey(recordPK(kind), key)
	item[attrVer] = num(version + 1)
	if len(data) > 0 {
		item[attrData] = &types.AttributeValueMemberB{Value: data}
	}
	if err := checkItem(what, item); err != nil {
		return 0, err
	}
	in := &dynamodb.PutItemInput{
		TableName:                           aws.String(s.table),
		Item:                                item,
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	}
	if version == 0 {
		in.ConditionExpression = aws.String("attribute_not_exists(#pk)")
		in.ExpressionAttributeNames = map[string]string{"#pk": attrPK}
	} else {
		in.ConditionExpression = aws.String("#v = :v")
		in.ExpressionAttributeNames = map[string]string{"#v": attrVer}
		in.ExpressionAttributeValues = map[string]types.AttributeValue{":v": num(version)}
	}
	if _, err := s.db.PutItem(ctx, in); err != nil {
		if old, ok := conditionFailed(err); ok {
			return 0, fmt.Errorf("%s %s%s, not %d: %w", kind, key, describeVersion(old), version, engine.ErrConflict)
		}
		return 0, fmt.Errorf("dynamodb %s: %w", what, err)
	}
	return version + 1, nil
}

// describeVersion tells the version of the old item a failed condition
// returned, when it did.
func describeVersion(old map[string]types.AttributeValue) string {
	if old == nil {
		return " is absent or at another version"
	}
	if v, err := getInt(old, attrVer); err == nil {
		return fmt.Sprintf(" at version %d", v)
	}
	return " at an unreadable version"
}

// Delete removes a record when its version equals version; otherwise it
// returns engine.ErrConflict, or engine.ErrNotFound when the record is
// absent.
func (s *Store) Delete(ctx context.Context, kind engine.RecordKind, key string, version int64) error {
	what := fmt.Sprintf("delete %s %s", kind, key)
	if err := checkSortKey(what, key); err != nil {
		return err
	}
	_, err := s.db.DeleteItem(ctx, &dynamodb.DeleteItemInput{
		TableName:                           aws.String(s.table),
		Key:                                 itemKey(recordPK(kind), key),
		ConditionExpression:                 aws.String("#v = :v"),
		ExpressionAttributeNames:            map[string]string{"#v": attrVer},
		ExpressionAttributeValues:           map[string]types.AttributeValue{":v": num(version)},
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	})
	if err == nil {
		return nil
	}
	old, failed := conditionFailed(err)
	if !failed {
		return fmt.Errorf("dynamodb %s: %w", what, err)
	}
	if old == nil {
		// Absent, or a server that does not return the old item: look.
		r, err := s.Get(ctx, kind, key)
		switch {
		case errors.Is(err, engine.ErrNotFound):
			return err
		case err != nil:
			return fmt.Errorf("%s: after a failed condition: %w", what, err)
		}
		old = map[string]types.AttributeValue{attrVer: num(r.Version)}
	}
	return fmt.Errorf("%s %s%s, not %d: %w", kind, key, describeVersion(old), version, engine.ErrConflict)
}
