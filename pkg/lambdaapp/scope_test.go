package lambdaapp

import (
	"context"
	"errors"
	"log/slog"
	"testing"

	"github.com/xtsync/xtsync/pkg/config"
)

// TestScope checks that the webhook function's scope loads the
// configuration on first use, under the caller's context, once.
func TestScope(t *testing.T) {
	const group = "02bd9fd6-8f93-4758-87c3-1fb73740a315"
	type key struct{}
	loads := 0
	sc := newScope(func(ctx context.Context) (*config.Config, error) {
		loads++
		if ctx.Value(key{}) != "request" {
			t.Error("load did not get the caller's context")
		}
		return &config.Config{Scope: config.Scope{Groups: []string{group}}}, nil
	}, slog.New(slog.DiscardHandler))
	ctx := context.WithValue(t.Context(), key{}, "request")
	if sc.ShardOf(ctx, group) == "" {
		t.Fatal("scoped group not in scope")
	}
	if got := sc.ShardOf(ctx, "c0ffee00-1111-4222-8333-444455556666"); got != "" {
		t.Fatalf("unscoped group in shard %q", got)
	}
	if loads != 1 {
		t.Fatalf("%d loads, want 1", loads)
	}
}

// TestScopeUnloadable checks that nothing is in scope while the
// configuration cannot be loaded.
func TestScopeUnloadable(t *testing.T) {
	sc := newScope(func(context.Context) (*config.Config, error) { return nil, errors.New("ssm: access denied") }, slog.New(slog.DiscardHandler))
	if got := sc.ShardOf(t.Context(), "02bd9fd6-8f93-4758-87c3-1fb73740a315"); got != "" {
		t.Fatalf("in shard %q without a configuration", got)
	}
}
