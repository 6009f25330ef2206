package lambdahttp

import (
	"bytes"
	"encoding/base64"
	"net/http"
	"strings"
	"unicode/utf8"
)

// recorder is the http.ResponseWriter the handler writes to: it keeps the
// status, headers and body for the event response and follows net/http's
// server rules where a handler can tell (1xx statuses are not final, no body
// for 204 and 304, a HEAD response body is dropped, Content-Type sniffed
// when not set).
type recorder struct {
	header http.Header
	status int
	body   bytes.Buffer
	wrote  bool
	head   bool
}

// newRecorder returns a recorder; head drops the body, for a HEAD request.
func newRecorder(head bool) *recorder {
	return &recorder{header: make(http.Header), head: head}
}

// Header returns the response header map.
func (w *recorder) Header() http.Header { return w.header }

// WriteHeader records the status once; informational (1xx) statuses are
// ignored, as the event response cannot carry them, and an invalid code
// becomes 500.
func (w *recorder) WriteHeader(code int) {
	if w.wrote {
		return
	}
	if code < 100 || code > 999 {
		code = http.StatusInternalServerError
	}
	if code < 200 {
		return
	}
	w.status = code
	w.wrote = true
}

// Write appends to the body, writing a 200 status first if none was.
func (w *recorder) Write(p []byte) (int, error) {
	if !w.wrote {
		w.WriteHeader(http.StatusOK)
	}
	if !bodyAllowed(w.status) {
		return 0, http.ErrBodyNotAllowed
	}
	if w.head {
		return len(p), nil
	}
	return w.body.Write(p)
}

// Flush does nothing: the response is sent whole, when the handler returns.
func (w *recorder) Flush() {}

// bodyAllowed reports whether a status may have a body.
func bodyAllowed(status int) bool {
	return status >= 200 && status != http.StatusNoContent && status != http.StatusNotModified
}

// reply is an event response, before it becomes the event type.
type reply struct {
	status  int
	headers map[string]string
	cookies []string
	body    string
	base64  bool
}

// reply returns what the handler wrote.
func (w *recorder) reply() reply {
	status := w.status
	if !w.wrote {
		status = http.StatusOK
	}
	body := w.body.Bytes()
	if _, set := w.header["Content-Type"]; !set && len(body) > 0 {
		w.header.Set("Content-Type", http.DetectContentType(body))
	}
	out := reply{status: status, headers: make(map[string]string, len(w.header))}
	for k, vs := range w.header {
		if len(vs) == 0 {
			continue
		}
		if http.CanonicalHeaderKey(k) == "Set-Cookie" {
			out.cookies = append(out.cookies, vs...)
			continue
		}
		out.headers[k] = strings.Join(vs, ",")
	}
	if utf8.Valid(body) {
		out.body = string(body)
	} else {
		out.body = base64.StdEncoding.EncodeToString(body)
		out.base64 = true
	}
	return out
}

// errorReply is a refusal: the status and its text, like http.Error.
func errorReply(status int) reply {
	return reply{
		status: status,
		headers: map[string]string{
			"Content-Type":           "text/plain; charset=utf-8",
			"X-Content-Type-Options": "nosniff",
		},
		body: http.StatusText(status) + "\n",
	}
}
