package webhook

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"
)

// Defaults used when the matching Config field is zero.
const (
	// DefaultMaxBody is the request body limit, in bytes.
	DefaultMaxBody int64 = 1 << 20
	// DefaultMaxItems is the most items one body's "value" array may hold.
	// Graph documents no batch size: its webhook docs
	// (https://learn.microsoft.com/en-us/graph/change-notifications-delivery-webhooks)
	// say only that one POST can carry a collection of change
	// notifications, for several subscriptions. A basic group notification
	// is about 500 bytes, so the 1 MiB body limit alone would allow some
	// 2,000; 1,000 leaves Graph ample room and keeps the decoded form of a
	// body small (a body of {} items would otherwise decode to 350,000).
	// A refused batch is retried by Graph and, failing that, repaired by the
	// next reconcile.
	DefaultMaxItems = 1000
	// DefaultMaxConcurrent is how many notification requests are read and
	// processed at once.
	DefaultMaxConcurrent = 8
	// DefaultMaxBufferedBytes caps the bytes admitted across the requests in
	// flight (raised to MaxBody when that is larger).
	DefaultMaxBufferedBytes int64 = 8 << 20
	// DefaultLifecycleCoalesce is the window in which a lifecycle event is
	// passed on once per subscription.
	DefaultLifecycleCoalesce = 5 * time.Minute
)

// Routes of the handler, relative to where the caller mounts it.
const (
	// PathNotifications receives change notifications.
	PathNotifications = "/notifications"
	// PathLifecycle receives lifecycle notifications.
	PathLifecycle = "/lifecycle"
	// PathHealth answers 200 "ok" to GET and HEAD.
	PathHealth = "/healthz"
)

// Config configures a Handler. Only Lookup, InScope and Sink are
// required (and MirrorOf once there are mirrors subscriptions); every limit
// has a default.
type Config struct {
	// Lookup says which subscriptions are ours. Required.
	Lookup SubscriptionLookup
	// InScope reports whether a source group is synced; it receives a
	// lowercase GUID and the request's context (bounding any I/O the check
	// does). Required. Users are not checked against it.
	InScope func(ctx context.Context, groupID string) bool
	// MirrorOf maps a mirror, a target group, to its source group; it
	// receives a lowercase GUID and the request's context (bounding any I/O
	// the lookup does), and returns false for a target group that is not a
	// mirror. The items of a mirrors subscription (Subscription.Mirrors)
	// name target groups: those MirrorOf does not know are out of scope.
	// Nil rejects every such item as out of scope; it is needed once a
	// mirrors subscription exists.
	MirrorOf func(ctx context.Context, targetGroupID string) (sourceGroupID string, ok bool)
	// Sink receives accepted group, user and mirror changes and lifecycle
	// events. Required.
	Sink Sink
	// Log receives security events and errors; nil discards them.
	Log *slog.Logger
	// MaxBody caps a request body in bytes (413 above it); zero means
	// DefaultMaxBody.
	MaxBody int64
	// MaxItems caps the items of one body (413 above it, and nothing of
	// the body is acted on); zero means DefaultMaxItems.
	MaxItems int
	// MaxConcurrent caps the notification requests read and processed at
	// once; one more is answered 503 with Retry-After at once, its body
	// unread. Zero means DefaultMaxConcurrent. Validation requests are not
	// counted (see ServeHTTP).
	MaxConcurrent int
	// MaxBufferedBytes caps the body bytes admitted across the requests in
	// flight: a request is admitted for its Content-Length, or for MaxBody
	// when the length is unknown, and answered 503 with Retry-After when
	// that would pass the cap. Zero means DefaultMaxBufferedBytes, or
	// MaxBody if larger; a set value must be at least MaxBody.
	MaxBufferedBytes int64
	// LifecycleCoalesce is the window in which at most one of each
	// lifecycle event per subscription is passed to Sink.Lifecycle; later
	// ones are answered 202 and counted, not passed on. Zero means
	// DefaultLifecycleCoalesce; a negative value passes every event on.
	LifecycleCoalesce time.Duration
	// Now tells the time, for the lifecycle window and the log rate limit;
	// nil means time.Now.
	Now func() time.Time
}

// Handler is the Graph change-notification endpoint. It is safe for
// concurrent use.
type Handler struct {
	subs     SubscriptionLookup
	inScope  func(context.Context, string) bool
	mirrorOf func(context.Context, string) (string, bool) // nil: no mirrors
	sink     Sink
	log      *slog.Logger
	maxBody  int64
	maxItems int
	now      func() time.Time
	admit    *admission
	seen     *coalescer // nil: lifecycle events are not coalesced
	stats    counters
}

// New returns a Handler for cfg.
func New(cfg Config) (*Handler, error) {
	var errs []error
	if cfg.Lookup == nil {
		errs = append(errs, errors.New("lookup (Config.Lookup) is nil"))
	}
	if cfg.InScope == nil {
		errs = append(errs, errors.New("InScope is nil"))
	}
	if cfg.Sink == nil {
		errs = append(errs, errors.New("Sink is nil"))
	}
	if cfg.MaxBody < 0 {
		errs = append(errs, fmt.Errorf("MaxBody %d is negative", cfg.MaxBody))
	}
	if cfg.MaxItems < 0 {
		errs = append(errs, fmt.Errorf("MaxItems %d is negative", cfg.MaxItems))
	}
	if cfg.MaxConcurrent < 0 {
		errs = append(errs, fmt.Errorf("MaxConcurrent %d is negative", cfg.MaxConcurrent))
	}
	maxBody := orDefault(cfg.MaxBody, DefaultMaxBody)
	maxBuffered := cfg.MaxBufferedBytes
	switch {
	case maxBuffered < 0:
		errs = append(errs, fmt.Errorf("MaxBufferedBytes %d is negative", maxBuffered))
	case maxBuffered == 0:
		maxBuffered = max(DefaultMaxBufferedBytes, maxBody)
	case maxBuffered < maxBody:
		// A request of unknown length is admitted for MaxBody: it could
		// never be.
		errs = append(errs, fmt.Errorf("MaxBufferedBytes %d is below MaxBody %d", maxBuffered, maxBody))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("webhook config: %w", err)
	}
	h := &Handler{
		subs:     cfg.Lookup,
		inScope:  cfg.InScope,
		mirrorOf: cfg.MirrorOf,
		sink:     cfg.Sink,
		log:      cfg.Log,
		maxBody:  maxBody,
		maxItems: orDefault(cfg.MaxItems, DefaultMaxItems),
		now:      cfg.Now,
		admit:    newAdmission(orDefault(cfg.MaxConcurrent, DefaultMaxConcurrent), maxBuffered),
	}
	if h.log == nil {
		h.log = slog.New(slog.DiscardHandler)
	}
	if h.now == nil {
		h.now = time.Now
	}
	if window := orDefault(cfg.LifecycleCoalesce, DefaultLifecycleCoalesce); window > 0 {
		h.seen = newCoalescer(window, maxCoalesced)
	}
	return h, nil
}

// orDefault returns v, or def when v is zero.
func orDefault[T comparable](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	return v
}

// ServeHTTP routes a request: POST /notifications, POST /lifecycle and
// GET /healthz; other paths answer 404 and other methods 405 with Allow.
//
// A notification POST is checked in this order, each step cheaper than the
// next: method, validation token, content type and declared length (415,
// 413), admission against MaxConcurrent and MaxBufferedBytes (503), then
// the body, streamed. A validation request is answered before admission and
// is not counted against the limits: it is what Graph sends while creating
// or recreating a subscription, and must get its 200 within 10 s however
// busy the endpoint is; it carries no body to buffer, its body is never
// read, and its query is bounded by the server's header limit.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	route := route(r.URL.Path)
	switch route {
	case PathNotifications, PathLifecycle:
		if r.Method != http.MethodPost {
			h.refuseMethod(w, r, http.MethodPost)
			return
		}
		if r.URL.RawQuery != "" && h.validate(w, r) {
			return
		}
		if !h.checkHeaders(w, r) {
			return
		}
		release, ok := h.admitRequest(w, r)
		if !ok {
			return
		}
		defer release()
		if route == PathNotifications {
			h.serveNotifications(w, r)
		} else {
			h.serveLifecycle(w, r)
		}
	case PathHealth:
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			h.refuseMethod(w, r, "GET, HEAD")
			return
		}
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		_, _ = w.Write([]byte("ok"))
	default:
		h.refuse(w, r, http.StatusNotFound, errors.New("unknown path"))
	}
}

// route is a request path's last segment, with its slash: the handler
// serves whatever prefix its endpoint has (serve's public_url path, an API
// stage, a custom domain's base path).
func route(path string) string {
	if i := strings.LastIndex(path, "/"); i > 0 {
		return path[i:]
	}
	return path
}

// refuseMethod answers 405 with the allowed methods.
func (h *Handler) refuseMethod(w http.ResponseWriter, r *http.Request, allow string) {
	w.Header().Set("Allow", allow)
	h.refuse(w, r, http.StatusMethodNotAllowed, fmt.Errorf("method %.16q not allowed", r.Method))
}

// refuse counts and logs a refused request and answers status with its
// standard text only, so the caller learns nothing more.
func (h *Handler) refuse(w http.ResponseWriter, r *http.Request, status int, err error) {
	h.refuseWith(w, r, status, http.StatusText(status), err)
}

// refuseWith is refuse with a fixed answer text of the handler's own (never
// anything received).
func (h *Handler) refuseWith(w http.ResponseWriter, r *http.Request, status int, text string, err error) {
	h.stats.badRequests.Add(1)
	level := slog.LevelInfo
	if status == http.StatusNotFound || status == http.StatusMethodNotAllowed {
		level = slog.LevelDebug // scanners: not worth a line each
	}
	h.log.Log(r.Context(), level, "webhook request refused", "status", status, "err", err)
	http.Error(w, text, status)
}
