package webhook

import (
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// retryAfter is the Retry-After, in seconds, of an over-capacity answer.
// Graph retries a failed delivery with its own exponential backoff for up
// to 4 hours whatever this says; the header tells other clients the refusal
// is brief.
const retryAfter = 1

// overCapacityLogEvery is the least time between two "over capacity" log
// lines; refusals in between are counted, and summed up in the next line.
const overCapacityLogEvery = time.Second

// limit names what a refused request was over.
type limit uint8

const (
	limitNone limit = iota
	limitConcurrency
	limitBufferedBytes
)

// String returns the limit's log value.
func (l limit) String() string {
	switch l {
	case limitConcurrency:
		return "concurrency"
	case limitBufferedBytes:
		return "buffered_bytes"
	}
	return "none"
}

// admission counts the requests in flight and the body bytes admitted for
// them, under one lock so that both limits are checked and taken together.
// The lock is held for a few instructions, never across a read.
type admission struct {
	maxRequests int
	maxBytes    int64

	mu       sync.Mutex
	requests int
	bytes    int64

	// nextLog is the unix time in nanoseconds before which no over-capacity
	// line is logged; unlogged counts the refusals not logged since.
	nextLog  atomic.Int64
	unlogged atomic.Int64
}

// newAdmission returns an admission for at most maxRequests requests and
// maxBytes bytes at once.
func newAdmission(maxRequests int, maxBytes int64) *admission {
	return &admission{maxRequests: maxRequests, maxBytes: maxBytes}
}

// acquire admits a request of n body bytes, or reports the limit it is over.
func (a *admission) acquire(n int64) limit {
	a.mu.Lock()
	defer a.mu.Unlock()
	switch {
	case a.requests >= a.maxRequests:
		return limitConcurrency
	case a.bytes+n > a.maxBytes:
		return limitBufferedBytes
	}
	a.requests++
	a.bytes += n
	return limitNone
}

// release returns what acquire(n) took.
func (a *admission) release(n int64) {
	a.mu.Lock()
	a.requests--
	a.bytes -= n
	a.mu.Unlock()
}

// load returns the requests in flight and the bytes admitted, for the log.
func (a *admission) load() (int, int64) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.requests, a.bytes
}

// logAllowed reports whether an over-capacity line may be logged at now and
// how many refusals went unlogged before this one; at most one line per
// overCapacityLogEvery is allowed.
func (a *admission) logAllowed(now time.Time) (unlogged int64, ok bool) {
	t := now.UnixNano()
	next := a.nextLog.Load()
	if t < next || !a.nextLog.CompareAndSwap(next, t+int64(overCapacityLogEvery)) {
		a.unlogged.Add(1)
		return 0, false
	}
	return a.unlogged.Swap(0), true
}

// admittedBytes is what a request is admitted for: its declared length, or
// MaxBody when the length is unknown. (A declared length above MaxBody was
// refused before; net/http's server never reads past a declared length, and
// the body is read through http.MaxBytesReader anyway.)
func (h *Handler) admittedBytes(r *http.Request) int64 {
	n := r.ContentLength
	if n < 0 || (n == 0 && r.Body != nil && r.Body != http.NoBody) {
		// Unknown, or a zero length beside a body (a caller other than
		// net/http's server): count the most it may read.
		n = h.maxBody
	}
	return n
}

// admitRequest admits a notification request against MaxConcurrent and
// MaxBufferedBytes, and returns the function that releases it. Over either
// limit it answers at once, without reading the body: 503 Service
// Unavailable with Retry-After.
//
// 503, not 429: Graph's webhook docs
// (https://learn.microsoft.com/en-us/graph/change-notifications-delivery-webhooks,
// "HTTP codes and retry logic") retry any non-2xx answer for up to 4 hours
// with exponential backoff, and name a 5xx class code as the way to say a
// notification was not processed or queued so that Graph retries it; they
// say nothing of 429 for a webhook. A fast refusal is not a slow response,
// so it does not count toward Graph's throttling of slow endpoints (more
// than 10% of answers later than 3 s).
func (h *Handler) admitRequest(w http.ResponseWriter, r *http.Request) (release func(), ok bool) {
	n := h.admittedBytes(r)
	over := h.admit.acquire(n)
	if over == limitNone {
		return func() { h.admit.release(n) }, true
	}
	switch over {
	case limitConcurrency:
		h.stats.overConcurrency.Add(1)
	case limitBufferedBytes:
		h.stats.overBufferedBytes.Add(1)
	}
	if unlogged, ok := h.admit.logAllowed(h.now()); ok {
		inFlight, buffered := h.admit.load()
		h.log.WarnContext(r.Context(), "webhook over capacity",
			"limit", over.String(), "in_flight", inFlight, "buffered_bytes", buffered,
			"admitting_bytes", n, "unlogged", unlogged)
	}
	hd := w.Header()
	hd.Set("Retry-After", strconv.Itoa(retryAfter))
	if r.ProtoMajor == 1 {
		// Do not let net/http read (to discard) up to 256 KiB of a body
		// refused for load: close the connection instead. Not on HTTP/2,
		// where net/http answers "Connection: close" with a GOAWAY that
		// winds down the whole connection, and an unread stream is reset
		// at no cost.
		hd.Set("Connection", "close")
	}
	http.Error(w, http.StatusText(http.StatusServiceUnavailable)+": over capacity, retry later", http.StatusServiceUnavailable)
	return nil, false
}
