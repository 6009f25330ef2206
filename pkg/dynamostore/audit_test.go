package dynamostore_test

import (
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/xtsync/xtsync/pkg/dynamostore"
	"github.com/xtsync/xtsync/pkg/engine"
)

func TestAuditAcrossDays(t *testing.T) {
	clock := &fakeClock{now: time.Date(2026, 3, 2, 0, 30, 0, 0, time.UTC)}
	retention := 7 * 24 * time.Hour
	s, db, table := newStore(t, dynamostore.Options{Clock: clock, AuditRetention: retention})
	ctx := testContext(t)

	day1 := time.Date(2026, 3, 1, 23, 50, 0, 0, time.UTC)
	times := []time.Time{
		day1,
		day1.Add(10*time.Minute - time.Nanosecond), // 23:59:59.999999999
		day1.Add(10 * time.Minute),                 // 00:00 the next day
		day1.Add(10*time.Minute + 500*time.Millisecond),
		day1.Add(20 * time.Minute),
	}
	var entries []engine.AuditEntry
	for i, tm := range times {
		entries = append(entries, engine.AuditEntry{Time: tm, Run: "r", Action: "add-members", Group: []string{"ga", "gb"}[i%2], Source: fmt.Sprintf("u%d", i), Outcome: "ok"})
	}
	// Written newest first: the store orders them.
	for i := len(entries) - 1; i >= 0; i-- {
		if err := s.AppendAudit(ctx, entries[i]); err != nil {
			t.Fatal(err)
		}
	}
	// Older than the retention window: not read.
	if err := s.AppendAudit(ctx, engine.AuditEntry{Time: clock.Now().Add(-8 * 24 * time.Hour), Action: "old", Outcome: "ok"}); err != nil {
		t.Fatal(err)
	}

	sources := func(q engine.AuditQuery) string {
		t.Helper()
		got, err := s.Audit(ctx, q)
		if err != nil {
			t.Fatalf("Audit(%+v): %v", q, err)
		}
		var out []string
		for _, e := range got {
			out = append(out, e.Source)
		}
		return fmt.Sprint(out)
	}
	for _, c := range []struct {
		q    engine.AuditQuery
		want string
	}{
		{engine.AuditQuery{}, "[u0 u1 u2 u3 u4]"},
		{engine.AuditQuery{Since: day1.Add(5 * time.Minute)}, "[u1 u2 u3 u4]"},
		{engine.AuditQuery{Since: times[2]}, "[u2 u3 u4]"},
		{engine.AuditQuery{Limit: 2}, "[u3 u4]"},
		{engine.AuditQuery{Limit: 4}, "[u1 u2 u3 u4]"},
		{engine.AuditQuery{Group: "ga"}, "[u0 u2 u4]"},
		{engine.AuditQuery{Group: "gb", Limit: 1}, "[u3]"},
		{engine.AuditQuery{Group: "gb", Since: times[2]}, "[u3]"},
		{engine.AuditQuery{Since: clock.Now().Add(time.Hour)}, "[]"},
	} {
		if got := sources(c.q); got != c.want {
			t.Errorf("Audit(%+v) = %s, want %s", c.q, got, c.want)
		}
	}
	// A day later, both days are still in the window and read.
	clock.Add(24 * time.Hour)
	if got := sources(engine.AuditQuery{}); got != "[u0 u1 u2 u3 u4]" {
		t.Errorf("a day later: %s", got)
	}

	// Two partitions, each item with its ttl = time + retention.
	for _, c := range []struct {
		day   string
		times []time.Time
	}{{"2026-03-01", times[:2]}, {"2026-03-02", times[2:]}} {
		out, err := db.Query(ctx, &dynamodb.QueryInput{
			TableName:                 aws.String(table),
			KeyConditionExpression:    aws.String("PK = :pk"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":pk": &types.AttributeValueMemberS{Value: "audit#" + c.day}},
			ConsistentRead:            aws.Bool(true),
		})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.Items) != len(c.times) {
			t.Fatalf("partition %s holds %d items, want %d", c.day, len(out.Items), len(c.times))
		}
		for i, item := range out.Items {
			ttl, ok := item["ttl"].(*types.AttributeValueMemberN)
			if !ok {
				t.Fatalf("partition %s item %d: no numeric ttl: %#v", c.day, i, item["ttl"])
			}
			if want := strconv.FormatInt(c.times[i].Add(retention).Unix(), 10); ttl.Value != want {
				t.Errorf("partition %s item %d: ttl %s, want %s", c.day, i, ttl.Value, want)
			}
		}
	}
}

// TestAuditBatches appends more entries than one BatchWriteItem takes.
func TestAuditBatches(t *testing.T) {
	clock := &fakeClock{now: time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)}
	s, _, _ := newStore(t, dynamostore.Options{Clock: clock})
	ctx := testContext(t)
	t0 := clock.Now().Add(-time.Hour)
	var entries []engine.AuditEntry
	for i := range 60 {
		// Pairs of equal times: all must be kept.
		entries = append(entries, engine.AuditEntry{Time: t0.Add(time.Duration(i/2) * time.Second), Action: "x", Source: fmt.Sprintf("u%02d", i), Outcome: "ok"})
	}
	if err := s.AppendAudit(ctx, entries...); err != nil {
		t.Fatal(err)
	}
	got, err := s.Audit(ctx, engine.AuditQuery{})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(entries) {
		t.Fatalf("read %d entries, want %d", len(got), len(entries))
	}
	seen := map[string]bool{}
	for i, e := range got {
		seen[e.Source] = true
		if i > 0 && e.Time.Before(got[i-1].Time) {
			t.Fatalf("entry %d (%s) is older than entry %d (%s)", i, e.Time, i-1, got[i-1].Time)
		}
	}
	if len(seen) != len(entries) {
		t.Fatalf("%d distinct entries, want %d", len(seen), len(entries))
	}
	// A zero time is stamped with the clock's.
	if err := s.AppendAudit(ctx, engine.AuditEntry{Action: "stamped", Outcome: "ok"}); err != nil {
		t.Fatal(err)
	}
	last, err := s.Audit(ctx, engine.AuditQuery{Limit: 1})
	if err != nil || len(last) != 1 || last[0].Action != "stamped" || !last[0].Time.Equal(clock.Now()) {
		t.Fatalf("stamped entry: %+v %v", last, err)
	}
}
