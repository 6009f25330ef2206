package graphemu

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"time"
)

// graphErr is an error answered with Graph's error body.
type graphErr struct {
	status     int
	code       string
	message    string
	retryAfter time.Duration // sets Retry-After when > 0
	// scope and info, on a 429 for a budget, are Graph's
	// x-ms-throttle-scope and x-ms-throttle-information (see throttled).
	scope, info string
}

func (g *graphErr) Error() string { return fmt.Sprintf("%d %s: %s", g.status, g.code, g.message) }

func errf(status int, code, format string, args ...any) *graphErr {
	return &graphErr{status: status, code: code, message: fmt.Sprintf(format, args...)}
}

func errNotFound(id string) *graphErr {
	return errf(404, "Request_ResourceNotFound", "Resource '%s' does not exist or one of its queried reference-property objects are not present.", id)
}

func errBadID(id string) *graphErr {
	return errf(400, "Request_BadRequest", "Invalid object identifier '%s'.", id)
}

func errBadJSON() *graphErr {
	return errf(400, "BadRequest", "Unable to read JSON request payload. Please ensure Content-Type header is set and payload is of valid JSON format.")
}

func errMethod() *graphErr {
	return errf(405, "Request_BadRequest", "Specified HTTP method is not allowed for the request target.")
}

func errUnsupportedQuery(format string, args ...any) *graphErr {
	return errf(400, "Request_UnsupportedQuery", format, args...)
}

func errThrottled(after time.Duration) *graphErr {
	return &graphErr{status: 429, code: "TooManyRequests", message: "Please retry again later.", retryAfter: after}
}

// Graph's headers on a throttled answer of the identity and access
// service: "x-ms-throttle-scope - eg.
// Tenant_Application/ReadWrite/<app>/<tenant> ... Limit: Read, Write,
// ReadWrite" and "x-ms-throttle-information - Indicates the reason for
// throttling ... WriteLimitExceeded ... ResourceUnitLimitExceeded"
// (https://learn.microsoft.com/graph/throttling-limits, Identity and access
// service limits, "Throttled responses requests").
const (
	headerThrottleScope = "x-ms-throttle-scope"
	headerThrottleInfo  = "x-ms-throttle-information"
)

// headers returns the headers of ge's answer other than Content-Type.
func (ge *graphErr) headers() map[string]string {
	h := map[string]string{}
	if ge.retryAfter > 0 {
		h["Retry-After"] = formatRetryAfter(ge.retryAfter)
	}
	if ge.scope != "" {
		h[headerThrottleScope] = ge.scope
	}
	if ge.info != "" {
		h[headerThrottleInfo] = ge.info
	}
	return h
}

// formatRetryAfter writes a delay as Graph does: seconds, possibly
// fractional ("2.128").
func formatRetryAfter(d time.Duration) string {
	ms := d.Milliseconds()
	if ms < 1 {
		ms = 1
	}
	if ms%1000 == 0 {
		return strconv.FormatInt(ms/1000, 10)
	}
	return strconv.FormatFloat(float64(ms)/1000, 'f', -1, 64)
}

const graphContentType = "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8"

// errorBody is Graph's error envelope for ge.
func errorBody(now time.Time, reqID, clientReqID string, ge *graphErr) map[string]any {
	inner := map[string]any{
		"date":              now.UTC().Format("2006-01-02T15:04:05"),
		"request-id":        reqID,
		"client-request-id": clientReqID,
	}
	if ge.status == 429 {
		inner["code"] = "429"
		inner["status"] = "429"
		inner["message"] = "Please retry after"
	}
	return map[string]any{"error": map[string]any{"code": ge.code, "message": ge.message, "innerError": inner}}
}

// writeError answers with Graph's error envelope.
func writeError(w http.ResponseWriter, now time.Time, reqID, clientReqID string, ge *graphErr) {
	w.Header().Set("Content-Type", "application/json")
	for k, v := range ge.headers() {
		w.Header()[k] = []string{v}
	}
	w.WriteHeader(ge.status)
	_ = json.NewEncoder(w).Encode(errorBody(now, reqID, clientReqID, ge))
}
