package msgraph_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/xtsync/xtsync/pkg/engine"
	"github.com/xtsync/xtsync/pkg/msgraph"
)

// TestSignInErrorsNameTheKey: a refused sign-in is one line naming the
// configuration key to fix and Entra's code, never the secret, instead of
// azidentity's dump of the whole answer.
func TestSignInErrorsNameTheKey(t *testing.T) {
	em := startEmulator(t)
	tests := []struct {
		name     string
		tweak    func(*msgraph.Config)
		wantCode int
		want     string
	}{
		{"wrong secret", func(c *msgraph.Config) { c.ClientSecret = "not-the-secret" }, 7000215, "source.client_secret: the tenant refused the client secret"},
		{"unknown app", func(c *msgraph.Config) { c.ClientID = "11111111-2222-4333-8444-555555555555" }, 700016, "source.client_id: no application 11111111-2222-4333-8444-555555555555"},
		{"unknown tenant", func(c *msgraph.Config) { c.TenantID = "99999999-8888-4777-8666-555555555555" }, 90002, "source.tenant_id: tenant 99999999-8888-4777-8666-555555555555 was not found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := sourceConfig(em)
			cfg.Section = "source"
			tt.tweak(&cfg)
			c := newClient(t, cfg)
			_, err := msgraph.NewSource(c, msgraph.SchemaOf(engine.Options{})).Groups(context.Background(), []string{sampleGroup(t, em, "Engineering").ID})
			var se *msgraph.SignInError
			if !errors.As(err, &se) || se.Code != tt.wantCode {
				t.Fatalf("got %v, want a SignInError with AADSTS%d", err, tt.wantCode)
			}
			msg := err.Error()
			if !strings.Contains(msg, tt.want) || strings.Contains(msg, "\n") || strings.Contains(msg, cfg.ClientSecret) {
				t.Errorf("error %q: want one line naming %q, without the secret", msg, tt.want)
			}
		})
	}
}

// TestEndpointErrorsNameTheKey: an untrusted certificate at sign-in names
// authority_host and ca_file; a Graph host that does not answer names
// graph_endpoint.
func TestEndpointErrorsNameTheKey(t *testing.T) {
	em := startEmulator(t)
	untrusted := sourceConfig(em)
	untrusted.Section = "source"
	untrusted.HTTPClient = &http.Client{} // the system roots: not the emulator's CA
	refused := sourceConfig(em)
	refused.Section = "source"
	refused.GraphEndpoint = "https://127.0.0.1:1"
	refused.Retry = msgraph.RetryPolicy{MaxAttempts: 1}
	for _, tt := range []struct {
		name string
		cfg  msgraph.Config
		want []string
	}{
		{"untrusted certificate", untrusted, []string{"source.authority_host", "source.ca_file", "TLS certificate"}},
		{"refused", refused, []string{"source.graph_endpoint: cannot reach 127.0.0.1:1"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := newClient(t, tt.cfg)
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			_, err := msgraph.NewSource(c, msgraph.SchemaOf(engine.Options{})).Groups(ctx, []string{"3f0a3c1e-6d2b-4f7a-9a51-0c8e2b7d4a10"})
			for _, w := range tt.want {
				if err == nil || !strings.Contains(err.Error(), w) {
					t.Errorf("error %v: want it to name %q", err, w)
				}
			}
		})
	}
}
