package sqsqueue_test

import (
	"errors"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/xtsync/xtsync/pkg/sqsqueue"
	"github.com/xtsync/xtsync/pkg/task"
)

// workKeys returns keys of every kind of task.
func workKeys() []string {
	sub := "7f3c1d2e-4b5a-4c6d-8e9f-0a1b2c3d4e5f"
	var out []string
	for _, t := range []task.Task{
		task.Of(task.Delta, "0123456789abcdef"), task.Of(task.SyncShard, "0123456789abcdef"), task.Of(task.SyncUnscoped, ""),
		task.Of(task.Users, ""), task.Of(task.Reconcile, ""), task.Of(task.Subscriptions, ""),
		task.Of(task.Renew, sub), task.Of(task.Recreate, sub),
	} {
		out = append(out, t.Key())
	}
	return out
}

func TestEncodeDecodeRoundTrip(t *testing.T) {
	for _, key := range workKeys() {
		body, err := sqsqueue.Encode(key)
		if err != nil {
			t.Fatalf("Encode(%q): %v", key, err)
		}
		if want := `{"v":1,"key":"` + key + `"}`; body != want {
			t.Errorf("Encode(%q) = %s, want %s", key, body, want)
		}
		got, err := sqsqueue.Decode(body)
		if err != nil || got != key {
			t.Errorf("Decode(%s) = %q, %v; want %q", body, got, err, key)
		}
	}
}

func TestDecodeRejects(t *testing.T) {
	for _, tc := range []struct{ name, body string }{
		{"empty", ``},
		{"not JSON", `shard:abc`},
		{"JSON string", `"shard:abc"`},
		{"array", `[1,"shard:abc"]`},
		{"null", `null`},
		{"no version", `{"key":"shard:abc"}`},
		{"version 0", `{"v":0,"key":"shard:abc"}`},
		{"version 2", `{"v":2,"key":"shard:abc"}`},
		{"version as string", `{"v":"1","key":"shard:abc"}`},
		{"fractional version", `{"v":1.5,"key":"shard:abc"}`},
		{"no key", `{"v":1}`},
		{"empty key", `{"v":1,"key":""}`},
		{"key with space", `{"v":1,"key":"shard: abc"}`},
		{"key with non-ASCII", `{"v":1,"key":"shard:é"}`},
		{"key too long", `{"v":1,"key":"` + strings.Repeat("k", 129) + `"}`},
		{"key not a string", `{"v":1,"key":42}`},
		{"trailing data", `{"v":1,"key":"shard:abc"} {}`},
		{"truncated", `{"v":1,"key":"shard:abc"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			key, err := sqsqueue.Decode(tc.body)
			if !errors.Is(err, sqsqueue.ErrBadMessage) {
				t.Fatalf("Decode(%q) = %q, %v; want an error wrapping ErrBadMessage", tc.body, key, err)
			}
			if key != "" {
				t.Errorf("Decode(%q) returned key %q with its error", tc.body, key)
			}
		})
	}
}

func TestDecodeIgnoresUnknownFields(t *testing.T) {
	key, err := sqsqueue.Decode(`{"v":1,"key":"reconcile","by":"webhook"}`)
	if err != nil || key != "reconcile" {
		t.Fatalf("Decode = %q, %v; want reconcile", key, err)
	}
}

func TestEncodeRejectsBadKeys(t *testing.T) {
	for _, key := range []string{"", "shard: x", "shard:\n", "shard:é", strings.Repeat("k", 129)} {
		if body, err := sqsqueue.Encode(key); !errors.Is(err, sqsqueue.ErrBadKey) {
			t.Errorf("Encode(%q) = %q, %v; want ErrBadKey", key, body, err)
		}
	}
	long := strings.Repeat("k", 128)
	if _, err := sqsqueue.Encode(long); err != nil {
		t.Errorf("Encode of a 128-character key: %v", err)
	}
}

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
