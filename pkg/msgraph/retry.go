package msgraph

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// RetryPolicy bounds the retries of throttled (429) and unavailable (503,
// 504) Graph answers. The zero value takes the defaults noted on each field.
type RetryPolicy struct {
	// MaxAttempts is how many times one request is sent in all, the first
	// included; 6 when zero.
	MaxAttempts int
	// BaseDelay is the first backoff when the answer has no Retry-After;
	// it doubles per attempt, with jitter. 1 s when zero.
	BaseDelay time.Duration
	// MaxDelay caps a backoff without Retry-After; 30 s when zero.
	MaxDelay time.Duration
	// MaxRetryAfter is the longest Retry-After honoured: a longer one is
	// handed back to the caller as the error answer. 5 min when zero.
	MaxRetryAfter time.Duration
	// AttemptTimeout bounds one attempt, until its response body is
	// closed; none when zero.
	AttemptTimeout time.Duration

	// Sleep waits d or until ctx ends (then it returns ctx.Err()); a
	// timer-based wait when nil. Tests inject a fake.
	Sleep func(ctx context.Context, d time.Duration) error
	// Now is the clock for HTTP-date Retry-After values; time.Now when nil.
	Now func() time.Time
	// Jitter returns a number in [0,1) to spread backoffs; math/rand/v2
	// when nil.
	Jitter func() float64
}

// withDefaults fills the zero fields of p.
func (p RetryPolicy) withDefaults() RetryPolicy {
	if p.MaxAttempts <= 0 {
		p.MaxAttempts = 6
	}
	if p.BaseDelay <= 0 {
		p.BaseDelay = time.Second
	}
	if p.MaxDelay <= 0 {
		p.MaxDelay = 30 * time.Second
	}
	if p.MaxRetryAfter <= 0 {
		p.MaxRetryAfter = 5 * time.Minute
	}
	if p.Sleep == nil {
		p.Sleep = sleepCtx
	}
	if p.Now == nil {
		p.Now = time.Now
	}
	if p.Jitter == nil {
		p.Jitter = rand.Float64
	}
	return p
}

// sleepCtx waits d or until ctx is done.
func sleepCtx(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// Retry is an http.RoundTripper that resends a request answered 429, 503 or
// 504, waiting exactly the Retry-After the answer asks for (fractional
// seconds included: Graph sends "2.128") or else a jittered exponential
// backoff. It replaces kiota's RetryHandler, which truncates fractional
// Retry-After values and so retries too early. It sits under kiota's
// middleware, so it replays the body bytes as the middleware left them
// (gzip-compressed by the compression handler).
//
// With a Pacer (the Client sets its own), each attempt, the first and every
// retry, waits for the pacer's tokens before it is sent, outside the
// attempt timeout, and the pacer sees each answer.
type Retry struct {
	next   http.RoundTripper
	policy RetryPolicy
	log    *slog.Logger
	pace   *Pacer // nil: unpaced
	// obs, when set, is told of each retry under tenant's name.
	obs    Observer
	tenant string
}

// NewRetry wraps next (http.DefaultTransport when nil) with retries under
// policy; log (discarded when nil) receives one line per retry.
func NewRetry(next http.RoundTripper, policy RetryPolicy, log *slog.Logger) *Retry {
	if next == nil {
		next = http.DefaultTransport
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Retry{next: next, policy: policy.withDefaults(), log: log}
}

// ParseRetryAfter reads a Retry-After header: a non-negative number of
// seconds, possibly fractional ("1.25" is 1.25 s exactly), or an HTTP date
// (the delay until then, never negative, measured from now). It reports
// false for an empty or unreadable value.
func ParseRetryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if secondsSyntax(v) {
		// ParseDuration reads the decimal exactly ("2.128s" is 2128 ms);
		// a float would round and the truncating conversion kiota uses
		// drops the fraction.
		d, err := time.ParseDuration(v + "s")
		if err != nil { // overflow
			return 0, false
		}
		return d, true
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(t.Sub(now), 0), true
	}
	return 0, false
}

// secondsSyntax reports whether v is digits with at most one decimal point
// between digits.
func secondsSyntax(v string) bool {
	digits, dot := 0, -1
	for i, r := range v {
		switch {
		case r >= '0' && r <= '9':
			digits++
		case r == '.' && dot < 0:
			dot = i
		default:
			return false
		}
	}
	return digits > 0 && dot != 0 && dot != len(v)-1
}

// retryable reports whether an answer may be retried: 429 and 503 always
// (Graph did not run the request), 504 only for methods that are safe to
// repeat (a gateway timeout may hide an applied POST or PATCH).
func retryable(method string, status int) bool {
	switch status {
	case http.StatusTooManyRequests, http.StatusServiceUnavailable:
		return true
	case http.StatusGatewayTimeout:
		switch method {
		case http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodPut, http.MethodDelete:
			return true
		}
	}
	return false
}

// backoff is the wait before retry number n (1 for the first retry) when
// the answer gave no Retry-After: BaseDelay doubling per retry, capped at
// MaxDelay, with the upper half jittered.
func (p RetryPolicy) backoff(n int) time.Duration {
	d := p.BaseDelay
	for i := 1; i < n && d < p.MaxDelay; i++ {
		d *= 2
	}
	d = min(d, p.MaxDelay)
	half := d / 2
	return half + time.Duration(p.Jitter()*float64(d-half))
}

// Delay is how long to wait before retry number n (1 for the first retry)
// of an answer with the given status and Retry-After header, and whether to
// retry at all: false when the status is not retryable or the server asks
// for longer than MaxRetryAfter.
func (p RetryPolicy) Delay(method string, status int, retryAfter string, n int) (time.Duration, bool) {
	p = p.withDefaults()
	if !retryable(method, status) {
		return 0, false
	}
	if d, found := ParseRetryAfter(retryAfter, p.Now()); found {
		return d, d <= p.MaxRetryAfter
	}
	return p.backoff(n), true
}

// RoundTrip sends req, resending it while the answer is retryable and
// attempts remain. It gives up early, returning the last answer, when the
// wait would outlast the request context's deadline; it returns ctx.Err()
// when the context ends while waiting.
func (r *Retry) RoundTrip(req *http.Request) (*http.Response, error) {
	var body []byte
	if req.Body != nil && req.Body != http.NoBody {
		b, err := io.ReadAll(req.Body)
		req.Body.Close()
		if err != nil {
			return nil, err
		}
		body = b
	}
	ctx := req.Context()
	p := r.policy
	for attempt := 1; ; attempt++ {
		resp, err := r.send(ctx, req, body, attempt)
		if err != nil {
			return nil, err
		}
		if attempt >= p.MaxAttempts || !retryable(req.Method, resp.StatusCode) {
			return resp, nil
		}
		wait, retry := p.Delay(req.Method, resp.StatusCode, resp.Header.Get("Retry-After"), attempt)
		if !retry {
			return resp, nil
		}
		if dl, has := ctx.Deadline(); has && p.Now().Add(wait).After(dl) {
			r.log.Warn("graph retry skipped: wait outlasts the deadline", "method", req.Method, "url", redactURL(req), "status", resp.StatusCode, "wait", wait)
			return resp, nil
		}
		drain(resp)
		if r.obs != nil {
			r.obs.GraphRetry(r.tenant)
		}
		r.log.Info("graph retry", "method", req.Method, "url", redactURL(req), "status", resp.StatusCode,
			"retryAfter", resp.Header.Get("Retry-After"), "wait", wait, "attempt", attempt+1, "of", p.MaxAttempts)
		if err := p.Sleep(ctx, wait); err != nil {
			return nil, err
		}
	}
}

// send makes one attempt with a fresh copy of the body: it waits for the
// pacer (under ctx, not the attempt timeout), then sends under the attempt
// timeout and shows the pacer the answer.
func (r *Retry) send(ctx context.Context, req *http.Request, body []byte, attempt int) (*http.Response, error) {
	out := req.Clone(ctx)
	if body != nil {
		out.Body = io.NopCloser(bytes.NewReader(body))
		out.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
		out.ContentLength = int64(len(body))
	}
	if attempt > 1 {
		out.Header.Set("Retry-Attempt", strconv.Itoa(attempt-1))
	}
	var paced *ticket
	if r.pace != nil {
		var err error
		if out, paced, err = r.pace.admit(ctx, out); err != nil {
			return nil, err
		}
	}
	cancel := context.CancelFunc(func() {})
	if r.policy.AttemptTimeout > 0 {
		var actx context.Context
		actx, cancel = context.WithTimeout(ctx, r.policy.AttemptTimeout)
		out = out.WithContext(actx)
	}
	resp, err := r.next.RoundTrip(out)
	if err != nil {
		cancel()
		if r.pace != nil {
			r.pace.finish(paced)
		}
		return nil, err
	}
	if r.pace != nil {
		r.pace.observe(paced, resp)
	}
	resp.Body = cancelBody{ReadCloser: resp.Body, cancel: cancel}
	return resp, nil
}

// cancelBody ends an attempt's context when its body is closed.
type cancelBody struct {
	io.ReadCloser
	cancel context.CancelFunc
}

// Close closes the body and releases the attempt's context.
func (b cancelBody) Close() error {
	err := b.ReadCloser.Close()
	b.cancel()
	return err
}

// drain discards a bit of a body being abandoned so the connection can be
// reused, and closes it.
func drain(resp *http.Response) {
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
}

// redactURL is the request URL without its query (skip and delta tokens
// are long and opaque).
func redactURL(req *http.Request) string {
	u := *req.URL
	u.RawQuery = ""
	return u.String()
}
