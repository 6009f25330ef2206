package graphemu_test

import (
	"bytes"
	"encoding/json"
	"github.com/xtsync/xtsync/internal/testlog"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/xtsync/xtsync/pkg/graphemu"
)

// testLogger routes logs to t.Log.
func testLogger(t *testing.T) *slog.Logger { return testlog.New(t, slog.LevelDebug) }

// startSample starts an emulator holding the sample tenants.
func startSample(t *testing.T, opts graphemu.Options) *graphemu.Emulator {
	t.Helper()
	if opts.Logger == nil {
		opts.Logger = testLogger(t)
	}
	em := graphemu.New(opts)
	if err := em.Load(graphemu.SampleSeed()); err != nil {
		t.Fatal(err)
	}
	if err := em.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { em.Close() })
	return em
}

// client is a raw HTTP Graph client signed in to one tenant.
type client struct {
	t     *testing.T
	em    *graphemu.Emulator
	http  *http.Client
	token string
}

func signIn(t *testing.T, em *graphemu.Emulator, tenant, clientID, secret string) *client {
	t.Helper()
	hc := em.HTTPClient()
	t.Cleanup(hc.CloseIdleConnections) // before em.Close, so it need not wait for them
	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {clientID}, "client_secret": {secret}, "scope": {"https://graph.microsoft.com/.default"}}
	resp, err := hc.PostForm(em.URL()+"/"+tenant+"/oauth2/v2.0/token", form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&tok); err != nil || resp.StatusCode != 200 {
		t.Fatalf("token: status %d err %v", resp.StatusCode, err)
	}
	return &client{t: t, em: em, http: hc, token: tok.AccessToken}
}

func sourceClient(t *testing.T, em *graphemu.Emulator) *client {
	return signIn(t, em, graphemu.SampleSourceTenant, graphemu.SampleSourceClientID, graphemu.SampleSourceSecret)
}

func targetClient(t *testing.T, em *graphemu.Emulator) *client {
	return signIn(t, em, graphemu.SampleTargetTenant, graphemu.SampleTargetClientID, graphemu.SampleTargetSecret)
}

// do sends a Graph request (path relative to /v1.0, or an absolute link) and
// decodes the JSON answer, if any.
func (c *client) do(method, path string, body any) (int, map[string]any, http.Header) {
	c.t.Helper()
	var rd io.Reader
	if body != nil {
		switch b := body.(type) {
		case string:
			rd = strings.NewReader(b)
		default:
			raw, _ := json.Marshal(b)
			rd = bytes.NewReader(raw)
		}
	}
	u := path
	if !strings.HasPrefix(path, "https://") {
		u = c.em.GraphURL() + path
	}
	req, err := http.NewRequest(method, u, rd)
	if err != nil {
		c.t.Fatal(err)
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out map[string]any
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &out); err != nil {
			c.t.Fatalf("%s %s: answer is not JSON: %q", method, path, raw)
		}
	}
	return resp.StatusCode, out, resp.Header
}

func TestSmoke(t *testing.T) {
	em := startSample(t, graphemu.Options{})
	c := sourceClient(t, em)
	status, body, _ := c.do("GET", "/groups?$select=id,displayName", nil)
	if status != 200 {
		t.Fatalf("status %d body %v", status, body)
	}
	if got, want := len(body["value"].([]any)), 11; got != want {
		t.Fatalf("groups: got %d, want %d", got, want)
	}
}
