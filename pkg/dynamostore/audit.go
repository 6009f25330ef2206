package dynamostore

import (
	"context"
	crand "crypto/rand"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/xtsync/xtsync/pkg/engine"
)

const (
	// dayLayout names an audit partition.
	dayLayout = "2006-01-02"
	// sortTimeLayout is RFC 3339 with a fixed nine fraction digits, so that
	// the string order of sort keys is the time order (RFC3339Nano trims
	// trailing zeros, and "05Z" sorts after "05.5Z").
	sortTimeLayout = "2006-01-02T15:04:05.000000000Z07:00"
	// batchSize is BatchWriteItem's limit.
	batchSize = 25
	// batchAttempts bounds the retries of unprocessed items.
	batchAttempts = 10
	// batchBackoff and batchMaxBackoff shape the retry delays.
	batchBackoff    = 50 * time.Millisecond
	batchMaxBackoff = 5 * time.Second
)

func auditPK(day time.Time) string { return pkAuditPrefix + day.UTC().Format(dayLayout) }

func auditSortTime(t time.Time) string { return t.UTC().Format(sortTimeLayout) }

// AppendAudit records entries, each with a ttl of its time plus the audit
// retention. An entry with a zero time is stamped with the clock's time.
// It writes 25 items a request and retries unprocessed items with backoff.
func (s *Store) AppendAudit(ctx context.Context, entries ...engine.AuditEntry) error {
	reqs := make([]types.WriteRequest, 0, len(entries))
	for _, e := range entries {
		if e.Time.IsZero() {
			e.Time = s.clock.Now()
		}
		data, err := json.Marshal(e)
		if err != nil {
			return fmt.Errorf("encode audit entry %s %s: %w", e.Action, e.Source, err)
		}
		sk := auditSortTime(e.Time) + "#" + crand.Text()[:12]
		item := itemKey(auditPK(e.Time), sk)
		item[attrEntry] = str(string(data))
		item[attrTTL] = num(e.Time.Add(s.retention).Unix())
		if err := checkItem("audit entry "+sk, item); err != nil {
			return err
		}
		reqs = append(reqs, types.WriteRequest{PutRequest: &types.PutRequest{Item: item}})
	}
	for chunk := range slices.Chunk(reqs, batchSize) {
		if err := s.batchWrite(ctx, chunk); err != nil {
			return fmt.Errorf("append audit (%d entries): %w", len(entries), err)
		}
	}
	return nil
}

// batchWrite writes one BatchWriteItem's worth of requests, retrying the
// unprocessed ones with jittered exponential backoff.
func (s *Store) batchWrite(ctx context.Context, reqs []types.WriteRequest) error {
	delay := batchBackoff
	for attempt := 1; ; attempt++ {
		out, err := s.db.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{
			RequestItems: map[string][]types.WriteRequest{s.table: reqs},
		})
		if err != nil {
			return fmt.Errorf("dynamodb batch write of %d items: %w", len(reqs), err)
		}
		reqs = out.UnprocessedItems[s.table]
		if len(reqs) == 0 {
			return nil
		}
		if attempt == batchAttempts {
			return fmt.Errorf("dynamodb batch write: %d items still unprocessed after %d attempts", len(reqs), attempt)
		}
		wait := delay/2 + rand.N(delay/2+1)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("dynamodb batch write: %d items unprocessed: %w", len(reqs), ctx.Err())
		case <-t.C:
		}
		delay = min(2*delay, batchMaxBackoff)
	}
}

// Audit lists the entries matching q, oldest first. It reads the day
// partitions from q.Since's day (or the start of the retention window, when
// q.Since is zero or older) to q.Until's (or today), newest first, each
// between q.Since and q.Until by its sort key, applies the rest of q to
// each entry, and stops once it has q.Limit entries.
func (s *Store) Audit(ctx context.Context, q engine.AuditQuery) ([]engine.AuditEntry, error) {
	now := s.clock.Now().UTC()
	from := now.Add(-s.retention)
	if q.Since.After(from) {
		from = q.Since
	}
	last := now
	if !q.Until.IsZero() {
		if !q.Until.After(from) {
			return nil, nil // an empty window
		}
		if q.Until.Before(now) {
			last = q.Until
		}
	}
	first := startOfDay(from)
	var out []engine.AuditEntry
	for day := startOfDay(last); !day.Before(first); day = day.AddDate(0, 0, -1) {
		var err error
		out, err = s.auditDay(ctx, day, q, out)
		if err != nil {
			return nil, err
		}
		if q.Limit > 0 && len(out) >= q.Limit {
			out = out[:q.Limit]
			break
		}
	}
	slices.Reverse(out)
	return out, nil
}

// auditDay appends to out the entries of one day partition matching q,
// newest first, stopping at q.Limit entries in all.
func (s *Store) auditDay(ctx context.Context, day time.Time, q engine.AuditQuery, out []engine.AuditEntry) ([]engine.AuditEntry, error) {
	in := &dynamodb.QueryInput{
		TableName:                 aws.String(s.table),
		KeyConditionExpression:    aws.String("#pk = :pk"),
		ExpressionAttributeNames:  map[string]string{"#pk": attrPK},
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(auditPK(day))},
		ConsistentRead:            aws.Bool(true),
		ScanIndexForward:          aws.Bool(false),
	}
	// A sort key is the entry's time, "#" and a random suffix, so an entry
	// at q.Since sorts after the bare time (>= keeps it) and so does one
	// at q.Until (< and BETWEEN, inclusive, both leave it out: Until is
	// exclusive).
	var cond string
	switch {
	case !q.Since.IsZero() && !q.Until.IsZero():
		cond = " AND #sk BETWEEN :since AND :until"
	case !q.Since.IsZero():
		cond = " AND #sk >= :since"
	case !q.Until.IsZero():
		cond = " AND #sk < :until"
	}
	if cond != "" {
		in.KeyConditionExpression = aws.String("#pk = :pk" + cond)
		in.ExpressionAttributeNames["#sk"] = attrSK
	}
	if !q.Since.IsZero() {
		in.ExpressionAttributeValues[":since"] = str(auditSortTime(q.Since))
	}
	if !q.Until.IsZero() {
		in.ExpressionAttributeValues[":until"] = str(auditSortTime(q.Until))
	}
	p := dynamodb.NewQueryPaginator(s.db, in)
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("dynamodb query audit %s: %w", day.Format(dayLayout), err)
		}
		for _, item := range page.Items {
			raw, err := getString(item, attrEntry)
			if err != nil {
				return nil, fmt.Errorf("audit %s: %w", day.Format(dayLayout), err)
			}
			var e engine.AuditEntry
			if err := json.Unmarshal([]byte(raw), &e); err != nil {
				return nil, fmt.Errorf("decode audit entry of %s: %w", day.Format(dayLayout), err)
			}
			if !q.Matches(e) {
				continue
			}
			out = append(out, e)
			if q.Limit > 0 && len(out) >= q.Limit {
				return out, nil
			}
		}
	}
	return out, nil
}

func startOfDay(t time.Time) time.Time {
	t = t.UTC()
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
}
