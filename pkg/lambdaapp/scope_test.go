package lambdaapp

import (
	"context"
	"errors"
	"log/slog"
	"testing"

	"github.com/xtsync/xtsync/pkg/config"
)

// TestLazyScope checks that InScope loads the configuration under the
// caller's context (bounded) and caches it, and that ShardOf never loads.
func TestLazyScope(t *testing.T) {
	const group = "02bd9fd6-8f93-4758-87c3-1fb73740a315"
	type key struct{}
	loads := 0
	l := &lazyScope{log: slog.New(slog.DiscardHandler), load: func(ctx context.Context) (*config.Config, error) {
		loads++
		if ctx.Value(key{}) != "request" {
			t.Error("load did not get the caller's context")
		}
		if _, ok := ctx.Deadline(); !ok {
			t.Error("load has no deadline")
		}
		return &config.Config{Scope: config.Scope{Groups: []string{group}}}, nil
	}}
	if got := l.ShardOf(group); got != "" || loads != 0 {
		t.Fatalf("ShardOf before InScope = %q after %d loads, want \"\" and no load", got, loads)
	}
	ctx := context.WithValue(t.Context(), key{}, "request")
	if !l.InScope(ctx, group) {
		t.Fatal("scoped group not in scope")
	}
	if l.InScope(ctx, "c0ffee00-1111-4222-8333-444455556666") {
		t.Fatal("unscoped group in scope")
	}
	if got := l.ShardOf(group); got == "" {
		t.Fatal("ShardOf after InScope is empty")
	}
	if loads != 1 {
		t.Fatalf("%d loads, want 1", loads)
	}
}

// TestLazyScopeCancelled checks that a load under a done context fails
// closed (nothing is in scope, nothing is cached) and does not hold off the
// next request: only a failure of the load itself waits before a retry.
func TestLazyScopeCancelled(t *testing.T) {
	l := &lazyScope{log: slog.New(slog.DiscardHandler), load: func(ctx context.Context) (*config.Config, error) {
		return nil, ctx.Err()
	}}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if l.InScope(ctx, "02bd9fd6-8f93-4758-87c3-1fb73740a315") {
		t.Fatal("in scope without a configuration")
	}
	if l.sharding != nil || !l.tried.IsZero() {
		t.Fatal("a load the caller cancelled was cached, or holds off the next request")
	}
	l.load = func(context.Context) (*config.Config, error) { return nil, errors.New("ssm: access denied") }
	if l.InScope(t.Context(), "02bd9fd6-8f93-4758-87c3-1fb73740a315") || l.tried.IsZero() {
		t.Fatal("a failed load must be recorded as tried (so that it waits before the next)")
	}
}
