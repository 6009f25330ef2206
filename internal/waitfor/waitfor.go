// Package waitfor is the tests' one way to wait for a condition: poll it
// until it holds, and fail the test when it does not in time.
//
// A test waits for what it needs to see, never for a length of time: to
// prove that something did not happen, it waits for a state in which it can
// no longer happen (or uses testing/synctest), and does not sleep.
package waitfor

import (
	"testing"
	"time"
)

// tick is how often WaitFor polls its condition.
const tick = time.Millisecond

// WaitFor calls cond at once and then every millisecond until it
// returns true. When it has not after d, WaitFor fails the test with
// t.Fatalf("%s: not after %s", what, d), so it must be called from the
// test's goroutine; cond runs there too, so it may itself fail the test.
// what says what is awaited, e.g. "the subscriptions recreated".
func WaitFor(t testing.TB, d time.Duration, what string, cond func() bool) {
	t.Helper()
	if !Until(d, cond) {
		t.Fatalf("%s: not after %s", what, d)
	}
}

// Until is WaitFor without a test to fail: it reports whether cond held
// within d. Use it from a goroutine other than the test's, and report a
// false with t.Errorf.
func Until(d time.Duration, cond func() bool) bool {
	if cond() {
		return true
	}
	ticker := time.NewTicker(tick)
	defer ticker.Stop()
	deadline := time.NewTimer(d)
	defer deadline.Stop()
	for {
		select {
		case <-ticker.C:
			if cond() {
				return true
			}
		case <-deadline.C:
			return cond() // a last look: the deadline may have beaten a tick
		}
	}
}
