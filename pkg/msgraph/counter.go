package msgraph

import (
	"github.com/xtsync/xtsync/pkg/engine"
	"maps"
	"net/http"
	"strings"
	"sync"
)

// Counter is an http.RoundTripper that counts the Graph requests passing
// through it by method and route template, e.g.
// "GET /groups/{id}/members" or "DELETE /groups/{id}/members/{id}/$ref".
// Placed under the retry layer it counts every attempt, as Graph meters
// them. A $batch counts once, as "POST /$batch". Safe for concurrent use.
type Counter struct {
	next   http.RoundTripper
	mu     sync.Mutex
	counts map[string]int
	// obs, when set, is told of each attempt and its status under
	// tenant's name.
	obs    Observer
	tenant string
}

// observe has c tell obs (when not nil) of each attempt.
func (c *Counter) observe(tenant string, obs Observer) {
	c.tenant, c.obs = tenant, obs
}

// NewCounter counts the requests sent through next (http.DefaultTransport
// when nil).
func NewCounter(next http.RoundTripper) *Counter {
	if next == nil {
		next = http.DefaultTransport
	}
	return &Counter{next: next, counts: map[string]int{}}
}

// RoundTrip counts req and sends it on.
func (c *Counter) RoundTrip(req *http.Request) (*http.Response, error) {
	route := RouteTemplate(req.URL.Path)
	c.mu.Lock()
	c.counts[req.Method+" "+route]++
	c.mu.Unlock()
	resp, err := c.next.RoundTrip(req)
	if c.obs != nil {
		status := 0
		if resp != nil {
			status = resp.StatusCode
		}
		c.obs.GraphRequest(c.tenant, req.Method, route, status)
	}
	return resp, err
}

// Snapshot returns a copy of the counts so far.
func (c *Counter) Snapshot() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return maps.Clone(c.counts)
}

// Total is the number of requests counted so far.
func (c *Counter) Total() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, v := range c.counts {
		n += v
	}
	return n
}

// Reset zeroes the counts and returns what they were (for per-run counts).
func (c *Counter) Reset() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := c.counts
	c.counts = map[string]int{}
	return out
}

// RouteTemplate turns a Graph URL path into its route: the version segment
// (/v1.0, /beta) dropped, object ids (GUIDs, user principal names) replaced
// by {id}, and function calls written bare ("/groups/microsoft.graph.delta()"
// and "/groups/delta()" are "/groups/delta").
func RouteTemplate(path string) string {
	segs := strings.Split(strings.Trim(path, "/"), "/")
	if len(segs) > 0 && (segs[0] == "v1.0" || segs[0] == "beta") {
		segs = segs[1:]
	}
	out := make([]string, 0, len(segs))
	for _, s := range segs {
		switch {
		case s == "":
			continue
		case engine.IsGUID(s) || strings.Contains(s, "@"):
			s = "{id}"
		case strings.HasSuffix(s, "()"):
			s = strings.TrimPrefix(strings.TrimSuffix(s, "()"), "microsoft.graph.")
		}
		out = append(out, s)
	}
	return "/" + strings.Join(out, "/")
}
