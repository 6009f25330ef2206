package msgraph

import (
	"fmt"
	"testing"

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
