package dynamostore_test

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/xtsync/xtsync/pkg/dynamostore"
)

func TestLeaseRaceOneWins(t *testing.T) {
	s, _, _ := newStore(t, dynamostore.Options{})
	ctx := testContext(t)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var winners []string
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			owner := fmt.Sprintf("owner-%d", i)
			ok, err := s.AcquireLease(ctx, "reconcile", owner, time.Minute)
			if err != nil {
				t.Error(err)
				return
			}
			if ok {
				mu.Lock()
				winners = append(winners, owner)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if len(winners) != 1 {
		t.Fatalf("winners %v, want exactly one", winners)
	}
	// The winner holds it: nobody else gets it, the winner renews.
	if ok, err := s.AcquireLease(ctx, "reconcile", "late", time.Minute); err != nil || ok {
		t.Fatalf("late acquirer: %v %v, want false", ok, err)
	}
	if ok, err := s.AcquireLease(ctx, "reconcile", winners[0], time.Minute); err != nil || !ok {
		t.Fatalf("winner renewing: %v %v, want true", ok, err)
	}
	// Leases of other names are independent.
	if ok, err := s.AcquireLease(ctx, "other", "late", time.Minute); err != nil || !ok {
		t.Fatalf("another lease: %v %v, want true", ok, err)
	}
}

func TestLeaseExpiryAndRenewal(t *testing.T) {
	clock := &fakeClock{now: time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)}
	s, _, _ := newStore(t, dynamostore.Options{Clock: clock})
	ctx := testContext(t)
	acquire := func(owner string, want bool) {
		t.Helper()
		ok, err := s.AcquireLease(ctx, "reconcile", owner, time.Minute)
		if err != nil || ok != want {
			t.Fatalf("at %s %s acquires: %v %v, want %v", clock.Now().Format(time.TimeOnly), owner, ok, err, want)
		}
	}
	acquire("a", true) // until 12:01:00
	clock.Add(50 * time.Second)
	acquire("b", false)
	acquire("a", true) // renewal: until 12:01:50
	clock.Add(30 * time.Second)
	acquire("b", false) // 12:01:20: expired without the renewal, held with it
	clock.Add(31 * time.Second)
	acquire("b", true) // 12:01:51: expired, b takes over
	acquire("a", false)
}

func TestLeaseReleaseOnlyByOwner(t *testing.T) {
	s, _, _ := newStore(t, dynamostore.Options{})
	ctx := testContext(t)
	if ok, err := s.AcquireLease(ctx, "reconcile", "a", time.Hour); err != nil || !ok {
		t.Fatalf("a acquires: %v %v", ok, err)
	}
	if err := s.ReleaseLease(ctx, "reconcile", "b"); err != nil {
		t.Fatalf("release by a non-owner must be a no-op: %v", err)
	}
	if ok, err := s.AcquireLease(ctx, "reconcile", "c", time.Hour); err != nil || ok {
		t.Fatalf("after a non-owner's release, c acquires: %v %v, want false", ok, err)
	}
	if err := s.ReleaseLease(ctx, "reconcile", "a"); err != nil {
		t.Fatalf("release by the owner: %v", err)
	}
	if ok, err := s.AcquireLease(ctx, "reconcile", "c", time.Hour); err != nil || !ok {
		t.Fatalf("after the owner's release, c acquires: %v %v, want true", ok, err)
	}
	if err := s.ReleaseLease(ctx, "absent", "a"); err != nil {
		t.Fatalf("release of an absent lease: %v", err)
	}
}

func TestLeaseRejectsBadArguments(t *testing.T) {
	s, _, _ := newStore(t, dynamostore.Options{})
	ctx := testContext(t)
	for _, c := range []struct {
		name, owner string
		ttl         time.Duration
	}{{"", "a", time.Minute}, {"l", "", time.Minute}, {"l", "a", 0}} {
		if ok, err := s.AcquireLease(ctx, c.name, c.owner, c.ttl); err == nil || ok {
			t.Errorf("AcquireLease(%q, %q, %v): %v %v, want an error", c.name, c.owner, c.ttl, ok, err)
		}
	}
}
