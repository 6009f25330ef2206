package msgraph_test

import (
	"errors"
	"fmt"
	"github.com/xtsync/xtsync/internal/testlog"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/microsoftgraph/msgraph-sdk-go/models/odataerrors"

	"github.com/xtsync/xtsync/pkg/graphemu"
	"github.com/xtsync/xtsync/pkg/msgraph"
)

// testLogger routes logs to t.Log.
func testLogger(t *testing.T) *slog.Logger { return testlog.New(t, slog.LevelDebug) }

// startEmulator starts an in-process emulator holding the sample tenants.
func startEmulator(t *testing.T) *graphemu.Emulator {
	t.Helper()
	em := graphemu.New(graphemu.Options{Logger: testLogger(t)})
	if err := em.Load(graphemu.SampleSeed()); err != nil {
		t.Fatal(err)
	}
	if err := em.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := em.Close(); err != nil {
			t.Errorf("emulator close: %v", err)
		}
	})
	return em
}

// sourceConfig is the sample source tenant's configuration against em:
// only the endpoints and the CA trust differ from a real tenant's.
func sourceConfig(em *graphemu.Emulator) msgraph.Config {
	return msgraph.Config{
		TenantID:      graphemu.SampleSourceTenant,
		ClientID:      graphemu.SampleSourceClientID,
		ClientSecret:  graphemu.SampleSourceSecret,
		GraphEndpoint: em.URL(),
		AuthorityHost: em.URL(),
		HTTPClient:    em.HTTPClient(),
	}
}

// newClient builds a client from cfg or fails the test.
func newClient(t *testing.T, cfg msgraph.Config) *msgraph.Client {
	t.Helper()
	c, err := msgraph.New(cfg, testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.HTTPClient != nil {
		// Runs before the emulator's Close (cleanups run last first):
		// without open HTTP/2 connections its shutdown is immediate.
		t.Cleanup(cfg.HTTPClient.CloseIdleConnections)
	}
	return c
}

// sampleUserID is the id of the sample source user with this mail nickname
// (first name + surname initial, e.g. "adelev").
func sampleUserID(t *testing.T, em *graphemu.Emulator, nick string) string {
	t.Helper()
	for _, u := range em.Users(graphemu.SampleSourceTenant) {
		if u.UserPrincipalName == nick+"@"+graphemu.SampleSourceDomain {
			return u.ID
		}
	}
	t.Fatalf("no sample user %s", nick)
	return ""
}

// sampleGroup returns the sample source group with this display name.
func sampleGroup(t *testing.T, em *graphemu.Emulator, name string) graphemu.Group {
	t.Helper()
	for _, g := range em.Groups(graphemu.SampleSourceTenant) {
		if g.DisplayName == name {
			return g
		}
	}
	t.Fatalf("no sample group %q", name)
	return graphemu.Group{}
}

// createUsers adds n users to the source tenant and returns their ids.
func createUsers(t *testing.T, em *graphemu.Emulator, prefix string, n int) []string {
	t.Helper()
	ids := make([]string, 0, n)
	for i := range n {
		u, err := em.CreateUser(graphemu.SampleSourceTenant, graphemu.User{
			UserPrincipalName: fmt.Sprintf("%s%04d@%s", prefix, i, graphemu.SampleSourceDomain),
			AccountEnabled:    true,
		})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, u.ID)
	}
	return ids
}

// odataError unwraps a Graph error answer, failing the test for anything
// else.
func odataError(t *testing.T, err error) *odataerrors.ODataError {
	t.Helper()
	var oe *odataerrors.ODataError
	if !errors.As(err, &oe) {
		t.Fatalf("want an ODataError, got %T: %v", err, err)
	}
	return oe
}

// errCode and errMessage read an ODataError's code and message.
func errCode(oe *odataerrors.ODataError) string {
	if e := oe.GetErrorEscaped(); e != nil && e.GetCode() != nil {
		return *e.GetCode()
	}
	return ""
}

func errMessage(oe *odataerrors.ODataError) string {
	if e := oe.GetErrorEscaped(); e != nil && e.GetMessage() != nil {
		return *e.GetMessage()
	}
	return ""
}

// recorder is an http.RoundTripper that notes, per request, the host and
// whether it carried a bearer token.
type recorder struct {
	next http.RoundTripper
	mu   sync.Mutex
	seen []sent
}

type sent struct {
	method, host, path string
	bearer             bool
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	r.mu.Lock()
	r.seen = append(r.seen, sent{req.Method, req.URL.Host, req.URL.Path, strings.HasPrefix(req.Header.Get("Authorization"), "Bearer ")})
	r.mu.Unlock()
	return r.next.RoundTrip(req)
}

func (r *recorder) requests() []sent {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]sent(nil), r.seen...)
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

// CloseIdleConnections passes on to the wrapped transport.
func (r *recorder) CloseIdleConnections() {
	if c, ok := r.next.(interface{ CloseIdleConnections() }); ok {
		c.CloseIdleConnections()
	}
}
