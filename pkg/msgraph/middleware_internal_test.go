package msgraph

import (
	"fmt"
	"math"
	"testing"
	"time"

	khttp "github.com/microsoft/kiota-http-go"
	msgraphsdk "github.com/microsoftgraph/msgraph-sdk-go"
	msgraphcore "github.com/microsoftgraph/msgraph-sdk-go-core"
)

// TestMiddlewareHasNoKiotaRetry checks the pipeline is msgraph-sdk-go's
// default one minus kiota's RetryHandler, in a fixed order.
func TestMiddlewareHasNoKiotaRetry(t *testing.T) {
	opts := msgraphsdk.GetDefaultClientOptions()
	defaults := msgraphcore.GetDefaultMiddlewaresWithOptions(&opts)
	hadRetry := false
	for _, m := range defaults {
		if _, isRetry := m.(*khttp.RetryHandler); isRetry {
			hadRetry = true
		}
	}
	if !hadRetry {
		t.Fatal("the SDK's default middleware has no RetryHandler any more: revisit graphMiddlewares")
	}
	for range 5 { // kiota's order comes from a map: check several draws
		got := graphMiddlewares(&opts)
		if len(got) != len(defaults)-1 {
			t.Fatalf("middleware: %d, want the %d defaults minus the retry handler", len(got), len(defaults))
		}
		var names []string
		for _, m := range got {
			if _, isRetry := m.(*khttp.RetryHandler); isRetry {
				t.Fatal("kiota's RetryHandler is still in the pipeline")
			}
			names = append(names, fmt.Sprintf("%T", m))
		}
		want := []string{"*msgraphgocore.GraphTelemetryHandler", "*nethttplibrary.UrlReplaceHandler", "*nethttplibrary.UserAgentHandler",
			"*nethttplibrary.ParametersNameDecodingHandler", "*nethttplibrary.HeadersInspectionHandler", "*nethttplibrary.RedirectHandler", "*nethttplibrary.CompressionHandler"}
		if fmt.Sprint(names) != fmt.Sprint(want) {
			t.Fatalf("middleware order %v, want %v", names, want)
		}
	}
}

// TestNearLimitCountsTheRequestsInFlight: Graph's warning counts what
// reached it; the requests still in flight will take from what it has
// left, so the bucket keeps that less them (and no deeper debt than them).
func TestNearLimitCountsTheRequestsInFlight(t *testing.T) {
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	tests := []struct {
		name            string
		spent, inflight float64
		pct, wantTokens float64
	}{
		// 96 taken, 16 of them in flight: Graph saw 80 = 0.8 of 100, has 20
		// left, 16 of which the flight takes.
		{"burst overshoot", 96, 16, 0.8, 4},
		{"nothing in flight", 80, 0, 0.8, 20},
		{"at the limit with 5 in flight", 50, 5, 1.0, -5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := newBucket(PaceWrites, 10, 3000, clock, sleepCtx)
			b.tokens -= tt.spent
			b.inflight = tt.inflight
			b.nearLimit(now, tt.pct)
			if math.Abs(b.tokens-tt.wantTokens) > 1e-9 {
				t.Errorf("tokens: got %v, want %v", b.tokens, tt.wantTokens)
			}
		})
	}
}
