package dynamostore

import (
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// MaxItemSize is DynamoDB's limit on an item: 400 KB, attribute names
// included.
const MaxItemSize = 400 * 1024

// maxSortKey is DynamoDB's limit on a sort key value, in bytes.
const maxSortKey = 1024

// maxNumberSize is the most a number attribute takes (38 digits).
const maxNumberSize = 21

// ErrItemTooLarge is returned for a write whose item would exceed
// MaxItemSize; the error names the key.
var ErrItemTooLarge = errors.New("item exceeds DynamoDB's 400 KB limit")

// itemSize is an upper bound of DynamoDB's size of item: the UTF-8 lengths
// of the attribute names and values, numbers counted at their largest.
func itemSize(item map[string]types.AttributeValue) int {
	n := 0
	for name, v := range item {
		n += len(name)
		switch v := v.(type) {
		case *types.AttributeValueMemberS:
			n += len(v.Value)
		case *types.AttributeValueMemberB:
			n += len(v.Value)
		case *types.AttributeValueMemberN:
			n += maxNumberSize
		default:
			// Not written by this package; count a generous guess.
			n += 1024
		}
	}
	return n
}

// checkItem refuses an item DynamoDB would refuse for its size; what names
// the item in the error.
func checkItem(what string, item map[string]types.AttributeValue) error {
	if n := itemSize(item); n > MaxItemSize {
		return fmt.Errorf("%s: %d bytes: %w", what, n, ErrItemTooLarge)
	}
	return nil
}

// checkSortKey refuses a sort key DynamoDB would refuse.
func checkSortKey(what, key string) error {
	switch {
	case key == "":
		return fmt.Errorf("%s: the key must not be empty", what)
	case len(key) > maxSortKey:
		return fmt.Errorf("%s: key of %d bytes exceeds DynamoDB's %d-byte sort key limit", what, len(key), maxSortKey)
	}
	return nil
}
