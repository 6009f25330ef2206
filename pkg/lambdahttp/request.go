package lambdahttp

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// request is what an API Gateway HTTP API event and a Function URL event
// both carry, with the stage prefix already removed from rawPath.
type request struct {
	method   string
	rawPath  string
	rawQuery string
	protocol string
	sourceIP string
	domain   string
	headers  map[string]string
	cookies  []string
	body     string
	base64   bool
}

// newRequest builds the server-side *http.Request for in. On failure it
// returns the status to answer: 400 for a malformed event, 413 for a body
// above the limit.
func (a *Adapter) newRequest(ctx context.Context, in request) (*http.Request, int, error) {
	if in.method == "" {
		return nil, http.StatusBadRequest, errors.New("event has no HTTP method")
	}
	body, err := decodeBody(in.body, in.base64)
	if err != nil {
		return nil, http.StatusBadRequest, err
	}
	if limit := a.maxBody(); int64(len(body)) > limit {
		return nil, http.StatusRequestEntityTooLarge, fmt.Errorf("body of %d bytes above %d", len(body), limit)
	}
	target := in.rawPath
	if target == "" {
		target = "/"
	}
	if !strings.HasPrefix(target, "/") {
		return nil, http.StatusBadRequest, fmt.Errorf("path %.64q is not absolute", target)
	}
	if in.rawQuery != "" {
		target += "?" + in.rawQuery
	}
	// As net/http's server does: an absolute path, never a host, and
	// RawQuery exactly as received.
	u, err := url.ParseRequestURI(target)
	if err != nil {
		return nil, http.StatusBadRequest, fmt.Errorf("request target: %w", err)
	}
	r, err := http.NewRequestWithContext(ctx, in.method, "/", bytes.NewReader(body))
	if err != nil {
		return nil, http.StatusBadRequest, fmt.Errorf("request: %w", err)
	}
	r.URL = u
	r.RequestURI = target
	r.GetBody = nil // a server request
	if major, minor, ok := http.ParseHTTPVersion(in.protocol); ok {
		r.Proto, r.ProtoMajor, r.ProtoMinor = in.protocol, major, minor
	}
	r.Header = requestHeader(in.headers, in.cookies)
	r.Host = r.Header.Get("Host")
	r.Header.Del("Host") // in r.Host, as net/http's server does
	if r.Host == "" {
		r.Host = in.domain
	}
	r.Header.Del("Transfer-Encoding") // the body is whole
	if len(body) > 0 {
		r.Header.Set("Content-Length", strconv.Itoa(len(body)))
	} else {
		r.Header.Del("Content-Length")
	}
	if in.sourceIP != "" {
		r.RemoteAddr = net.JoinHostPort(in.sourceIP, "0")
	}
	return r, 0, nil
}

// decodeBody returns an event body's bytes.
func decodeBody(s string, isBase64 bool) ([]byte, error) {
	if !isBase64 {
		return []byte(s), nil
	}
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("base64 body: %w", err)
	}
	return b, nil
}

// requestHeader converts an event's headers (lowercase names, repeated
// values already joined with commas) and cookies to an http.Header. The
// cookies join any cookie header in one Cookie header, "; "-separated.
func requestHeader(headers map[string]string, cookies []string) http.Header {
	h := make(http.Header, len(headers)+1)
	for k, v := range headers {
		k = http.CanonicalHeaderKey(k)
		if old, dup := h[k]; dup {
			// Names differing only in case: join them as the event does.
			v = old[0] + "," + v
		}
		h[k] = []string{v}
	}
	if len(cookies) > 0 {
		parts := cookies
		if c := h.Get("Cookie"); c != "" {
			parts = append([]string{c}, cookies...)
		}
		h.Set("Cookie", strings.Join(parts, "; "))
	}
	return h
}
