package webhook_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/xtsync/xtsync/pkg/webhook"
)

// firstRead signals on its first Read, then reads from r.
type firstRead struct {
	r       io.Reader
	once    sync.Once
	started chan struct{}
}

func (f *firstRead) Read(p []byte) (int, error) {
	f.once.Do(func() { close(f.started) })
	return f.r.Read(p)
}

// countingBody counts the Read calls on a body.
type countingBody struct {
	r     io.Reader
	reads atomic.Int64
}

func (c *countingBody) Read(p []byte) (int, error) {
	c.reads.Add(1)
	return c.r.Read(p)
}

// heldRequest is a request being served whose body is not yet sent: the
// handler has admitted it and is blocked reading it.
type heldRequest struct {
	pw   *io.PipeWriter
	body []byte
	done chan *httptest.ResponseRecorder
}

// hold starts serving a POST of b to path whose body arrives only on
// release, and returns once the handler reads it. knownLength sets
// Content-Length; otherwise the length is unknown, as in a chunked request.
func hold(t *testing.T, h http.Handler, path string, b []byte, knownLength bool) *heldRequest {
	t.Helper()
	pr, pw := io.Pipe()
	started := make(chan struct{})
	r := httptest.NewRequest(http.MethodPost, path, &firstRead{r: pr, started: started})
	r.Header.Set("Content-Type", "application/json")
	r.ContentLength = -1
	if knownLength {
		r.ContentLength = int64(len(b))
	}
	hr := &heldRequest{pw: pw, body: b, done: make(chan *httptest.ResponseRecorder, 1)}
	go func() {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		hr.done <- w
	}()
	select {
	case <-started:
	case w := <-hr.done:
		t.Fatalf("held request answered %d before reading its body", w.Code)
	}
	return hr
}

// release sends the body and returns the answer.
func (hr *heldRequest) release() *httptest.ResponseRecorder {
	go func() {
		_, _ = hr.pw.Write(hr.body)
		_ = hr.pw.Close()
	}()
	return <-hr.done
}

// TestOverLimit: with the limits reached by requests held open, a further
// request is answered at once, 503 with Retry-After, its body unread; what
// is not a notification read (validation, a bad content type) is answered
// as usual; once the held requests finish, requests are accepted again.
func TestOverLimit(t *testing.T) {
	good := goodItem(groupA)
	small := body(t, good)
	sized := func(n int) []byte { return padded(t, n, good) }
	type req struct {
		path        string
		body        []byte
		knownLength bool
		validation  bool   // a validation request instead (path only)
		contentType string // "" for application/json
	}
	cases := []struct {
		name          string
		cfg           func(*webhook.Config)
		held          []req
		probe         req
		wantStatus    int
		wantOverConc  int64
		wantOverBytes int64
	}{
		{
			name:       "MaxConcurrent 1, one held: refused",
			cfg:        func(c *webhook.Config) { c.MaxConcurrent = 1 },
			held:       []req{{path: "/notifications", body: small, knownLength: true}},
			probe:      req{path: "/notifications", body: small, knownLength: true},
			wantStatus: 503, wantOverConc: 1,
		},
		{
			name:       "MaxConcurrent 1, held lifecycle: notification refused",
			cfg:        func(c *webhook.Config) { c.MaxConcurrent = 1 },
			held:       []req{{path: "/lifecycle", body: body(t, lifecycleItem(subA, secretA, tenantA, "missed")), knownLength: true}},
			probe:      req{path: "/notifications", body: small},
			wantStatus: 503, wantOverConc: 1,
		},
		{
			name:       "MaxConcurrent 2, two held: lifecycle refused",
			cfg:        func(c *webhook.Config) { c.MaxConcurrent = 2 },
			held:       []req{{path: "/notifications", body: small}, {path: "/notifications", body: small}},
			probe:      req{path: "/lifecycle", body: body(t, lifecycleItem(subA, secretA, tenantA, "missed")), knownLength: true},
			wantStatus: 503, wantOverConc: 1,
		},
		{
			name:       "MaxConcurrent 1: a validation request is still answered",
			cfg:        func(c *webhook.Config) { c.MaxConcurrent = 1 },
			held:       []req{{path: "/notifications", body: small}},
			probe:      req{path: "/notifications", validation: true},
			wantStatus: 200,
		},
		{
			name:       "MaxConcurrent 1: a bad content type is still 415",
			cfg:        func(c *webhook.Config) { c.MaxConcurrent = 1 },
			held:       []req{{path: "/notifications", body: small}},
			probe:      req{path: "/notifications", body: small, contentType: "text/plain"},
			wantStatus: 415,
		},
		{
			name:       "MaxBufferedBytes: declared lengths over the cap",
			cfg:        func(c *webhook.Config) { c.MaxBody, c.MaxBufferedBytes = 4096, 6000 },
			held:       []req{{path: "/notifications", body: sized(3000), knownLength: true}},
			probe:      req{path: "/notifications", body: sized(3500), knownLength: true},
			wantStatus: 503, wantOverBytes: 1,
		},
		{
			name:       "MaxBufferedBytes: a declared length that fits is admitted",
			cfg:        func(c *webhook.Config) { c.MaxBody, c.MaxBufferedBytes = 4096, 6000 },
			held:       []req{{path: "/notifications", body: sized(3000), knownLength: true}},
			probe:      req{path: "/notifications", body: sized(2000), knownLength: true},
			wantStatus: 202,
		},
		{
			name:       "MaxBufferedBytes: a held body of unknown length counts MaxBody",
			cfg:        func(c *webhook.Config) { c.MaxBody, c.MaxBufferedBytes = 4096, 6000 },
			held:       []req{{path: "/notifications", body: sized(1000)}},
			probe:      req{path: "/notifications", body: sized(2000), knownLength: true},
			wantStatus: 503, wantOverBytes: 1,
		},
		{
			name:       "MaxBufferedBytes: a probe of unknown length counts MaxBody",
			cfg:        func(c *webhook.Config) { c.MaxBody, c.MaxBufferedBytes = 4096, 6000 },
			held:       []req{{path: "/notifications", body: sized(3000), knownLength: true}},
			probe:      req{path: "/notifications", body: small},
			wantStatus: 503, wantOverBytes: 1,
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			fx := newFixtureWith(t, t, c.cfg)
			var held []*heldRequest
			for _, hr := range c.held {
				held = append(held, hold(t, fx.h, hr.path, hr.body, hr.knownLength))
			}
			// The probe, its body counted.
			serveProbe := func(p req) (*httptest.ResponseRecorder, int64) {
				if p.validation {
					return fx.serve(validationReq(p.path, "validationToken=tok")), 0
				}
				cb := &countingBody{r: strings.NewReader(string(p.body))}
				r := httptest.NewRequest(http.MethodPost, p.path, cb)
				r.Header.Set("Content-Type", "application/json")
				if p.contentType != "" {
					r.Header.Set("Content-Type", p.contentType)
				}
				r.ContentLength = -1
				if p.knownLength {
					r.ContentLength = int64(len(p.body))
				}
				return fx.serve(r), cb.reads.Load()
			}
			w, reads := serveProbe(c.probe)
			if w.Code != c.wantStatus {
				t.Errorf("probe: status %d, want %d (%q)", w.Code, c.wantStatus, w.Body.String())
			}
			if w.Code == http.StatusServiceUnavailable {
				if got := w.Header().Get("Retry-After"); got != "1" {
					t.Errorf("Retry-After %q, want 1", got)
				}
				if got := w.Header().Get("Connection"); got != "close" {
					t.Errorf("Connection %q, want close (HTTP/1.1)", got)
				}
				if reads != 0 {
					t.Errorf("refused request's body read %d times", reads)
				}
			}
			st := fx.h.Stats()
			if st.OverConcurrency != c.wantOverConc || st.OverBufferedBytes != c.wantOverBytes {
				t.Errorf("OverConcurrency %d, OverBufferedBytes %d; want %d, %d",
					st.OverConcurrency, st.OverBufferedBytes, c.wantOverConc, c.wantOverBytes)
			}
			if w.Code == http.StatusServiceUnavailable {
				changed, lifecycle := fx.sink.calls()
				if len(changed)+len(lifecycle) != 0 {
					t.Errorf("sink called while only held requests were in: %v %v", changed, lifecycle)
				}
			}
			for i, hr := range held {
				if w := hr.release(); w.Code != http.StatusAccepted {
					t.Errorf("held request %d: status %d, want 202", i, w.Code)
				}
			}
			// Released: the same probe is accepted now.
			if c.probe.contentType == "" && !c.probe.validation {
				if w, _ := serveProbe(c.probe); w.Code != http.StatusAccepted {
					t.Errorf("probe after release: status %d, want 202", w.Code)
				}
			}
			fx.logs.noSecrets(t)
		})
	}
}

// TestOverCapacityLogRateLimited: refusals are logged at WARN at most once
// a second, the next line counting those not logged; all are counted.
func TestOverCapacityLogRateLimited(t *testing.T) {
	clock := newFakeClock()
	fx := newFixtureWith(t, nil, func(c *webhook.Config) { c.MaxConcurrent, c.Now = 1, clock.Now })
	hr := hold(t, fx.h, "/notifications", body(t, goodItem(groupA)), true)
	refuse := func(n int) {
		for range n {
			if w := fx.serve(post("/notifications", body(t, goodItem(groupB)))); w.Code != http.StatusServiceUnavailable {
				t.Fatalf("status %d, want 503", w.Code)
			}
		}
	}
	refuse(5)
	clock.Advance(999 * time.Millisecond)
	refuse(5)
	if got := strings.Count(fx.logs.String(), `msg="webhook over capacity"`); got != 1 {
		t.Errorf("%d lines within a second, want 1", got)
	}
	clock.Advance(time.Millisecond)
	refuse(1)
	logs := fx.logs.String()
	if got := strings.Count(logs, `msg="webhook over capacity"`); got != 2 {
		t.Errorf("%d lines after a second, want 2", got)
	}
	if !strings.Contains(logs, `level=WARN msg="webhook over capacity" limit=concurrency in_flight=1`) ||
		!strings.Contains(logs, "unlogged=9") {
		t.Errorf("log lines lack the limit or the unlogged count:\n%s", logs)
	}
	if got := fx.h.Stats().OverConcurrency; got != 11 {
		t.Errorf("OverConcurrency %d, want 11", got)
	}
	if w := hr.release(); w.Code != http.StatusAccepted {
		t.Errorf("held request: status %d", w.Code)
	}
	fx.logs.noSecrets(t)
}

// TestMaxItems: a body over the item limit is refused whole, 413 with the
// limit in the answer, even when its first items are good; at the limit it
// is processed.
func TestMaxItems(t *testing.T) {
	good := goodItem(groupA)
	missed := lifecycleItem(subA, secretA, tenantA, "missed")
	items := func(n int, it map[string]any) []any {
		out := make([]any, n)
		for i := range out {
			out[i] = it
		}
		return out
	}
	empties := func(n int) []byte {
		return []byte(`{"value":[{}` + strings.Repeat(`,{}`, n-1) + `]}`)
	}
	cases := []struct {
		name         string
		maxItems     int // 0: the default
		req          *http.Request
		wantStatus   int
		wantText     string // in the answer
		wantSinkCall bool
	}{
		{"at the limit", 3, post("/notifications", body(t, items(3, good)...)), 202, "", true},
		{"one over: the good items are not acted on", 3, post("/notifications", body(t, items(4, good)...)), 413, "more than 3 items", false},
		{"lifecycle, one over", 3, post("/lifecycle", body(t, items(4, missed)...)), 413, "more than 3 items", false},
		{"one over, length unknown", 3, unknownLength(post("/notifications", body(t, items(4, good)...))), 413, "more than 3 items", false},
		{"default: 1000 items", 0, post("/notifications", empties(1000)), 202, "", false},
		{"default: 1001 items", 0, post("/notifications", empties(1001)), 413, "more than 1000 items", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			fx := newFixtureWith(t, nil, func(cfg *webhook.Config) { cfg.MaxItems = c.maxItems })
			w := fx.serve(c.req)
			if w.Code != c.wantStatus {
				t.Errorf("status %d, want %d", w.Code, c.wantStatus)
			}
			if !strings.Contains(w.Body.String(), c.wantText) {
				t.Errorf("answer %q lacks %q", w.Body.String(), c.wantText)
			}
			changed, lifecycle := fx.sink.calls()
			if called := len(changed)+len(lifecycle) > 0; called != c.wantSinkCall {
				t.Errorf("sink called %v, want %v", called, c.wantSinkCall)
			}
			st := fx.h.Stats()
			if tooMany := c.wantStatus == 413; (st.TooManyItems == 1) != tooMany || (st.BadRequests == 1) != tooMany {
				t.Errorf("TooManyItems %d, BadRequests %d", st.TooManyItems, st.BadRequests)
			}
			if c.wantStatus == 413 && len(st.Rejected) != 0 {
				t.Errorf("items of a refused body counted: %v", st.Rejected)
			}
		})
	}
}
