package msgraph_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/xtsync/xtsync/pkg/msgraph"
)

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"2.128", 2128 * time.Millisecond, true},
		{"0.5", 500 * time.Millisecond, true},
		{"1.25", 1250 * time.Millisecond, true},
		{"3", 3 * time.Second, true},
		{"0", 0, true},
		{" 7 ", 7 * time.Second, true},
		{now.Add(5 * time.Second).Format(http.TimeFormat), 5 * time.Second, true},
		{"Sun, 01 Mar 2026 12:00:30 GMT", 30 * time.Second, true},
		{now.Add(-time.Minute).Format(http.TimeFormat), 0, true}, // past: retry now
		{"", 0, false},
		{"garbage", 0, false},
		{"-1", 0, false},
		{"1e3", 0, false},
		{".5", 0, false},
		{"5.", 0, false},
		{"1.2.3", 0, false},
		{"1,5", 0, false},
		{"99999999999999999999", 0, false},
	} {
		got, ok := msgraph.ParseRetryAfter(tc.in, now)
		if got != tc.want || ok != tc.ok {
			t.Errorf("ParseRetryAfter(%q) = %v, %v; want %v, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}

func TestRetryDelay(t *testing.T) {
	p := msgraph.RetryPolicy{BaseDelay: time.Second, MaxDelay: 8 * time.Second, MaxRetryAfter: time.Minute, Jitter: func() float64 { return 0.999999 }}
	lo := p
	lo.Jitter = func() float64 { return 0 }
	for _, tc := range []struct {
		method     string
		status     int
		retryAfter string
		n          int
		want       time.Duration
		retry      bool
	}{
		{"GET", 429, "1.25", 1, 1250 * time.Millisecond, true},
		{"POST", 429, "2.128", 3, 2128 * time.Millisecond, true},
		{"PATCH", 503, "0.5", 1, 500 * time.Millisecond, true},
		{"GET", 504, "", 1, time.Second, true},
		{"GET", 503, "", 3, 4 * time.Second, true},
		{"GET", 503, "", 10, 8 * time.Second, true}, // capped
		{"GET", 429, "61", 1, 61 * time.Second, false},
		{"POST", 504, "", 1, 0, false}, // may have been applied
		{"PATCH", 504, "", 1, 0, false},
		{"DELETE", 504, "", 1, time.Second, true},
		{"GET", 500, "", 1, 0, false},
		{"GET", 404, "1", 1, 0, false},
	} {
		got, retry := p.Delay(tc.method, tc.status, tc.retryAfter, tc.n)
		if retry != tc.retry || (retry && tc.retryAfter != "" && got != tc.want) {
			t.Errorf("Delay(%s %d %q #%d) = %v, %v; want %v, %v", tc.method, tc.status, tc.retryAfter, tc.n, got, retry, tc.want, tc.retry)
		}
		if retry && tc.retryAfter == "" { // jittered backoff in [want/2, want)
			low, _ := lo.Delay(tc.method, tc.status, "", tc.n)
			if low != tc.want/2 || got < tc.want-time.Millisecond || got > tc.want {
				t.Errorf("backoff #%d: between %v and %v, want %v and %v", tc.n, low, got, tc.want/2, tc.want)
			}
		}
	}
}

// script is a fake transport answering from a list, recording each
// request's body and headers.
type script struct {
	mu      sync.Mutex
	answers []*http.Response
	bodies  [][]byte
	headers []http.Header
}

func answer(status int, retryAfter string) *http.Response {
	h := http.Header{}
	if retryAfter != "" {
		h.Set("Retry-After", retryAfter)
	}
	return &http.Response{StatusCode: status, Header: h, Body: io.NopCloser(strings.NewReader(`{"error":{"code":"x","message":"y"}}`))}
}

func (s *script) RoundTrip(req *http.Request) (*http.Response, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var b []byte
	if req.Body != nil {
		b, _ = io.ReadAll(req.Body)
		req.Body.Close()
	}
	s.bodies = append(s.bodies, b)
	s.headers = append(s.headers, req.Header.Clone())
	if len(s.bodies) > len(s.answers) {
		return answer(200, ""), nil
	}
	return s.answers[len(s.bodies)-1], nil
}

// fakeSleep records waits instead of sleeping.
type fakeSleep struct{ waits []time.Duration }

func (f *fakeSleep) sleep(ctx context.Context, d time.Duration) error {
	f.waits = append(f.waits, d)
	return ctx.Err()
}

func gzipped(t *testing.T, s string) []byte {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write([]byte(s)); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestRetryReplaysBodyAndHonoursRetryAfter(t *testing.T) {
	tr := &script{answers: []*http.Response{answer(429, "1.25"), answer(503, "0.5"), answer(504, "")}}
	fs := &fakeSleep{}
	rt := msgraph.NewRetry(tr, msgraph.RetryPolicy{Sleep: fs.sleep, Jitter: func() float64 { return 0 }}, testLogger(t))
	body := gzipped(t, `{"members@odata.bind":["https://graph.microsoft.com/v1.0/directoryObjects/x"]}`)
	req, _ := http.NewRequestWithContext(t.Context(), "PUT", "https://graph.microsoft.com/v1.0/groups/x", bytes.NewReader(body))
	req.Header.Set("Content-Encoding", "gzip")
	// GetBody as kiota's compression handler leaves it: absent, so the
	// retry layer must replay what it read.
	req.GetBody = nil

	resp, err := rt.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 200 {
		t.Fatalf("status %d, want 200 after three retries", resp.StatusCode)
	}
	want := []time.Duration{1250 * time.Millisecond, 500 * time.Millisecond, 2 * time.Second}
	if len(fs.waits) != 3 || fs.waits[0] != want[0] || fs.waits[1] != want[1] || fs.waits[2] != want[2] {
		t.Errorf("waits %v, want %v (Retry-After exactly, then third retry's 4 s backoff at its lowest jitter)", fs.waits, want)
	}
	if len(tr.bodies) != 4 {
		t.Fatalf("attempts %d, want 4", len(tr.bodies))
	}
	for i, b := range tr.bodies {
		if !bytes.Equal(b, body) {
			t.Errorf("attempt %d: body differs from the compressed original", i+1)
		}
		if got := tr.headers[i].Get("Content-Encoding"); got != "gzip" {
			t.Errorf("attempt %d: Content-Encoding %q", i+1, got)
		}
		wantAttempt := ""
		if i > 0 {
			wantAttempt = string(rune('0' + i))
		}
		if got := tr.headers[i].Get("Retry-Attempt"); got != wantAttempt {
			t.Errorf("attempt %d: Retry-Attempt %q, want %q", i+1, got, wantAttempt)
		}
	}
}

func TestRetryBoundsAttempts(t *testing.T) {
	tr := &script{answers: []*http.Response{answer(429, "1"), answer(429, "1"), answer(429, "1"), answer(429, "1")}}
	fs := &fakeSleep{}
	rt := msgraph.NewRetry(tr, msgraph.RetryPolicy{MaxAttempts: 3, Sleep: fs.sleep}, nil)
	req, _ := http.NewRequestWithContext(t.Context(), "GET", "https://graph.microsoft.com/v1.0/groups", nil)
	resp, err := rt.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 429 || len(tr.bodies) != 3 || len(fs.waits) != 2 {
		t.Errorf("status %d after %d attempts and %d waits; want the third 429, 3 attempts, 2 waits", resp.StatusCode, len(tr.bodies), len(fs.waits))
	}
	if b, _ := io.ReadAll(resp.Body); !strings.Contains(string(b), `"code":"x"`) {
		t.Errorf("last answer's body not handed back: %q", b)
	}
}

func TestRetryDoesNotRepeatUnsafe(t *testing.T) {
	for _, tc := range []struct {
		method string
		status int
	}{{"POST", 504}, {"PATCH", 504}, {"GET", 500}, {"GET", 400}, {"GET", 404}} {
		tr := &script{answers: []*http.Response{answer(tc.status, "")}}
		rt := msgraph.NewRetry(tr, msgraph.RetryPolicy{Sleep: (&fakeSleep{}).sleep}, nil)
		req, _ := http.NewRequestWithContext(t.Context(), tc.method, "https://graph.microsoft.com/v1.0/groups", strings.NewReader("{}"))
		resp, err := rt.RoundTrip(req)
		if err != nil || resp.StatusCode != tc.status || len(tr.bodies) != 1 {
			t.Errorf("%s %d: retried (%d attempts, err %v)", tc.method, tc.status, len(tr.bodies), err)
		}
	}
}

func TestRetryStopsOnCancel(t *testing.T) {
	tr := &script{answers: []*http.Response{answer(429, "30")}}
	rt := msgraph.NewRetry(tr, msgraph.RetryPolicy{}, nil) // real sleep
	ctx, cancel := context.WithCancel(t.Context())
	time.AfterFunc(20*time.Millisecond, cancel)
	req, _ := http.NewRequestWithContext(ctx, "GET", "https://graph.microsoft.com/v1.0/groups", nil)
	start := time.Now()
	_, err := rt.RoundTrip(req)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("err %v, want context.Canceled", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("cancel took %v", d)
	}
}

func TestRetryGivesUpBeforeDeadline(t *testing.T) {
	tr := &script{answers: []*http.Response{answer(429, "5")}}
	fs := &fakeSleep{}
	rt := msgraph.NewRetry(tr, msgraph.RetryPolicy{Sleep: fs.sleep}, nil)
	ctx, cancel := context.WithTimeout(t.Context(), time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", "https://graph.microsoft.com/v1.0/groups", nil)
	resp, err := rt.RoundTrip(req)
	if err != nil || resp.StatusCode != 429 || len(fs.waits) != 0 {
		t.Errorf("got %v, %v after %d waits; want the 429 at once (a 5 s wait outlasts the 1 s deadline)", resp, err, len(fs.waits))
	}
}

func TestRetryRefusesLongRetryAfter(t *testing.T) {
	tr := &script{answers: []*http.Response{answer(429, "600")}}
	fs := &fakeSleep{}
	rt := msgraph.NewRetry(tr, msgraph.RetryPolicy{Sleep: fs.sleep, MaxRetryAfter: time.Minute}, nil)
	req, _ := http.NewRequestWithContext(t.Context(), "GET", "https://graph.microsoft.com/v1.0/groups", nil)
	resp, err := rt.RoundTrip(req)
	if err != nil || resp.StatusCode != 429 || len(fs.waits) != 0 {
		t.Errorf("got status %v err %v after %d waits; want the 429 handed back", resp.StatusCode, err, len(fs.waits))
	}
}
