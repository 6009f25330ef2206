package webhook

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
)

// DefaultMaxBody is the request body limit used when Config.MaxBody is zero.
const DefaultMaxBody int64 = 1 << 20

// Routes of the handler, relative to where the caller mounts it.
const (
	// PathNotifications receives change notifications.
	PathNotifications = "/notifications"
	// PathLifecycle receives lifecycle notifications.
	PathLifecycle = "/lifecycle"
	// PathHealth answers 200 "ok" to GET and HEAD.
	PathHealth = "/healthz"
)

// Config configures a Handler.
type Config struct {
	// Subscriptions says which subscriptions are ours. Required.
	Subscriptions Subscriptions
	// InScope reports whether a source group is synced; it receives a
	// lowercase GUID. Required.
	InScope func(groupID string) bool
	// Sink receives accepted changes and lifecycle events. Required.
	Sink Sink
	// Log receives security events and errors; nil discards them.
	Log *slog.Logger
	// MaxBody caps a request body in bytes; zero means DefaultMaxBody.
	MaxBody int64
}

// Handler is the Graph change-notification endpoint. It is safe for
// concurrent use.
type Handler struct {
	subs    Subscriptions
	inScope func(string) bool
	sink    Sink
	log     *slog.Logger
	maxBody int64
	stats   counters
}

// New returns a Handler for cfg.
func New(cfg Config) (*Handler, error) {
	var errs []error
	if cfg.Subscriptions == nil {
		errs = append(errs, errors.New("Subscriptions is nil"))
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
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("webhook config: %w", err)
	}
	h := &Handler{
		subs:    cfg.Subscriptions,
		inScope: cfg.InScope,
		sink:    cfg.Sink,
		log:     cfg.Log,
		maxBody: cfg.MaxBody,
	}
	if h.log == nil {
		h.log = slog.New(slog.DiscardHandler)
	}
	if h.maxBody == 0 {
		h.maxBody = DefaultMaxBody
	}
	return h, nil
}

// ServeHTTP routes a request: POST /notifications, POST /lifecycle and
// GET /healthz; other paths answer 404 and other methods 405 with Allow.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case PathNotifications, PathLifecycle:
		if r.Method != http.MethodPost {
			h.refuseMethod(w, r, http.MethodPost)
			return
		}
		if r.URL.RawQuery != "" && h.validate(w, r) {
			return
		}
		if r.URL.Path == PathNotifications {
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

// refuseMethod answers 405 with the allowed methods.
func (h *Handler) refuseMethod(w http.ResponseWriter, r *http.Request, allow string) {
	w.Header().Set("Allow", allow)
	h.refuse(w, r, http.StatusMethodNotAllowed, fmt.Errorf("method %.16q not allowed", r.Method))
}

// refuse counts and logs a refused request and answers status with its
// standard text only, so the caller learns nothing more.
func (h *Handler) refuse(w http.ResponseWriter, r *http.Request, status int, err error) {
	h.stats.badRequests.Add(1)
	level := slog.LevelInfo
	if status == http.StatusNotFound || status == http.StatusMethodNotAllowed {
		level = slog.LevelDebug // scanners: not worth a line each
	}
	h.log.Log(r.Context(), level, "webhook request refused", "status", status, "err", err)
	http.Error(w, http.StatusText(status), status)
}
