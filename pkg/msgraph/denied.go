package msgraph

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// Graph answers a call the app has no permission for with 403
// Authorization_RequestDenied "Insufficient privileges to complete the
// operation.", naming neither the permission nor the app. denied adds both
// to the answer's message, so that the error the operator reads says what
// to grant, where: the permission of docs/deploy.md's tables that the call
// needs, the configuration section, the app and the tenant.
type denied struct {
	next     http.RoundTripper
	section  string // "source" or "target"; "" when unknown
	clientID string
	tenantID string
}

// Graph's error codes for a missing permission and a refused token.
const (
	codeDenied   = "Authorization_RequestDenied"
	codeBadToken = "InvalidAuthenticationToken"
)

func (d *denied) RoundTrip(req *http.Request) (*http.Response, error) {
	batch := isBatch(req)
	var items []batchItem
	if batch { // read before the transport consumes the body
		var err error
		if items, req, err = batchItems(req); err != nil {
			return nil, err
		}
	}
	resp, err := d.next.RoundTrip(req)
	if err != nil {
		if text, ok := endpointText(d.section, "graph_endpoint", req.URL.Host, err); ok {
			return nil, &EndpointError{Text: text, err: err}
		}
		return nil, err
	}
	if resp.Body == nil || resp.Header.Get("Content-Encoding") != "" {
		return resp, nil
	}
	if resp.StatusCode != http.StatusForbidden && resp.StatusCode != http.StatusUnauthorized && !(batch && resp.StatusCode == http.StatusOK) {
		return resp, nil
	}
	if resp.StatusCode == http.StatusUnauthorized && req.Header.Get("Authorization") == "" {
		return resp, nil // no token was sent (not a Graph host): nothing was refused
	}
	raw, rerr := io.ReadAll(resp.Body)
	resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(raw))
	if rerr != nil || !(bytes.Contains(raw, []byte(codeDenied)) || bytes.Contains(raw, []byte(codeBadToken))) {
		if rerr != nil {
			resp.Body = io.NopCloser(io.MultiReader(bytes.NewReader(raw), errReader{rerr}))
		}
		return resp, nil
	}
	var out []byte
	if batch {
		out = d.annotateBatch(items, raw)
	} else {
		out = d.annotate(raw, req.Method, req.URL)
	}
	resp.Body = io.NopCloser(bytes.NewReader(out))
	resp.ContentLength = int64(len(out))
	resp.Header.Del("Content-Length")
	return resp, nil
}

// annotate returns an error body with the hint added to its message (the
// body as it was when it is not Graph's denial).
func (d *denied) annotate(raw []byte, method string, u *url.URL) []byte {
	var body map[string]json.RawMessage
	if json.Unmarshal(raw, &body) != nil {
		return raw
	}
	var e map[string]any
	if json.Unmarshal(body["error"], &e) != nil {
		return raw
	}
	var hint string
	switch e["code"] {
	case codeDenied:
		hint = d.hint(method, u)
	case codeBadToken:
		hint = d.tokenHint()
	default:
		return raw
	}
	msg, _ := e["message"].(string)
	e["message"] = strings.TrimSpace(msg + " " + hint)
	enc, err := json.Marshal(e)
	if err != nil {
		return raw
	}
	body["error"] = enc
	out, err := json.Marshal(body)
	if err != nil {
		return raw
	}
	return out
}

// annotateBatch annotates the denied items of a $batch answer, each with
// the permission its own request needs.
func (d *denied) annotateBatch(items []batchItem, raw []byte) []byte {
	byID := map[string]batchItem{}
	for _, it := range items {
		byID[it.ID] = it
	}
	var env struct {
		Responses []map[string]json.RawMessage `json:"responses"`
	}
	if json.Unmarshal(raw, &env) != nil {
		return raw
	}
	for _, r := range env.Responses {
		var id string
		var status int
		_ = json.Unmarshal(r["id"], &id)
		_ = json.Unmarshal(r["status"], &status)
		it, found := byID[id]
		if status != http.StatusForbidden || !found {
			continue
		}
		u, err := url.Parse(it.URL)
		if err != nil {
			continue
		}
		r["body"] = d.annotate(r["body"], it.Method, u)
	}
	out, err := json.Marshal(env)
	if err != nil {
		return raw
	}
	return out
}

// hint names what to grant for method on u.
func (d *denied) hint(method string, u *url.URL) string {
	perm := NeededPermission(d.section, method, RouteTemplate(u.Path))
	app := "the app"
	if d.clientID != "" {
		app = "the app " + d.clientID
	}
	where := ""
	if d.section != "" {
		where = fmt.Sprintf(" (%s.client_id)", d.section)
	}
	tenant := ""
	if d.tenantID != "" {
		tenant = " in tenant " + d.tenantID
	}
	return fmt.Sprintf("[xtsync: %s %s needs the Microsoft Graph application permission %s for %s%s%s, granted with admin consent; see docs/deploy.md, the %s tenant's permissions]",
		method, RouteTemplate(u.Path), perm, app, where, tenant, orDefault(d.section, "tenant's"))
}

// tokenHint says what to check when Graph refuses the access token the
// sign-in gave: the token is for another Graph (cloud, graph_endpoint), or
// this machine's clock is off.
func (d *denied) tokenHint() string {
	key := func(k string) string { return configKey(d.section, k) }
	return fmt.Sprintf("[xtsync: Graph refused the access token of app %s (%s) for tenant %s: check %s and %s (the token must be for this Graph's cloud), and this machine's clock]",
		d.clientID, key("client_id"), d.tenantID, key("cloud"), key("graph_endpoint"))
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
