package lambdahttp

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"runtime/debug"
)

// DefaultMaxBody is the request body limit, in bytes after base64 decoding,
// used when Adapter.MaxBody is zero. It is webhook.DefaultMaxBody: Graph's
// change notifications are far smaller.
const DefaultMaxBody int64 = 1 << 20

// Adapter serves Lambda HTTP events with Handler. The zero MaxBody and a nil
// Log take the defaults. An Adapter is safe for concurrent use.
type Adapter struct {
	// Handler serves the requests. Required: without it every event is
	// answered 500.
	Handler http.Handler
	// MaxBody caps the decoded request body in bytes; zero means
	// DefaultMaxBody. Larger bodies are answered 413 without calling
	// Handler.
	MaxBody int64
	// Log receives refused events and handler panics; nil means
	// slog.Default(). A Lambda function passes its own (JSON) logger.
	Log *slog.Logger
}

// maxBody returns the body limit in effect.
func (a *Adapter) maxBody() int64 {
	if a.MaxBody > 0 {
		return a.MaxBody
	}
	return DefaultMaxBody
}

// log returns the logger in effect.
func (a *Adapter) log() *slog.Logger {
	if a.Log != nil {
		return a.Log
	}
	return slog.Default()
}

// serve turns one event's request into a reply: a refusal for a malformed
// or oversized event, a 500 when the handler panics, else what the handler
// wrote.
func (a *Adapter) serve(ctx context.Context, in request) reply {
	r, status, err := a.newRequest(ctx, in)
	if err != nil {
		a.log().InfoContext(ctx, "lambdahttp: event refused", "status", status, "err", err)
		return errorReply(status)
	}
	if a.Handler == nil {
		a.log().ErrorContext(ctx, "lambdahttp: no handler")
		return errorReply(http.StatusInternalServerError)
	}
	w := newRecorder(r.Method == http.MethodHead)
	if !a.run(w, r) {
		return errorReply(http.StatusInternalServerError)
	}
	return w.reply()
}

// run calls the handler and reports false when it panicked. As with
// net/http, a panic with http.ErrAbortHandler is not logged.
func (a *Adapter) run(w http.ResponseWriter, r *http.Request) (ok bool) {
	defer func() {
		v := recover()
		if v == nil {
			return
		}
		ok = false
		if err, isErr := v.(error); isErr && errors.Is(err, http.ErrAbortHandler) {
			return
		}
		a.log().ErrorContext(r.Context(), "lambdahttp: handler panicked",
			"method", r.Method, "path", r.URL.Path, "panic", v, "stack", string(debug.Stack()))
	}()
	a.Handler.ServeHTTP(w, r)
	return true
}
