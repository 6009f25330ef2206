package graphemu

import (
	"encoding/json"
	"maps"
	"net/http"
	"net/url"
	"strings"
)

// maxBatch is how many requests one JSON batch may hold.
const maxBatch = 20

type batchItem struct {
	ID        string            `json:"id"`
	Method    string            `json:"method"`
	URL       string            `json:"url"`
	Headers   map[string]string `json:"headers"`
	Body      json.RawMessage   `json:"body"`
	DependsOn []string          `json:"dependsOn"`
}

// batch serves POST /$batch: each item runs as its own Graph request (counted,
// throttled and faulted on its own); an item whose dependency failed answers
// 424.
func (e *Emulator) batch(c *call, authz string) *response {
	var req struct {
		Requests []batchItem `json:"requests"`
	}
	if gerr := c.decode(&req); gerr != nil {
		return errResponse(gerr)
	}
	if len(req.Requests) == 0 {
		return errResponse(errf(400, "BadRequest", "Invalid batch payload format."))
	}
	if len(req.Requests) > maxBatch {
		return errResponse(errf(400, "BadRequest", "The batch contains %d requests; the limit is %d.", len(req.Requests), maxBatch))
	}
	ids := map[string]bool{}
	for _, it := range req.Requests {
		if it.ID == "" || it.Method == "" || it.URL == "" {
			return errResponse(errf(400, "BadRequest", "Invalid batch payload format."))
		}
		if ids[it.ID] {
			return errResponse(errf(400, "BadRequest", "Batch request contains duplicate request id '%s'.", it.ID))
		}
		ids[it.ID] = true
		if strings.Contains(it.URL, "://") {
			return errResponse(errf(400, "BadRequest", "Request id '%s': the url must be relative to the version, like '/users'.", it.ID))
		}
	}
	for _, it := range req.Requests {
		for _, d := range it.DependsOn {
			if !ids[d] || d == it.ID {
				return errResponse(errf(400, "BadRequest", "Request id '%s' depends on unknown request id '%s'.", it.ID, d))
			}
		}
	}
	status := map[string]int{}
	responses := make([]map[string]any, 0, len(req.Requests))
	for _, it := range req.Requests {
		r := e.batchOne(c, authz, it, status)
		status[it.ID] = r["status"].(int)
		responses = append(responses, r)
	}
	return ok(map[string]any{"responses": responses})
}

func (e *Emulator) batchOne(c *call, authz string, it batchItem, done map[string]int) map[string]any {
	e.mu.Lock()
	reqID := e.newID()
	e.mu.Unlock()
	answer := func(res *response) map[string]any {
		out := map[string]any{"id": it.ID, "status": res.status}
		h := map[string]string{"Cache-Control": "no-cache"}
		for k, v := range res.header {
			h[k] = strings.Join(v, ",")
		}
		if ge, isErr := res.body.(*graphErr); isErr {
			h["Content-Type"] = "application/json"
			maps.Copy(h, ge.headers())
			out["body"] = errorBody(e.now(), reqID, c.clientReqID, ge)
		} else if res.body != nil {
			h["Content-Type"] = graphContentType
			h["OData-Version"] = "4.0"
			out["body"] = res.body
		}
		out["headers"] = h
		return out
	}
	for _, d := range it.DependsOn {
		if s, ran := done[d]; !ran || s >= 400 {
			return answer(errResponse(errf(424, "FailedDependency", "The request with id '%s' failed, so this request was not run.", d)))
		}
	}
	body := []byte(nil)
	if len(it.Body) > 0 && string(it.Body) != "null" {
		if headerValue(it.Headers, "Content-Type") == "" {
			return answer(errResponse(errf(400, "BadRequest", "Write request id : %s does not contain Content-Type header or body.", it.ID)))
		}
		body = it.Body
	}
	u, err := url.Parse(it.URL)
	if err != nil {
		return answer(errResponse(errf(400, "BadRequest", "Invalid request URL '%s'.", it.URL)))
	}
	inner := &call{
		e: e, method: strings.ToUpper(it.Method), q: u.Query(), body: body,
		header: itemHeader(c.header, it.Headers), base: c.base, reqID: reqID, clientReqID: c.clientReqID, inBatch: true,
	}
	if strings.EqualFold(strings.Trim(u.Path, "/"), "$batch") {
		return answer(errResponse(errf(400, "BadRequest", "A batch cannot contain another batch.")))
	}
	return answer(e.run(inner, "/v1.0/"+strings.TrimPrefix(u.EscapedPath(), "/"), authz))
}

func headerValue(h map[string]string, name string) string {
	for k, v := range h {
		if strings.EqualFold(k, name) {
			return v
		}
	}
	return ""
}

// itemHeader is a batch item's request header: the envelope's (for
// Authorization and client-request-id) with the item's own headers (such as
// ConsistencyLevel) set over it.
func itemHeader(envelope http.Header, item map[string]string) http.Header {
	h := envelope.Clone()
	for k, v := range item {
		h.Set(k, v)
	}
	return h
}
