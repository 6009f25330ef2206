package lambdahttp_test

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-lambda-go/events"
)

// testLog keeps what was logged, for assertions, and echoes each line to
// t.Log.
type testLog struct {
	t  testing.TB
	mu sync.Mutex
	b  strings.Builder
}

// newTestLog returns a logger writing to t.Log and the log it keeps.
func newTestLog(t testing.TB) (*slog.Logger, *testLog) {
	l := &testLog{t: t}
	return slog.New(slog.NewTextHandler(l, &slog.HandlerOptions{Level: slog.LevelDebug})), l
}

func (l *testLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	l.b.Write(p)
	l.mu.Unlock()
	l.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

func (l *testLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// evOpt changes a test event.
type evOpt func(*events.APIGatewayV2HTTPRequest)

// v2Event returns an API Gateway HTTP API event on the $default stage.
func v2Event(method, rawPath, rawQuery string, opts ...evOpt) events.APIGatewayV2HTTPRequest {
	ev := events.APIGatewayV2HTTPRequest{
		Version:        "2.0",
		RouteKey:       "$default",
		RawPath:        rawPath,
		RawQueryString: rawQuery,
		Headers: map[string]string{
			"host":              "api.example.test",
			"x-forwarded-proto": "https",
		},
		RequestContext: events.APIGatewayV2HTTPRequestContext{
			RouteKey:   "$default",
			Stage:      "$default",
			DomainName: "api.example.test",
			HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{
				Method:   method,
				Path:     rawPath,
				Protocol: "HTTP/1.1",
				SourceIP: "198.51.100.7",
			},
		},
	}
	for _, o := range opts {
		o(&ev)
	}
	return ev
}

func withStage(stage string) evOpt {
	return func(ev *events.APIGatewayV2HTTPRequest) { ev.RequestContext.Stage = stage }
}

func withBody(body string, isBase64 bool) evOpt {
	return func(ev *events.APIGatewayV2HTTPRequest) { ev.Body, ev.IsBase64Encoded = body, isBase64 }
}

func withHeader(k, v string) evOpt {
	return func(ev *events.APIGatewayV2HTTPRequest) { ev.Headers[k] = v }
}

func withoutHeader(k string) evOpt {
	return func(ev *events.APIGatewayV2HTTPRequest) { delete(ev.Headers, k) }
}

func withCookies(c ...string) evOpt {
	return func(ev *events.APIGatewayV2HTTPRequest) { ev.Cookies = c }
}

func withSourceIP(ip string) evOpt {
	return func(ev *events.APIGatewayV2HTTPRequest) { ev.RequestContext.HTTP.SourceIP = ip }
}

func withProtocol(p string) evOpt {
	return func(ev *events.APIGatewayV2HTTPRequest) { ev.RequestContext.HTTP.Protocol = p }
}

// ctxKey marks a context value the handler must see.
type ctxKey struct{}

// testContext returns a context carrying a value under ctxKey.
func testContext(t *testing.T) context.Context {
	return context.WithValue(t.Context(), ctxKey{}, t.Name())
}
