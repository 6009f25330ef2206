package memqueue

import (
	"math/rand/v2"
	"time"
)

// Default backoff bounds.
const (
	backoffBase    = time.Second
	backoffCeiling = time.Minute
)

// DefaultBackoff is the delay before retry attempt (1-based): exponential
// from 1 s (1 s, 2 s, 4 s, ...) capped at 1 min, with equal jitter, so the
// result lies between half and all of that step.
func DefaultBackoff(attempt int) time.Duration {
	attempt = max(attempt, 1)
	step := backoffCeiling
	if attempt <= 7 { // 1 s << 6 = 64 s is already past the ceiling
		step = min(backoffBase<<(attempt-1), backoffCeiling)
	}
	half := step / 2
	return half + rand.N(step-half+1)
}
