package sqsqueue

import (
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"time"
)

// DeduplicationID returns the MessageDeduplicationId of an enqueue of key at
// time at: the hex SHA-256 of the key and at truncated to window. Enqueues
// of one key within one window get the same id, and SQS FIFO keeps only the
// first of them (its deduplication interval is five minutes).
func DeduplicationID(key string, at time.Time, window time.Duration) string {
	bucket := at.Truncate(window).UnixNano()
	h := sha256.New()
	h.Write([]byte(key))
	h.Write([]byte{0})
	h.Write([]byte(strconv.FormatInt(bucket, 10)))
	return hex.EncodeToString(h.Sum(nil))
}
