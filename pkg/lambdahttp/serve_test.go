package lambdahttp_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"maps"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/xtsync/xtsync/pkg/lambdahttp"
)

// seen is what the handler received.
type seen struct {
	r      *http.Request
	noBody bool // r.Body was http.NoBody
	body   []byte
	err    error
}

// result is an event response, whichever the event type.
type result struct {
	status  int
	headers map[string]string
	cookies []string
	body    string
	base64  bool
}

// serveCase is one event through the adapter and what must come of it.
type serveCase struct {
	name    string
	ev      events.APIGatewayV2HTTPRequest
	maxBody int64 // Adapter.MaxBody
	// h answers the request after it was recorded; nil answers 204.
	h http.HandlerFunc
	// req checks the request the handler got; nil means the handler must
	// not be called.
	req func(t *testing.T, s seen)

	status  int
	body    string
	base64  bool
	headers map[string]string // exactly these; nil: not checked
	cookies []string
	logHas  string // in the log; "" checks nothing
	logNot  string // not in the log
}

var binary = []byte{0x00, 0xff, 0xfe, 0x80, 'G', 'o', 0xc3, 0x28}

func TestServe(t *testing.T) {
	cases := []serveCase{
		{
			name: "method, path and raw query kept exactly",
			ev:   v2Event("GET", "/a/b", "validationToken=Validation%3A%20a%2Bb%20c&x=1&x=2"),
			req: func(t *testing.T, s seen) {
				r := s.r
				if r.Method != "GET" || r.URL.Path != "/a/b" {
					t.Errorf("request %s %s, want GET /a/b", r.Method, r.URL.Path)
				}
				if got, want := r.URL.RawQuery, "validationToken=Validation%3A%20a%2Bb%20c&x=1&x=2"; got != want {
					t.Errorf("RawQuery %q, want %q", got, want)
				}
				q := r.URL.Query()
				if got, want := q.Get("validationToken"), "Validation: a+b c"; got != want {
					t.Errorf("validationToken %q, want %q (decoded once)", got, want)
				}
				if got := q["x"]; !slices.Equal(got, []string{"1", "2"}) {
					t.Errorf("x = %q, want [1 2]", got)
				}
				if r.RequestURI != "/a/b?validationToken=Validation%3A%20a%2Bb%20c&x=1&x=2" {
					t.Errorf("RequestURI %q", r.RequestURI)
				}
				if r.URL.Host != "" || r.URL.Scheme != "" {
					t.Errorf("URL %q has a scheme or host, as a server request does not", r.URL)
				}
			},
			status: 204,
		},
		{
			name: "escaped path",
			ev:   v2Event("GET", "/files/a%2Fb%20c", ""),
			req: func(t *testing.T, s seen) {
				if got := s.r.URL.Path; got != "/files/a/b c" {
					t.Errorf("Path %q, want /files/a/b c", got)
				}
				if got := s.r.URL.EscapedPath(); got != "/files/a%2Fb%20c" {
					t.Errorf("EscapedPath %q, want /files/a%%2Fb%%20c", got)
				}
			},
			status: 204,
		},
		{
			name: "a path starting with // is a path, not a host",
			ev:   v2Event("GET", "//evil.test/x", ""),
			req: func(t *testing.T, s seen) {
				if s.r.URL.Path != "//evil.test/x" || s.r.URL.Host != "" {
					t.Errorf("URL path %q host %q, want path //evil.test/x and no host", s.r.URL.Path, s.r.URL.Host)
				}
			},
			status: 204,
		},
		{
			name: "named stage prefix stripped",
			ev:   v2Event("POST", "/prod/xtsync/notifications", "", withStage("prod")),
			req: func(t *testing.T, s seen) {
				if got := s.r.URL.Path; got != "/xtsync/notifications" {
					t.Errorf("Path %q, want /xtsync/notifications", got)
				}
			},
			status: 204,
		},
		{
			name: "the stage alone is the root",
			ev:   v2Event("GET", "/prod", "", withStage("prod")),
			req: func(t *testing.T, s seen) {
				if got := s.r.URL.Path; got != "/" {
					t.Errorf("Path %q, want /", got)
				}
			},
			status: 204,
		},
		{
			name: "a path that only starts like the stage is kept",
			ev:   v2Event("GET", "/production/x", "", withStage("prod")),
			req: func(t *testing.T, s seen) {
				if got := s.r.URL.Path; got != "/production/x" {
					t.Errorf("Path %q, want /production/x", got)
				}
			},
			status: 204,
		},
		{
			name: "$default stage: nothing stripped",
			ev:   v2Event("GET", "/prod/x", ""),
			req: func(t *testing.T, s seen) {
				if got := s.r.URL.Path; got != "/prod/x" {
					t.Errorf("Path %q, want /prod/x", got)
				}
			},
			status: 204,
		},
		{
			name: "headers, host, cookies, remote address, protocol, context",
			ev: v2Event("POST", "/h", "",
				withHeader("header2", "value1,value2"),
				withHeader("x-amzn-trace-id", "Root=1-abc"),
				withHeader("cookie", "z=0"),
				withCookies("a=1", "b=two"),
				withSourceIP("2001:db8::1"),
				withProtocol("HTTP/2.0")),
			req: func(t *testing.T, s seen) {
				r := s.r
				if got := r.Header["Header2"]; !slices.Equal(got, []string{"value1,value2"}) {
					t.Errorf("Header2 = %q, want one value \"value1,value2\"", got)
				}
				if got := r.Header.Get("X-Amzn-Trace-Id"); got != "Root=1-abc" {
					t.Errorf("X-Amzn-Trace-Id %q", got)
				}
				if r.Host != "api.example.test" {
					t.Errorf("Host %q, want api.example.test", r.Host)
				}
				if _, ok := r.Header["Host"]; ok {
					t.Error("Host left in the header map")
				}
				if got := r.Header.Get("Cookie"); got != "z=0; a=1; b=two" {
					t.Errorf("Cookie %q, want \"z=0; a=1; b=two\"", got)
				}
				if c, err := r.Cookie("b"); err != nil || c.Value != "two" {
					t.Errorf("cookie b: %v %v", c, err)
				}
				if r.RemoteAddr != "[2001:db8::1]:0" {
					t.Errorf("RemoteAddr %q, want [2001:db8::1]:0", r.RemoteAddr)
				}
				if r.ProtoMajor != 2 || r.ProtoMinor != 0 {
					t.Errorf("Proto %q %d.%d, want HTTP/2.0", r.Proto, r.ProtoMajor, r.ProtoMinor)
				}
				if got, _ := r.Context().Value(ctxKey{}).(string); got != t.Name() {
					t.Errorf("context value %q: the caller's context was not passed", got)
				}
			},
			status: 204,
		},
		{
			name: "IPv4 remote address, host from the domain when no host header",
			ev:   v2Event("GET", "/", "", withoutHeader("host")),
			req: func(t *testing.T, s seen) {
				if s.r.RemoteAddr != "198.51.100.7:0" {
					t.Errorf("RemoteAddr %q, want 198.51.100.7:0", s.r.RemoteAddr)
				}
				if s.r.Host != "api.example.test" {
					t.Errorf("Host %q, want the domain name", s.r.Host)
				}
				if s.r.Proto != "HTTP/1.1" {
					t.Errorf("Proto %q", s.r.Proto)
				}
			},
			status: 204,
		},
		{
			name: "text body, content length from the body",
			ev: v2Event("POST", "/b", "", withBody(`{"value":[]}`, false),
				withHeader("content-length", "999"), withHeader("transfer-encoding", "chunked")),
			req: func(t *testing.T, s seen) {
				if string(s.body) != `{"value":[]}` || s.err != nil {
					t.Errorf("body %q (%v)", s.body, s.err)
				}
				if s.r.ContentLength != 12 || s.r.Header.Get("Content-Length") != "12" {
					t.Errorf("ContentLength %d, header %q, want 12", s.r.ContentLength, s.r.Header.Get("Content-Length"))
				}
				if s.r.Header.Get("Transfer-Encoding") != "" {
					t.Error("Transfer-Encoding kept")
				}
			},
			status: 204,
		},
		{
			name: "base64 body decoded",
			ev:   v2Event("POST", "/b", "", withBody(base64.StdEncoding.EncodeToString(binary), true)),
			req: func(t *testing.T, s seen) {
				if !bytes.Equal(s.body, binary) {
					t.Errorf("body % x, want % x", s.body, binary)
				}
				if s.r.ContentLength != int64(len(binary)) {
					t.Errorf("ContentLength %d, want %d", s.r.ContentLength, len(binary))
				}
			},
			status: 204,
		},
		{
			name: "no body",
			ev:   v2Event("POST", "/b", ""),
			req: func(t *testing.T, s seen) {
				if !s.noBody || len(s.body) != 0 || s.r.ContentLength != 0 {
					t.Errorf("body %q, ContentLength %d, want http.NoBody", s.body, s.r.ContentLength)
				}
			},
			status: 204,
		},
		{
			name:    "body at the limit",
			ev:      v2Event("POST", "/b", "", withBody("0123456789abcdef", false)),
			maxBody: 16,
			req: func(t *testing.T, s seen) {
				if len(s.body) != 16 {
					t.Errorf("body of %d bytes, want 16", len(s.body))
				}
			},
			status: 204,
		},
		{
			name:    "body above the limit: 413",
			ev:      v2Event("POST", "/b", "", withBody("0123456789abcdefg", false)),
			maxBody: 16,
			status:  413,
			body:    "Request Entity Too Large\n",
			logHas:  "above 16",
		},
		{
			name:    "the limit counts decoded bytes: 12 bytes in 16 base64 characters pass",
			ev:      v2Event("POST", "/b", "", withBody(base64.StdEncoding.EncodeToString([]byte("twelve bytes")), true)),
			maxBody: 12,
			req: func(t *testing.T, s seen) {
				if string(s.body) != "twelve bytes" {
					t.Errorf("body %q", s.body)
				}
			},
			status: 204,
		},
		{
			name:    "base64 body above the limit once decoded: 413",
			ev:      v2Event("POST", "/b", "", withBody(base64.StdEncoding.EncodeToString([]byte("thirteen byte")), true)),
			maxBody: 12,
			status:  413,
		},
		{
			name: "the default limit",
			ev:   v2Event("POST", "/b", "", withBody(strings.Repeat("x", int(lambdahttp.DefaultMaxBody)+1), false)),
			// maxBody 0: DefaultMaxBody
			status: 413,
		},
		{
			name:   "bad base64: 400",
			ev:     v2Event("POST", "/b", "", withBody("not base64!", true)),
			status: 400,
			body:   "Bad Request\n",
			logHas: "base64",
		},
		{
			name:   "no method: 400",
			ev:     v2Event("", "/b", ""),
			status: 400,
		},
		{
			name:   "bad method: 400",
			ev:     v2Event("GET /x", "/b", ""),
			status: 400,
		},
		{
			name:   "relative path: 400",
			ev:     v2Event("GET", "b/c", ""),
			status: 400,
		},
		{
			name: "status, multi-value headers, cookies and text body",
			ev:   v2Event("POST", "/r", ""),
			h: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "text/plain; charset=utf-8")
				w.Header().Add("X-Multi", "a")
				w.Header().Add("X-Multi", "b")
				http.SetCookie(w, &http.Cookie{Name: "s", Value: "1", Path: "/"})
				http.SetCookie(w, &http.Cookie{Name: "t", Value: "2", HttpOnly: true})
				w.WriteHeader(http.StatusCreated)
				_, _ = io.WriteString(w, "héllo, ")
				_, _ = io.WriteString(w, "world")
			},
			req:     func(*testing.T, seen) {},
			status:  201,
			body:    "héllo, world",
			headers: map[string]string{"Content-Type": "text/plain; charset=utf-8", "X-Multi": "a,b"},
			cookies: []string{"s=1; Path=/", "t=2; HttpOnly"},
		},
		{
			name: "binary body base64-encoded",
			ev:   v2Event("GET", "/bin", ""),
			h: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/octet-stream")
				_, _ = w.Write(binary)
			},
			req:     func(*testing.T, seen) {},
			status:  200,
			body:    base64.StdEncoding.EncodeToString(binary),
			base64:  true,
			headers: map[string]string{"Content-Type": "application/octet-stream"},
		},
		{
			name:    "no WriteHeader, no body: 200, empty, no content type",
			ev:      v2Event("GET", "/", ""),
			h:       func(w http.ResponseWriter, r *http.Request) {},
			req:     func(*testing.T, seen) {},
			status:  200,
			headers: map[string]string{},
		},
		{
			name: "content type sniffed when not set",
			ev:   v2Event("GET", "/", ""),
			h: func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(http.StatusAccepted)
				_, _ = io.WriteString(w, "<html><body>ok</body></html>")
			},
			req:     func(*testing.T, seen) {},
			status:  202,
			body:    "<html><body>ok</body></html>",
			headers: map[string]string{"Content-Type": "text/html; charset=utf-8"},
		},
		{
			name: "informational status ignored, the final one kept",
			ev:   v2Event("GET", "/", ""),
			h: func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(http.StatusEarlyHints)
				w.WriteHeader(http.StatusTeapot)
				w.WriteHeader(http.StatusOK) // too late
			},
			req:    func(*testing.T, seen) {},
			status: http.StatusTeapot,
		},
		{
			name: "HEAD: headers kept, body dropped",
			ev:   v2Event("HEAD", "/", ""),
			h: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "text/plain")
				w.Header().Set("Content-Length", "5")
				if n, err := io.WriteString(w, "hello"); n != 5 || err != nil {
					panic("HEAD write failed") // turns into a 500 the case rejects
				}
			},
			req:     func(*testing.T, seen) {},
			status:  200,
			body:    "",
			headers: map[string]string{"Content-Type": "text/plain", "Content-Length": "5"},
		},
		{
			name: "204 refuses a body",
			ev:   v2Event("DELETE", "/", ""),
			h: func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(http.StatusNoContent)
				if _, err := io.WriteString(w, "x"); !errors.Is(err, http.ErrBodyNotAllowed) {
					panic("write to a 204 did not fail with ErrBodyNotAllowed")
				}
			},
			req:    func(*testing.T, seen) {},
			status: 204,
			body:   "",
		},
		{
			name: "handler panic: 500, logged, partial output dropped",
			ev:   v2Event("POST", "/p", ""),
			h: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("X-Partial", "1")
				_, _ = io.WriteString(w, "partial")
				panic("kaboom")
			},
			req:     func(*testing.T, seen) {},
			status:  500,
			body:    "Internal Server Error\n",
			headers: map[string]string{"Content-Type": "text/plain; charset=utf-8", "X-Content-Type-Options": "nosniff"},
			logHas:  "kaboom",
		},
		{
			name: "http.ErrAbortHandler: 500, not logged",
			ev:   v2Event("POST", "/p", ""),
			h: func(w http.ResponseWriter, r *http.Request) {
				panic(http.ErrAbortHandler)
			},
			req:    func(*testing.T, seen) {},
			status: 500,
			body:   "Internal Server Error\n",
			logNot: "panicked",
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			runCase(t, c, func(a *lambdahttp.Adapter) result {
				resp, err := a.ServeV2(testContext(t), c.ev)
				if err != nil {
					t.Errorf("ServeV2 error %v, want nil", err)
				}
				return result{resp.StatusCode, resp.Headers, resp.Cookies, resp.Body, resp.IsBase64Encoded}
			})
		})
	}
}

// runCase serves c's event through an Adapter with serve and checks the
// result.
func runCase(t *testing.T, c serveCase, serve func(*lambdahttp.Adapter) result) {
	t.Helper()
	log, logs := newTestLog(t)
	var got *seen
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		noBody := r.Body == http.NoBody
		body, err := io.ReadAll(r.Body)
		got = &seen{r: r, noBody: noBody, body: body, err: err}
		r.Body = io.NopCloser(bytes.NewReader(body))
		if c.h == nil {
			w.WriteHeader(http.StatusNoContent)
			return
		}
		c.h(w, r)
	})
	res := serve(&lambdahttp.Adapter{Handler: h, MaxBody: c.maxBody, Log: log})
	switch {
	case c.req == nil && got != nil:
		t.Errorf("handler called with %s %s, want no call", got.r.Method, got.r.URL)
	case c.req != nil && got == nil:
		t.Error("handler not called")
	case c.req != nil:
		c.req(t, *got)
	}
	if res.status != c.status {
		t.Errorf("status %d, want %d (body %q)", res.status, c.status, res.body)
	}
	if c.body != "" || c.req != nil {
		if res.body != c.body {
			t.Errorf("body %q, want %q", res.body, c.body)
		}
	}
	if res.base64 != c.base64 {
		t.Errorf("isBase64Encoded %v, want %v", res.base64, c.base64)
	}
	if c.headers != nil && !maps.Equal(res.headers, c.headers) {
		t.Errorf("headers %q, want %q", res.headers, c.headers)
	}
	if !slices.Equal(res.cookies, c.cookies) {
		t.Errorf("cookies %q, want %q", res.cookies, c.cookies)
	}
	if c.logHas != "" && !strings.Contains(logs.String(), c.logHas) {
		t.Errorf("log does not mention %q:\n%s", c.logHas, logs)
	}
	if c.logNot != "" && strings.Contains(logs.String(), c.logNot) {
		t.Errorf("log mentions %q:\n%s", c.logNot, logs)
	}
}

func TestNoHandler(t *testing.T) {
	log, logs := newTestLog(t)
	a := lambdahttp.Adapter{Log: log}
	resp, err := a.ServeV2(t.Context(), v2Event("GET", "/", ""))
	if err != nil || resp.StatusCode != 500 {
		t.Errorf("ServeV2 without a handler: %d %v, want 500 and no error", resp.StatusCode, err)
	}
	if !strings.Contains(logs.String(), "no handler") {
		t.Errorf("log does not say there is no handler:\n%s", logs)
	}
}

// TestAdapterDefaults checks an Adapter with only Handler set (the default
// body limit and logger) and that its response marshals to the field names
// Lambda reads.
func TestAdapterDefaults(t *testing.T) {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		http.SetCookie(w, &http.Cookie{Name: "c", Value: "v"})
		w.WriteHeader(http.StatusAccepted)
		_, _ = io.WriteString(w, r.Method+" "+r.URL.RequestURI())
	})
	a := lambdahttp.Adapter{Handler: h}
	resp, err := a.ServeV2(t.Context(), v2Event("PUT", "/stage/x", "a=%20", withStage("stage")))
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(resp)
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	t.Logf("ServeV2: %s", b)
	want := map[string]any{
		"statusCode":      float64(202),
		"headers":         map[string]any{"Content-Type": "text/plain"},
		"cookies":         []any{"c=v"},
		"body":            "PUT /x?a=%20",
		"isBase64Encoded": nil, // APIGatewayV2HTTPResponse omits a false isBase64Encoded
	}
	for k, v := range want {
		if gb, _ := json.Marshal(got[k]); string(gb) != mustJSON(t, v) {
			t.Errorf("%s = %s, want %s", k, gb, mustJSON(t, v))
		}
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
