package sqsqueue_test

import (
	"regexp"
	"testing"
	"time"

	"github.com/xtsync/xtsync/pkg/sqsqueue"
)

func TestDeduplicationID(t *testing.T) {
	const key = "shard:0123456789abcdef"
	id := sqsqueue.DeduplicationID(key, baseTime(), time.Second)
	if !regexp.MustCompile(`^[0-9a-f]{64}$`).MatchString(id) {
		t.Fatalf("DeduplicationID = %q, want 64 hex digits (SHA-256)", id)
	}
	same := []time.Time{baseTime().Add(-100 * time.Millisecond), baseTime().Add(800 * time.Millisecond), baseTime().Add(899 * time.Millisecond)}
	for _, at := range same {
		if got := sqsqueue.DeduplicationID(key, at, time.Second); got != id {
			t.Errorf("at %v (same second): id %s, want %s", at.Sub(baseTime()), got, id)
		}
	}
	differ := map[string]string{
		"one second later":   sqsqueue.DeduplicationID(key, baseTime().Add(time.Second), time.Second),
		"one second earlier": sqsqueue.DeduplicationID(key, baseTime().Add(-time.Second), time.Second),
		"another key":        sqsqueue.DeduplicationID("shard:fedcba9876543210", baseTime(), time.Second),
		"reconcile":          sqsqueue.DeduplicationID("reconcile", baseTime(), time.Second),
	}
	seen := map[string]string{id: "base"}
	for name, got := range differ {
		if prev, ok := seen[got]; ok {
			t.Errorf("%s: id %s equals that of %s", name, got, prev)
		}
		seen[got] = name
	}
	// The bucket is the calendar second, not a second from the first enqueue.
	if a, b := sqsqueue.DeduplicationID(key, baseTime().Add(900*time.Millisecond), time.Second), differ["one second later"]; a != b {
		t.Errorf("+900 ms and +1 s (both in the next second) got different ids")
	}
	// A wider window puts more enqueues in one bucket.
	w := 10 * time.Second
	start := time.Unix(1_800_000_000, 0)
	if a, b := sqsqueue.DeduplicationID(key, start.Add(time.Second), w), sqsqueue.DeduplicationID(key, start.Add(9*time.Second), w); a != b {
		t.Errorf("10 s window: +1 s and +9 s got different ids")
	}
	if a, b := sqsqueue.DeduplicationID(key, start.Add(9*time.Second), w), sqsqueue.DeduplicationID(key, start.Add(10*time.Second), w); a == b {
		t.Errorf("10 s window: +9 s and +10 s got the same id")
	}
}
