package queue

import "time"

// Clock tells the time; the queue stamps parked keys with it. Backoff delays
// run on real timers, so tests inject short backoffs rather than a clock.
type Clock interface{ Now() time.Time }

// systemClock is the wall clock.
type systemClock struct{}

// Now returns the current time.
func (systemClock) Now() time.Time { return time.Now() }
