package lambdahttp_test

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/xtsync/xtsync/pkg/engine"
	"github.com/xtsync/xtsync/pkg/lambdahttp"
	"github.com/xtsync/xtsync/pkg/webhook"
)

// The fixture of the sample events in events/ (see events/README.md).
const (
	sampleTenant       = "6f1c2b9e-3d4a-4c8e-9b1f-2a7d5e8c0b31"
	sampleSubscription = "8d3e6f2a-4b1c-4e7d-a9f0-3c5b7e1d2a64"
	sampleClientState  = "xtsync-sample-client-state-0c9f2e"
	sampleGroup        = "2b7c9e41-6d3a-4f8b-8c1e-5a0d9f3b7e26"
	sampleToken        = "Validation: Testing client application reachability for subscription Request-Id: 5d2e8f1a-3c7b-4d9e-a2f6-1b8c4e0d7a53"
	publicPrefix       = "/xtsync"
)

// sampleSubs knows the sample subscription.
type sampleSubs struct{}

func (sampleSubs) Lookup(_ context.Context, id string) (engine.Subscription, bool) {
	if id == sampleSubscription {
		return engine.Subscription{ClientState: sampleClientState, TenantID: sampleTenant}, true
	}
	return engine.Subscription{}, false
}

// recSink records what the webhook accepts.
type recSink struct {
	mu        sync.Mutex
	changed   [][]string
	lifecycle [][2]string
}

func (s *recSink) Changed(_ context.Context, ids []string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.changed = append(s.changed, slices.Clone(ids))
	return nil
}

func (s *recSink) UsersChanged(context.Context, []string) error { return nil }

func (s *recSink) MirrorsChanged(context.Context, []string) error     { return nil }
func (s *recSink) TargetUsersChanged(context.Context, []string) error { return nil }

func (s *recSink) Lifecycle(_ context.Context, sub, event string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.lifecycle = append(s.lifecycle, [2]string{sub, event})
	return nil
}

// newWebhook returns pkg/webhook's handler mounted under the public prefix,
// as the webhook function mounts it, and its sink.
func newWebhook(t *testing.T) (http.Handler, *recSink) {
	t.Helper()
	log, _ := newTestLog(t)
	sink := &recSink{}
	h, err := webhook.New(webhook.Config{
		Lookup:  sampleSubs{},
		InScope: func(_ context.Context, g string) bool { return g == sampleGroup },
		Sink:    sink,
		Log:     log,
	})
	if err != nil {
		t.Fatal(err)
	}
	return http.StripPrefix(publicPrefix, h), sink
}

// loadEvent decodes events/<name> into v.
func loadEvent(t *testing.T, name string, v any) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "events", name))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
}

// TestSampleEvents runs the sample HTTP events through Adapter.ServeV2 into
// the real webhook handler. The Function URL event is read as the webhook
// function reads it, as an API Gateway HTTP API event: the format is the
// same.
func TestSampleEvents(t *testing.T) {
	wantChange := [][]string{{sampleGroup}}
	cases := []struct {
		file          string
		status        int
		body          string
		contentType   string
		wantChanged   [][]string
		wantLifecycle [][2]string
	}{
		{file: "apigw-v2-validation.json", status: 200, body: sampleToken, contentType: "text/plain; charset=utf-8"},
		{file: "apigw-v2-notification.json", status: 202, wantChanged: wantChange},
		{file: "function-url-notification.json", status: 202, wantChanged: wantChange},
		{file: "apigw-v2-lifecycle.json", status: 202, wantLifecycle: [][2]string{{sampleSubscription, webhook.EventReauthorizationRequired}}},
	}
	for _, c := range cases {
		t.Run(c.file, func(t *testing.T) {
			h, sink := newWebhook(t)
			log, _ := newTestLog(t)
			var ev events.APIGatewayV2HTTPRequest
			loadEvent(t, c.file, &ev)
			checkParsed(t, ev.RequestContext.HTTP.Method, ev.RawPath, ev.RequestContext.HTTP.SourceIP, ev.Headers)
			if ev.Version != "2.0" || ev.RequestContext.Stage != "$default" {
				t.Errorf("version %q stage %q, want 2.0 and $default", ev.Version, ev.RequestContext.Stage)
			}
			a := lambdahttp.Adapter{Handler: h, Log: log}
			resp, err := a.ServeV2(t.Context(), ev)
			if err != nil {
				t.Fatal(err)
			}
			status, headers, body, isBase64 := resp.StatusCode, resp.Headers, resp.Body, resp.IsBase64Encoded
			if status != c.status {
				t.Errorf("status %d, want %d (body %q)", status, c.status, body)
			}
			if body != c.body || isBase64 {
				t.Errorf("body %q (base64 %v), want %q", body, isBase64, c.body)
			}
			if c.contentType != "" && headers["Content-Type"] != c.contentType {
				t.Errorf("Content-Type %q, want %q", headers["Content-Type"], c.contentType)
			}
			sink.mu.Lock()
			defer sink.mu.Unlock()
			if !slices.EqualFunc(sink.changed, c.wantChanged, slices.Equal) {
				t.Errorf("Sink.Changed calls %q, want %q", sink.changed, c.wantChanged)
			}
			if !slices.Equal(sink.lifecycle, c.wantLifecycle) {
				t.Errorf("Sink.Lifecycle calls %q, want %q", sink.lifecycle, c.wantLifecycle)
			}
		})
	}
}

// checkParsed checks that aws-lambda-go's type read the fields the adapter
// uses.
func checkParsed(t *testing.T, method, rawPath, sourceIP string, headers map[string]string) {
	t.Helper()
	if method != http.MethodPost || rawPath == "" || sourceIP == "" || headers["content-type"] == "" || headers["host"] == "" {
		t.Errorf("event parsed as method %q, rawPath %q, sourceIp %q, headers %q", method, rawPath, sourceIP, headers)
	}
}
