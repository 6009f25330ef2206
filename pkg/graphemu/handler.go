package graphemu

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// maxBody caps a request body, as Graph's front door does (4 MB).
const maxBody = 4 << 20

// call is one Graph request being served.
type call struct {
	e           *Emulator
	t           *Tenant
	app         string
	method      string
	segs        []string // path segments after /v1.0
	q           url.Values
	body        []byte
	header      http.Header
	base        string // https://host/v1.0
	route       string
	reqID       string
	clientReqID string
	inBatch     bool
}

// response is what a handler answers: a status, a JSON body (nil for none)
// and extra headers.
type response struct {
	status int
	body   any
	header http.Header
}

func ok(body any) *response          { return &response{status: 200, body: body} }
func created(body any) *response     { return &response{status: 201, body: body} }
func noContent() *response           { return &response{status: 204} }
func (c *call) now() time.Time       { return c.e.now() }
func lower(s string) string          { return strings.ToLower(s) }
func (c *call) seg(i int) string     { return c.segs[i] }
func (c *call) link(p string) string { return c.base + p }

// Handler serves sign-in, Graph v1.0 and the control API.
func (e *Emulator) Handler() http.Handler {
	return http.HandlerFunc(e.serveHTTP)
}

func (e *Emulator) serveHTTP(w http.ResponseWriter, r *http.Request) {
	p := r.URL.Path
	switch {
	case strings.HasPrefix(p, "/_emulator/"):
		e.serveControl(w, r)
	case strings.HasPrefix(p, "/v1.0/") || p == "/v1.0":
		e.serveGraph(w, r)
	default:
		e.serveLogin(w, r)
	}
}

// readBody reads a request body, gunzipping it when the client compressed
// it (the kiota middleware does).
func readBody(r *http.Request) ([]byte, *graphErr) {
	if r.Body == nil {
		return nil, nil
	}
	var src io.Reader = io.LimitReader(r.Body, maxBody+1)
	if strings.EqualFold(r.Header.Get("Content-Encoding"), "gzip") {
		zr, err := gzip.NewReader(src)
		if err != nil {
			return nil, errf(400, "BadRequest", "Invalid gzip request body.")
		}
		src = io.LimitReader(zr, maxBody+1)
	}
	b, err := io.ReadAll(src)
	if err != nil {
		return nil, errf(400, "BadRequest", "Unable to read the request body.")
	}
	if len(b) > maxBody {
		return nil, errf(413, "RequestEntityTooLarge", "The request body exceeds the maximum allowed size of %d bytes.", maxBody)
	}
	return b, nil
}

// decode parses the call's JSON body strictly into v.
func (c *call) decode(v any) *graphErr {
	if len(bytes.TrimSpace(c.body)) == 0 {
		return errf(400, "BadRequest", "Empty Payload. JSON content expected.")
	}
	dec := json.NewDecoder(bytes.NewReader(c.body))
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		return errBadJSON()
	}
	if dec.More() {
		return errBadJSON()
	}
	return nil
}

func (e *Emulator) serveGraph(w http.ResponseWriter, r *http.Request) {
	clientReqID := r.Header.Get("client-request-id")
	e.mu.Lock()
	reqID := e.newID()
	e.mu.Unlock()
	if clientReqID == "" {
		clientReqID = reqID
	}
	body, gerr := readBody(r)
	if gerr != nil {
		writeError(w, e.now(), reqID, clientReqID, gerr)
		return
	}
	host := r.Host
	c := &call{
		e: e, method: r.Method, q: r.URL.Query(), body: body, header: r.Header,
		base: "https://" + host + "/v1.0", reqID: reqID, clientReqID: clientReqID,
	}
	res := e.run(c, r.URL.EscapedPath(), r.Header.Get("Authorization"))
	writeResponse(w, c, res)
}

// writeResponse answers a call.
func writeResponse(w http.ResponseWriter, c *call, res *response) {
	h := w.Header()
	h.Set("request-id", c.reqID)
	h.Set("client-request-id", c.clientReqID)
	for k, v := range res.header {
		h[k] = v
	}
	if ge, isErr := res.body.(*graphErr); isErr {
		writeError(w, c.now(), c.reqID, c.clientReqID, ge)
		return
	}
	if res.body == nil {
		w.WriteHeader(res.status)
		return
	}
	h.Set("Content-Type", graphContentType)
	h["OData-Version"] = []string{"4.0"}
	w.WriteHeader(res.status)
	_ = json.NewEncoder(w).Encode(res.body)
}

func errResponse(ge *graphErr) *response { return &response{status: ge.status, body: ge} }

// run authenticates, counts, applies faults and dispatches one Graph call
// (top level or inside $batch).
func (e *Emulator) run(c *call, path, authz string) *response {
	rest := strings.TrimPrefix(path, "/v1.0")
	rest = strings.Trim(rest, "/")
	if rest != "" {
		for _, s := range strings.Split(rest, "/") {
			u, err := url.PathUnescape(s)
			if err != nil {
				return errResponse(errf(400, "BadRequest", "Invalid URL segment '%s'.", s))
			}
			c.segs = append(c.segs, u)
		}
	}
	route, h := e.route(c)
	c.route = route
	tok, gerr := e.authenticate(authz)
	if gerr != nil {
		return errResponse(gerr)
	}
	e.mu.Lock()
	t, found := e.tenants[tok.tenant]
	if !found {
		e.mu.Unlock()
		return errResponse(errf(401, "InvalidAuthenticationToken", "Access token validation failure."))
	}
	c.t, c.app = t, tok.app
	t.counts[route]++
	if h == nil {
		e.unrouted[c.method+" /"+strings.Join(c.segs, "/")]++
		e.mu.Unlock()
		e.log.Warn("emulator route not implemented", "method", c.method, "path", path)
		return errResponse(errf(501, "NotImplemented", "This operation target is not yet supported."))
	}
	delay, gerr := e.admit(c)
	if gerr == nil && c.route != routeBatch && !permitted(t.apps[c.app], c) {
		gerr = errDenied()
	}
	e.mu.Unlock()
	if delay > 0 {
		time.Sleep(delay)
	}
	if gerr != nil {
		return errResponse(gerr)
	}
	switch c.route {
	case routeBatch:
		return e.batch(c, authz)
	case "POST /subscriptions": // calls the subscriber: runs unlocked
		return h(c)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	res := h(c)
	if res == nil {
		res = errResponse(errf(500, "InternalServerError", "handler returned nothing"))
	}
	// Graph's directory answers say what they cost in resource units.
	if res.header == nil {
		res.header = http.Header{}
	}
	res.header["x-ms-resource-unit"] = []string{strconv.Itoa(int(readCost(c)))}
	e.throttleLimit(c, res.header)
	return res
}
