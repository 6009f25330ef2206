package dynamostore_test

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/xtsync/xtsync/pkg/dynamostore"
)

func TestOnce(t *testing.T) {
	clock := &fakeClock{now: time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)}
	s, _, _ := newStore(t, dynamostore.Options{Clock: clock})
	ctx := testContext(t)
	once := func(key string, want bool) {
		t.Helper()
		first, err := s.Once(ctx, key, time.Hour)
		if err != nil || first != want {
			t.Fatalf("Once(%s): %v %v, want %v", key, first, err, want)
		}
	}
	once("msg-1", true)
	once("msg-1", false)
	once("msg-2", true)
	clock.Add(59 * time.Minute)
	once("msg-1", false)
	// Expired but not yet deleted by DynamoDB's TTL: counts as absent.
	clock.Add(2 * time.Minute)
	once("msg-1", true)
	once("msg-1", false)

	var wg sync.WaitGroup
	var firsts atomic.Int32
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			first, err := s.Once(ctx, "msg-race", time.Hour)
			if err != nil {
				t.Error(err)
			}
			if first {
				firsts.Add(1)
			}
		}()
	}
	wg.Wait()
	if n := firsts.Load(); n != 1 {
		t.Fatalf("concurrent Once: %d firsts, want 1", n)
	}
	if _, err := s.Once(ctx, "msg-3", 0); err == nil {
		t.Fatal("Once with a zero ttl must fail")
	}
}
