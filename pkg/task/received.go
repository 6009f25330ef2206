package task

import (
	"context"
	"time"
)

// Received is what a queue knows of the changes a task's run covers: when
// the oldest was queued, and how many were (coalesced into the run).
type Received struct {
	At time.Time
	N  int
}

type receivedKey struct{}

// WithReceived returns ctx carrying r, for the run of a task.
func WithReceived(ctx context.Context, r Received) context.Context {
	return context.WithValue(ctx, receivedKey{}, r)
}

// ReceivedFrom returns what the queue put in ctx with WithReceived.
func ReceivedFrom(ctx context.Context) (Received, bool) {
	r, ok := ctx.Value(receivedKey{}).(Received)
	return r, ok && r.N > 0
}
