package webhook_test

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// TestBadInput: forged, odd or oversized requests are never acted on, never
// crash the handler, and get the status Graph's protocol calls for: 202 for
// items that fail their checks (counted by reason; a forger learns nothing),
// 4xx for requests that are not notifications at all.
func TestBadInput(t *testing.T) {
	one := func(item map[string]any) *http.Request { return post("/notifications", body(t, item)) }
	rejected := func(item map[string]any, reason string) reqCase {
		return reqCase{req: one(item), wantStatus: http.StatusAccepted, wantRejected: map[string]int64{reason: 1}}
	}
	raw := func(s string) *http.Request { return post("/notifications", []byte(s)) }
	bad := func(r *http.Request, status int) reqCase { return reqCase{req: r, wantStatus: status, wantBad: 1} }
	named := func(name string, c reqCase) reqCase { c.name = name; return c }
	allow := func(c reqCase, methods string) reqCase {
		c.wantHeader = map[string]string{"Allow": methods}
		return c
	}
	good := goodItem(groupA)

	cases := []reqCase{
		// clientState
		named("clientState forged", rejected(with(good, "clientState", forged), "client_state")),
		named("clientState empty", rejected(with(good, "clientState", ""), "client_state")),
		named("clientState missing", rejected(with(good, "clientState", nil), "client_state")),
		named("clientState prefix", rejected(with(good, "clientState", secretA[:len(secretA)-1]), "client_state")),
		named("clientState longer", rejected(with(good, "clientState", secretA+"x"), "client_state")),
		named("clientState other case", rejected(with(good, "clientState", strings.ToUpper(secretA)), "client_state")),
		named("clientState of another subscription", rejected(with(good, "clientState", secretB), "client_state")),
		named("subscription without clientState, empty sent", rejected(with(with(good, "subscriptionId", subEmpty), "clientState", ""), "client_state")),
		// subscription
		named("unknown subscription", rejected(with(good, "subscriptionId", "11111111-2222-4333-8444-555555555555"), "unknown_subscription")),
		named("subscription id other case", rejected(with(good, "subscriptionId", strings.ToUpper(subA)), "unknown_subscription")),
		named("subscription missing", rejected(with(good, "subscriptionId", nil), "unknown_subscription")),
		named("subscription huge", rejected(with(good, "subscriptionId", strings.Repeat("x", 100000)), "unknown_subscription")),
		// tenant
		named("other tenant", rejected(with(good, "tenantId", tenantB), "tenant")),
		named("tenant missing", rejected(with(good, "tenantId", nil), "tenant")),
		named("organizationId other tenant", rejected(with(good, "resourceData.organizationId", tenantB), "tenant")),
		named("other tenant with its own subscription id", rejected(with(good, "subscriptionId", subB), "client_state")),
		// resource
		named("resource Users", rejected(with(good, "resource", "Users/"+groupA), "resource")),
		named("resource Groups/", rejected(with(good, "resource", "Groups/"), "resource")),
		named("resource Groups", rejected(with(good, "resource", "Groups"), "resource")),
		named("resource empty", rejected(with(good, "resource", ""), "resource")),
		named("resource missing", rejected(with(good, "resource", nil), "resource")),
		named("resource members", rejected(with(good, "resource", "Groups/"+groupA+"/members"), "resource")),
		named("resource leading slash", rejected(with(good, "resource", "/Groups/"+groupA), "resource")),
		named("resource trailing space", rejected(with(good, "resource", "Groups/"+groupA+" "), "resource")),
		named("resource key syntax", rejected(with(good, "resource", "Groups('"+groupA+"')"), "resource")),
		named("resource traversal", rejected(with(good, "resource", "Groups/../../x"), "resource")),
		named("resource not a GUID", rejected(with(good, "resource", "Groups/abc"), "resource")),
		named("resource GUID with g", rejected(with(good, "resource", "Groups/"+groupA[:35]+"g"), "resource")),
		named("resource GUID braced", rejected(with(good, "resource", "Groups/{"+groupA+"}"), "resource")),
		named("resource GUID without dashes", rejected(with(good, "resource", "Groups/"+strings.ReplaceAll(groupA, "-", "")+"0000"), "resource")),
		named("resource GUID with NUL", rejected(with(good, "resource", "Groups/"+groupA[:35]+"\x00"), "resource")),
		named("resourceData.id other group", rejected(with(good, "resourceData.id", groupB), "resource")),
		named("resourceData not an object", rejected(with(good, "resourceData", "Groups/"+groupA), "malformed_item")),
		// scope and change type
		named("out of scope", rejected(goodItem(groupOut), "out_of_scope")),
		named("changeType created", rejected(with(good, "changeType", "created"), "change_type")),
		named("changeType Updated", rejected(with(good, "changeType", "Updated"), "change_type")),
		named("changeType list", rejected(with(good, "changeType", "updated,deleted"), "change_type")),
		named("changeType missing", rejected(with(good, "changeType", nil), "change_type")),
		named("lifecycle item on /notifications", rejected(lifecycleItem(subA, secretA, tenantA, "missed"), "change_type")),
		// items that are not items
		named("item is a number", reqCase{req: raw(`{"value":[1]}`), wantStatus: 202, wantRejected: map[string]int64{"malformed_item": 1}}),
		named("item is null, like {}", reqCase{req: raw(`{"value":[null]}`), wantStatus: 202, wantRejected: map[string]int64{"unknown_subscription": 1}}),
		named("item is null beside a number", reqCase{req: raw(`{"value":[null,2]}`), wantStatus: 202, wantRejected: map[string]int64{"unknown_subscription": 1, "malformed_item": 1}}),
		named("good item beside a malformed one", reqCase{req: raw(`{"value":[` + string(mustJSON(t, good)) + `,{"resource":["x"]}]}`), wantStatus: 202,
			wantChanged: [][]string{{groupA}}, wantAccepted: 1, wantRejected: map[string]int64{"malformed_item": 1}}),
		named("item is a string", reqCase{req: raw(`{"value":["Groups/` + groupA + `"]}`), wantStatus: 202, wantRejected: map[string]int64{"malformed_item": 1}}),
		named("item field of wrong type", reqCase{req: raw(`{"value":[{"clientState":5}]}`), wantStatus: 202, wantRejected: map[string]int64{"malformed_item": 1}}),
		named("item empty object", reqCase{req: raw(`{"value":[{}]}`), wantStatus: 202, wantRejected: map[string]int64{"unknown_subscription": 1}}),
		// The Graph docs' own change notification (an Outlook message).
		named("graph sample message notification", reqCase{
			req: post("/notifications", sample(t, "change-notification-webhook-message.json",
				map[string]any{"subscriptionId": subA, "clientState": secretA, "tenantId": tenantA})),
			wantStatus: 202, wantRejected: map[string]int64{"change_type": 1},
		}),
		named("graph sample message notification as updated", reqCase{
			req: post("/notifications", sample(t, "change-notification-webhook-message.json",
				map[string]any{"subscriptionId": subA, "clientState": secretA, "tenantId": tenantA, "changeType": "updated"})),
			wantStatus: 202, wantRejected: map[string]int64{"resource": 1},
		}),

		// malformed bodies
		named("malformed JSON", bad(raw(`{"value":[`), 400)),
		named("not JSON", bad(raw(`not json`), 400)),
		named("trailing data", bad(raw(string(body(t, good))+`{}`), 400)),
		named("body empty", bad(raw(``), 400)),
		named("body null", bad(raw(`null`), 400)),
		named("body array", bad(raw(`[`+string(body(t, good))+`]`), 400)),
		named("value empty", bad(raw(`{"value":[]}`), 400)),
		named("value missing", bad(raw(`{"values":[{}]}`), 400)),
		named("value null", bad(raw(`{"value":null}`), 400)),
		named("value object", bad(raw(`{"value":{}}`), 400)),
		named("value string", bad(raw(`{"value":"x"}`), 400)),
		named("invalid UTF-8 in JSON", reqCase{req: raw("{\"value\":[{\"subscriptionId\":\"\xff\"}]}"), wantStatus: 202, wantRejected: map[string]int64{"unknown_subscription": 1}}),
		named("lifecycle malformed JSON", bad(post("/lifecycle", []byte(`{"value":[{]}`)), 400)),
		named("lifecycle value empty", bad(post("/lifecycle", []byte(`{"value":[]}`)), 400)),
		named("body 2 MiB", bad(post("/notifications", padded(t, 2<<20, good)), 413)),
		named("body 2 MiB, length unknown", bad(unknownLength(post("/notifications", padded(t, 2<<20, good))), 413)),
		named("lifecycle body 2 MiB", bad(post("/lifecycle", padded(t, 2<<20, lifecycleItem(subA, secretA, tenantA, "missed"))), 413)),
		named("body one byte over MaxBody", reqCase{req: unknownLength(post("/notifications", padded(t, 4097, good))), maxBody: 4096, wantStatus: 413, wantBad: 1}),

		// content type and encoding
		named("content type text/plain", bad(postAs("/notifications", "text/plain", body(t, good)), 415)),
		named("content type missing", bad(postAs("/notifications", "", body(t, good)), 415)),
		named("content type xml", bad(postAs("/notifications", "application/xml", body(t, good)), 415)),
		named("content type json-seq", bad(postAs("/notifications", "application/json-seq", body(t, good)), 415)),
		named("content type jsonx", bad(postAs("/notifications", "application/jsonx", body(t, good)), 415)),
		named("content type form", bad(postAs("/notifications", "application/x-www-form-urlencoded", body(t, good)), 415)),
		named("content type malformed", bad(postAs("/notifications", "application/json; charset", body(t, good)), 415)),
		named("content encoding gzip", bad(withHeader(post("/notifications", body(t, good)), "Content-Encoding", "gzip"), 415)),
		named("lifecycle content type text/plain", bad(postAs("/lifecycle", "text/plain", body(t, good)), 415)),

		// routes
		named("GET notifications", allow(bad(httptest.NewRequest(http.MethodGet, "/notifications", nil), 405), "POST")),
		named("GET notifications with token", allow(bad(httptest.NewRequest(http.MethodGet, "/notifications?validationToken=abc", nil), 405), "POST")),
		named("PUT lifecycle", allow(bad(httptest.NewRequest(http.MethodPut, "/lifecycle", nil), 405), "POST")),
		named("POST healthz", allow(bad(httptest.NewRequest(http.MethodPost, "/healthz", nil), 405), "GET, HEAD")),
		named("unknown path", bad(post("/", body(t, good)), 404)),
		named("trailing slash", bad(post("/notifications/", body(t, good)), 404)),
		named("upper case path", bad(post("/Notifications", body(t, good)), 404)),
		named("path traversal", bad(post("/x/../notifications/..", body(t, good)), 404)),

		// validation tokens
		validation("token with spaces", "/notifications", "validationToken=Validation%3A%20Testing%20client%20application%20reachability%20for%20subscription%20Request-Id%3A%203b3f9821-ce3f-23d9-879b-00a23f3",
			"Validation: Testing client application reachability for subscription Request-Id: 3b3f9821-ce3f-23d9-879b-00a23f3"),
		validation("token unicode", "/notifications", "validationToken="+url.QueryEscape("Zürich ✓ 日本語 🚀"), "Zürich ✓ 日本語 🚀"),
		validation("token encoded plus", "/notifications", "validationToken=a%2Bb%2B%2B", "a+b++"),
		validation("token raw plus is a space", "/notifications", "validationToken=a+b", "a b"),
		validation("token ampersand and equals", "/notifications", "validationToken="+url.QueryEscape("a&b=c&validationToken=d"), "a&b=c&validationToken=d"),
		validation("token script", "/notifications", "validationToken="+url.QueryEscape("<script>alert('x')</script>"), "<script>alert('x')</script>"),
		validation("token percent", "/notifications", "validationToken=100%25", "100%"),
		validation("token quotes and backslash", "/notifications", "validationToken="+url.QueryEscape(`"\'`), `"\'`),
		validation("token 1024 bytes", "/notifications", "validationToken="+strings.Repeat("v", 1024), strings.Repeat("v", 1024)),
		validation("token with other params", "/notifications", "foo=bar&validationToken=tok", "tok"),
		validation("token on lifecycle", "/lifecycle", "validationToken="+url.QueryEscape("life cycle+1"), "life cycle+1"),
		named("token 1025 bytes", bad(validationReq("/notifications", "validationToken="+strings.Repeat("v", 1025)), 400)),
		named("token 1024 bytes unicode over", bad(validationReq("/notifications", "validationToken="+url.QueryEscape(strings.Repeat("é", 513))), 400)),
		named("token NUL", bad(validationReq("/notifications", "validationToken=a%00b"), 400)),
		named("token newline", bad(validationReq("/notifications", "validationToken=a%0D%0ASet-Cookie:%20x=y"), 400)),
		named("token tab", bad(validationReq("/notifications", "validationToken=a%09b"), 400)),
		named("token DEL", bad(validationReq("/lifecycle", "validationToken=a%7Fb"), 400)),
		named("token C1 control", bad(validationReq("/notifications", "validationToken=a%C2%85b"), 400)),
		named("token invalid UTF-8", bad(validationReq("/notifications", "validationToken=a%FFb"), 400)),
		named("token empty", bad(validationReq("/notifications", "validationToken="), 400)),
		named("token bad escape", bad(validationReq("/notifications", "validationToken=a%zzb"), 400)),
		named("query semicolon", bad(validationReq("/notifications", "validationToken=a;b"), 400)),
	}
	runCases(t, cases)
}

// validation is a validation request answered 200 with want, exactly.
func validation(name, path, query, want string) reqCase {
	return reqCase{
		name:       name,
		req:        validationReq(path, query),
		wantStatus: http.StatusOK,
		wantBody:   want,
		wantHeader: map[string]string{"Content-Type": "text/plain; charset=utf-8", "X-Content-Type-Options": "nosniff"},
		wantValid:  1,
	}
}

// validationReq is Graph's validation request: a POST with an empty
// text/plain body.
func validationReq(path, query string) *http.Request {
	return postAs(path+"?"+query, "text/plain; charset=utf-8", nil)
}

// padded is a valid notification body of exactly n bytes holding item: the
// padding is an unknown top-level field.
func padded(tb testing.TB, n int, item map[string]any) []byte {
	tb.Helper()
	b := body(tb, item)
	pad := n - len(b) - len(`,"pad":""`)
	if pad < 0 {
		tb.Fatalf("padded: %d bytes is below %d", n, len(b))
	}
	out := append(bytes.TrimSuffix(b, []byte("}")), `,"pad":"`...)
	out = append(out, bytes.Repeat([]byte("x"), pad)...)
	out = append(out, `"}`...)
	if len(out) != n {
		tb.Fatalf("padded: %d bytes, want %d", len(out), n)
	}
	return out
}

// unknownLength hides the body's length, as a chunked request does, so only
// http.MaxBytesReader stops it.
func unknownLength(r *http.Request) *http.Request {
	r.ContentLength = -1
	return r
}

// withHeader sets a header on r.
func withHeader(r *http.Request, k, v string) *http.Request {
	r.Header.Set(k, v)
	return r
}
