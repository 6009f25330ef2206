package memqueue_test

import (
	"testing"
	"time"

	"github.com/xtsync/xtsync/pkg/memqueue"
)

func TestDefaultBackoff(t *testing.T) {
	tests := []struct {
		attempt int
		lo, hi  time.Duration
	}{
		{attempt: 0, lo: 500 * time.Millisecond, hi: time.Second},
		{attempt: 1, lo: 500 * time.Millisecond, hi: time.Second},
		{attempt: 2, lo: time.Second, hi: 2 * time.Second},
		{attempt: 3, lo: 2 * time.Second, hi: 4 * time.Second},
		{attempt: 6, lo: 16 * time.Second, hi: 32 * time.Second},
		{attempt: 7, lo: 30 * time.Second, hi: time.Minute},
		{attempt: 64, lo: 30 * time.Second, hi: time.Minute},
		{attempt: 1 << 30, lo: 30 * time.Second, hi: time.Minute},
	}
	for _, tt := range tests {
		seen := map[time.Duration]bool{}
		for range 200 {
			d := memqueue.DefaultBackoff(tt.attempt)
			if d < tt.lo || d > tt.hi {
				t.Errorf("DefaultBackoff(%d) = %v, want in [%v, %v]", tt.attempt, d, tt.lo, tt.hi)
			}
			seen[d] = true
		}
		if len(seen) < 2 {
			t.Errorf("DefaultBackoff(%d) always %v, want jitter", tt.attempt, seen)
		}
	}
}
