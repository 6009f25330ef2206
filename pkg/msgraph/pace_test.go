package msgraph_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/microsoftgraph/msgraph-sdk-go/models"

	"github.com/xtsync/xtsync/pkg/config"
	"github.com/xtsync/xtsync/pkg/graphemu"
	"github.com/xtsync/xtsync/pkg/msgraph"
)

const (
	graphRoot = "https://graph.microsoft.com/v1.0"
	groupGUID = "5b1f8a2c-3d4e-4f60-8a7b-9c0d1e2f3a4b"
)

// fakeClock is a clock whose Sleep moves it on: for one goroutine at a time.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newFakeClock() *fakeClock { return &fakeClock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.advance(d)
	return nil
}

func (c *fakeClock) advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// on puts the fake clock into p.
func (c *fakeClock) on(p msgraph.Pace) msgraph.Pace {
	p.Now, p.Sleep = c.Now, c.Sleep
	return p
}

// rtFunc is an http.RoundTripper from a function.
type rtFunc func(*http.Request) (*http.Response, error)

func (f rtFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// paceAnswer is a response with status, headers (name, value pairs) and body.
func paceAnswer(status int, body string, headers ...string) *http.Response {
	h := http.Header{}
	for i := 0; i+1 < len(headers); i += 2 {
		h.Set(headers[i], headers[i+1])
	}
	return &http.Response{StatusCode: status, Header: h, Body: io.NopCloser(strings.NewReader(body))}
}

// okTransport answers every request 200.
func okTransport() http.RoundTripper {
	return rtFunc(func(*http.Request) (*http.Response, error) { return paceAnswer(200, "{}"), nil })
}

// send makes one request through rt, failing the test on a transport error.
func send(t *testing.T, rt http.RoundTripper, method, url string, body []byte, headers ...string) *http.Response {
	t.Helper()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(t.Context(), method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := rt.RoundTrip(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp
}

// near reports whether got is within a millisecond above want (the
// pacer rounds waits up to the nanosecond).
func near(got, want time.Duration) bool { return got >= want && got < want+time.Millisecond }

func TestPaceSpacesRequests(t *testing.T) {
	tests := []struct {
		name   string
		pace   msgraph.Pace
		method string
		url    string
		n      int
		want   time.Duration // what the rate implies after the burst
	}{
		{"writes", msgraph.Pace{WriteRate: 10, WriteBurst: 5}, "PATCH", graphRoot + "/groups/" + groupGUID, 25, 2 * time.Second},
		{"deletes are writes", msgraph.Pace{WriteRate: 4, WriteBurst: 2}, "DELETE", graphRoot + "/groups/" + groupGUID + "/members/" + groupGUID + "/$ref", 10, 2 * time.Second},
		{"invitations", msgraph.Pace{WriteRate: 100, WriteBurst: 100, InvitationRate: 4, InvitationBurst: 2}, "POST", graphRoot + "/invitations", 10, 2 * time.Second},
		{"invitations are writes too", msgraph.Pace{WriteRate: 2, WriteBurst: 1, InvitationRate: 100}, "POST", graphRoot + "/invitations", 5, 2 * time.Second},
		{"a get costs 1", msgraph.Pace{ReadRate: 10, ReadBurst: 10}, "GET", graphRoot + "/groups/" + groupGUID, 30, 2 * time.Second},
		{"a /users list costs 2", msgraph.Pace{ReadRate: 10, ReadBurst: 10}, "GET", graphRoot + "/users", 10, 1 * time.Second},
		{"a /groups list costs 1", msgraph.Pace{ReadRate: 10, ReadBurst: 10}, "GET", graphRoot + "/groups", 30, 2 * time.Second},
		{"$select takes one off", msgraph.Pace{ReadRate: 10, ReadBurst: 10}, "GET", graphRoot + "/users?$select=id", 30, 2 * time.Second},
		{"$expand adds one", msgraph.Pace{ReadRate: 10, ReadBurst: 10}, "GET", graphRoot + "/groups/" + groupGUID + "?$expand=members", 10, 1 * time.Second},
		{"$top under 20 takes one off", msgraph.Pace{ReadRate: 10, ReadBurst: 10}, "GET", graphRoot + "/groups/" + groupGUID + "/members?$top=5", 10, 1 * time.Second},
		{"members cost 3", msgraph.Pace{ReadRate: 10, ReadBurst: 10}, "GET", graphRoot + "/groups/" + groupGUID + "/members", 10, 2 * time.Second},
		{"transitive members cost 5", msgraph.Pace{ReadRate: 10, ReadBurst: 10}, "GET", graphRoot + "/groups/" + groupGUID + "/transitiveMembers?$top=999", 4, 1 * time.Second},
		{"never under 1", msgraph.Pace{ReadRate: 10, ReadBurst: 10}, "GET", graphRoot + "/groups/" + groupGUID + "?$select=id&$top=1", 30, 2 * time.Second},
		{"delta costs 1", msgraph.Pace{ReadRate: 10, ReadBurst: 10}, "GET", graphRoot + "/groups/microsoft.graph.delta()", 30, 2 * time.Second},
		{"writes unpaced", msgraph.Pace{WriteRate: -1}, "PATCH", graphRoot + "/groups/" + groupGUID, 1000, 0},
		{"reads unpaced", msgraph.NoPace(), "GET", graphRoot + "/groups", 1000, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := newFakeClock()
			p := msgraph.NewPacer(okTransport(), clock.on(tt.pace))
			start := clock.Now()
			for range tt.n {
				send(t, p, tt.method, tt.url, nil)
			}
			if got := clock.Now().Sub(start); !near(got, tt.want) {
				t.Errorf("%d requests took %s, want %s", tt.n, got, tt.want)
			}
			if got := p.Stats().Waited; !near(got, tt.want) {
				t.Errorf("Stats().Waited: got %s, want %s", got, tt.want)
			}
		})
	}
}

// batchBody is a JSON batch of the given "METHOD url" items.
func batchBody(t *testing.T, items ...string) []byte {
	t.Helper()
	var reqs []map[string]any
	for i, it := range items {
		method, url, _ := strings.Cut(it, " ")
		reqs = append(reqs, map[string]any{"id": fmt.Sprint(i + 1), "method": method, "url": url})
	}
	b, err := json.Marshal(map[string]any{"requests": reqs})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func repeat(n int, s string) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = s
	}
	return out
}

func TestPaceChargesBatchItems(t *testing.T) {
	member := "DELETE /groups/" + groupGUID + "/members/" + groupGUID + "/$ref"
	members := "GET /groups/" + groupGUID + "/members"
	tests := []struct {
		name  string
		items []string
		gzip  bool
		// the wait of a request of each class sent right after the batch
		// (an invitation is a write too)
		wantWrite, wantRead, wantInvite time.Duration
	}{
		// 20 writes from a bucket of 10: 10 in debt, so the next write
		// waits for 11 tokens at 10/s.
		{name: "each item is charged", items: repeat(20, member), wantWrite: 1100 * time.Millisecond, wantInvite: 1100 * time.Millisecond},
		{name: "a gzipped body is read", items: repeat(20, member), gzip: true, wantWrite: 1100 * time.Millisecond, wantInvite: 1100 * time.Millisecond},
		// 5 member lists cost 15 resource units from a bucket of 10.
		{name: "reads are charged as reads", items: repeat(5, members), wantRead: 600 * time.Millisecond},
		{name: "a mixed batch charges each class", items: append(repeat(12, member), repeat(4, members)...),
			wantWrite: 300 * time.Millisecond, wantRead: 300 * time.Millisecond, wantInvite: 300 * time.Millisecond},
		// 3 invitations: the invitation bucket of 1 is 2 in debt; the
		// write bucket has room.
		{name: "invitations in a batch", items: repeat(3, "POST /invitations"), wantInvite: 3 * time.Second},
		{name: "the envelope costs nothing", items: nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, probe := range []struct {
				method, url string
				want        time.Duration
			}{
				{"PATCH", graphRoot + "/groups/" + groupGUID, tt.wantWrite},
				{"GET", graphRoot + "/groups/" + groupGUID, tt.wantRead},
				{"POST", graphRoot + "/invitations", tt.wantInvite},
			} {
				clock := newFakeClock()
				body := batchBody(t, tt.items...)
				sent := body
				headers := []string{"Content-Type", "application/json"}
				if tt.gzip {
					sent = gzipped(t, string(body))
					headers = append(headers, "Content-Encoding", "gzip")
				}
				var forwarded []byte
				next := rtFunc(func(r *http.Request) (*http.Response, error) {
					if r.URL.Path == "/v1.0/$batch" {
						b, err := io.ReadAll(r.Body)
						if err != nil {
							return nil, err
						}
						forwarded = b
					}
					return paceAnswer(200, `{"responses":[]}`), nil
				})
				p := msgraph.NewPacer(next, clock.on(msgraph.Pace{
					WriteRate: 10, WriteBurst: 10, ReadRate: 10, ReadBurst: 10, InvitationRate: 1, InvitationBurst: 1,
				}))
				start := clock.Now()
				send(t, p, "POST", graphRoot+"/$batch", sent, headers...)
				if got := clock.Now().Sub(start); got != 0 {
					t.Errorf("the batch waited %s, want 0 (a full bucket lets it go)", got)
				}
				if !bytes.Equal(forwarded, sent) {
					t.Errorf("the batch body sent on differs from the one given (%d bytes, want %d)", len(forwarded), len(sent))
				}
				before := clock.Now()
				send(t, p, probe.method, probe.url, nil)
				if got := clock.Now().Sub(before); !near(got, probe.want) {
					t.Errorf("%s %s after the batch waited %s, want %s", probe.method, probe.url, got, probe.want)
				}
			}
		})
	}
}

// TestPace429PausesTheClass: a 429 holds every request of its class until
// the Retry-After, cuts the class's rate, and leaves the other classes
// alone.
func TestPace429PausesTheClass(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var patches atomic.Int32
		next := rtFunc(func(r *http.Request) (*http.Response, error) {
			if r.Method == "PATCH" && patches.Add(1) == 1 {
				return paceAnswer(429, "{}", "Retry-After", "2.5", "x-ms-throttle-information", "WriteLimitExceeded"), nil
			}
			return paceAnswer(200, "{}"), nil
		})
		p := msgraph.NewPacer(next, msgraph.Pace{WriteRate: 10, WriteBurst: 10, ReadRate: 100, ReadBurst: 100})
		start := time.Now()
		if resp := send(t, p, "PATCH", graphRoot+"/groups/"+groupGUID, nil); resp.StatusCode != 429 {
			t.Fatalf("first write: %d, want the 429", resp.StatusCode)
		}

		// Another write (not the throttled one) waits for the pause.
		var wrote atomic.Int64
		go func() {
			send(t, p, "PATCH", graphRoot+"/groups/"+groupGUID, nil)
			wrote.Store(int64(time.Since(start)))
		}()
		// Reads go on meanwhile.
		for range 10 {
			send(t, p, "GET", graphRoot+"/groups/"+groupGUID, nil)
		}
		if got := time.Since(start); got != 0 {
			t.Errorf("reads waited %s during the writes' pause, want 0", got)
		}
		synctest.Wait()
		if wrote.Load() != 0 {
			t.Fatalf("a write went %s after the 429, during its Retry-After", time.Duration(wrote.Load()))
		}
		s := p.Stats()
		if got, want := s.Classes[msgraph.PaceWrites].PausedUntil.Sub(start), 2500*time.Millisecond; got != want {
			t.Errorf("writes paused for %s, want %s", got, want)
		}
		if got, want := s.Classes[msgraph.PaceWrites].Rate, 8.0; got != want {
			t.Errorf("write rate after a 429: got %v, want %v", got, want)
		}
		if got, want := s.Classes[msgraph.PaceReads].Rate, 100.0; got != want {
			t.Errorf("read rate after a write's 429: got %v, want %v", got, want)
		}
		if got, want := s.Throttled, 1; got != want {
			t.Errorf("Throttled: got %d, want %d", got, want)
		}

		time.Sleep(3 * time.Second)
		synctest.Wait()
		if got, want := time.Duration(wrote.Load()), 2500*time.Millisecond; got != want {
			t.Errorf("the waiting write went at %s, want at the Retry-After, %s", got, want)
		}
	})
}

// TestPace429Scope: a 429 that names a limit pauses the request's own
// class and the classes Graph's x-ms-throttle-scope or
// x-ms-throttle-information name; one that names none, alone, pauses
// nothing.
func TestPace429Scope(t *testing.T) {
	tests := []struct {
		name, method, path string
		headers            []string
		wantPaused         []msgraph.PaceClass
	}{
		{"write, unnamed", "PATCH", "/groups/" + groupGUID, nil, nil},
		{"read, unnamed", "GET", "/groups", nil, nil},
		{"invitation, unnamed", "POST", "/invitations", nil, nil},
		{"write", "PATCH", "/groups/" + groupGUID,
			[]string{"x-ms-throttle-scope", "Tenant_Application/Write/9a3d526c-b3c1-4479-ba74-197b5c5751ae/0785ef7c-2d7a-4542-b048-95bcab406e0b"},
			[]msgraph.PaceClass{msgraph.PaceWrites}},
		{"read, ResourceUnitLimitExceeded", "GET", "/groups",
			[]string{"x-ms-throttle-information", "ResourceUnitLimitExceeded"},
			[]msgraph.PaceClass{msgraph.PaceReads}},
		{"invitation over the write limit", "POST", "/invitations",
			[]string{"x-ms-throttle-scope", "Tenant_Application/Write/9a3d526c-b3c1-4479-ba74-197b5c5751ae/0785ef7c-2d7a-4542-b048-95bcab406e0b"},
			[]msgraph.PaceClass{msgraph.PaceInvitations, msgraph.PaceWrites}},
		{"invitation, WriteLimitExceeded", "POST", "/invitations",
			[]string{"x-ms-throttle-information", "WriteLimitExceeded"},
			[]msgraph.PaceClass{msgraph.PaceInvitations, msgraph.PaceWrites}},
		{"read over the read and write limit", "GET", "/groups",
			[]string{"x-ms-throttle-scope", "Tenant_Application/ReadWrite/9a3d526c-b3c1-4479-ba74-197b5c5751ae/0785ef7c-2d7a-4542-b048-95bcab406e0b"},
			[]msgraph.PaceClass{msgraph.PaceWrites, msgraph.PaceReads}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := newFakeClock()
			next := rtFunc(func(*http.Request) (*http.Response, error) {
				return paceAnswer(429, "{}", append([]string{"Retry-After", "1"}, tt.headers...)...), nil
			})
			p := msgraph.NewPacer(next, clock.on(msgraph.Pace{}))
			send(t, p, tt.method, graphRoot+tt.path, nil)
			var got []msgraph.PaceClass
			for _, class := range []msgraph.PaceClass{msgraph.PaceInvitations, msgraph.PaceWrites, msgraph.PaceReads} {
				if p.Stats().Classes[class].PausedUntil.After(clock.Now()) {
					got = append(got, class)
				}
			}
			want := map[msgraph.PaceClass]bool{}
			for _, c := range tt.wantPaused {
				want[c] = true
			}
			if len(got) != len(want) {
				t.Fatalf("paused %v, want %v", got, tt.wantPaused)
			}
			for _, c := range got {
				if !want[c] {
					t.Fatalf("paused %v, want %v", got, tt.wantPaused)
				}
			}
		})
	}
}

// TestPace429CutsOncePerRound: the 429s of requests that were all under
// way when the first came back cut the rate once; a 429 of a request sent
// after the cut cuts again; the floor is a quarter of the configured rate.
func TestPace429CutsOncePerRound(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const inFlight = 16
		var arrived atomic.Int32
		release := make(chan struct{})
		next := rtFunc(func(*http.Request) (*http.Response, error) {
			if arrived.Add(1) == inFlight {
				close(release)
			}
			<-release
			return paceAnswer(429, "{}", "Retry-After", "1", "x-ms-throttle-information", "WriteLimitExceeded"), nil
		})
		p := msgraph.NewPacer(next, msgraph.Pace{WriteRate: 10, WriteBurst: inFlight})
		var wg sync.WaitGroup
		for range inFlight {
			wg.Go(func() { send(t, p, "PATCH", graphRoot+"/groups/"+groupGUID, nil) })
		}
		wg.Wait()
		s := p.Stats()
		if got, want := s.Classes[msgraph.PaceWrites].Rate, 8.0; got != want {
			t.Errorf("rate after one round of %d 429s: got %v, want %v (one cut)", inFlight, got, want)
		}
		if got, want := s.Throttled, inFlight; got != want {
			t.Errorf("Throttled: got %d, want %d", got, want)
		}
		wantRates := []float64{6.4, 5.12, 4.096, 3.2768, 2.62144, 2.5, 2.5}
		for i, want := range wantRates {
			send(t, p, "PATCH", graphRoot+"/groups/"+groupGUID, nil) // waits out the pause, then is throttled
			if got := p.Stats().Classes[msgraph.PaceWrites].Rate; math.Abs(got-want) > 1e-9 {
				t.Errorf("rate after cut %d: got %v, want %v", i+2, got, want)
			}
		}
	})
}

func TestPaceThrottlePercentageLowersTheRate(t *testing.T) {
	tests := []struct {
		name, method, path, header string
		class                      msgraph.PaceClass
		want                       float64
	}{
		{"none", "PATCH", "/groups/" + groupGUID, "", msgraph.PaceWrites, 10},
		{"under 0.8", "PATCH", "/groups/" + groupGUID, "0.5", msgraph.PaceWrites, 10},
		{"0.8", "PATCH", "/groups/" + groupGUID, "0.8", msgraph.PaceWrites, 10},
		// Up to the limit the rate stays (only the burst goes); over it, the
		// rate goes down to 1/pct.
		{"at the limit", "PATCH", "/groups/" + groupGUID, "1.0", msgraph.PaceWrites, 10},
		{"over it", "PATCH", "/groups/" + groupGUID, "1.6", msgraph.PaceWrites, 10 / 1.6},
		{"Graph's top", "PATCH", "/groups/" + groupGUID, "1.8", msgraph.PaceWrites, 10 / 1.8},
		{"above Graph's top", "PATCH", "/groups/" + groupGUID, "9", msgraph.PaceWrites, 10 / 1.8},
		{"unreadable", "PATCH", "/groups/" + groupGUID, "high", msgraph.PaceWrites, 10},
		{"a read", "GET", "/groups", "1.25", msgraph.PaceReads, 80},
		{"an invitation lowers writes", "POST", "/invitations", "1.25", msgraph.PaceWrites, 8},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := newFakeClock()
			next := rtFunc(func(*http.Request) (*http.Response, error) {
				if tt.header == "" {
					return paceAnswer(200, "{}"), nil
				}
				return paceAnswer(200, "{}", "x-ms-throttle-limit-percentage", tt.header), nil
			})
			p := msgraph.NewPacer(next, clock.on(msgraph.Pace{WriteRate: 10, WriteBurst: 10, ReadRate: 100, ReadBurst: 100}))
			send(t, p, tt.method, graphRoot+tt.path, nil)
			s := p.Stats()
			if got := s.Classes[tt.class].Rate; math.Abs(got-tt.want) > 1e-9 {
				t.Errorf("%s rate: got %v, want %v", tt.class, got, tt.want)
			}
			if s.Throttled != 0 {
				t.Errorf("Throttled: %d, want 0", s.Throttled)
			}
		})
	}

	// A warning at the limit leaves no burst: the next writes go at the
	// steady rate.
	clock := newFakeClock()
	next := rtFunc(func(*http.Request) (*http.Response, error) {
		return paceAnswer(200, "{}", "x-ms-throttle-limit-percentage", "1.0"), nil
	})
	p := msgraph.NewPacer(next, clock.on(msgraph.Pace{WriteRate: 10, WriteBurst: 10}))
	for range 3 {
		send(t, p, "PATCH", graphRoot+"/groups/"+groupGUID, nil)
	}
	// 1st: from the full bucket, which the warning at the limit leaves
	// empty; 2nd and 3rd: a token each at 10/s.
	if got, want := p.Stats().Waited, 200*time.Millisecond; !near(got, want) {
		t.Errorf("three writes under warnings waited %s, want %s", got, want)
	}
}

// TestPaceThrottlePercentageTakesTheBurst: a warning leaves the bucket
// what Graph has left, judged by what this pacer spent of its own: with a
// bucket larger than Graph's, the burst stops where Graph's would; when
// another process spent the budget (a warning on the first write), the
// writes go at once to the steady rate.
func TestPaceThrottlePercentageTakesTheBurst(t *testing.T) {
	tests := []struct {
		name     string
		sent     int     // writes sent before the warning
		pct      string  // the warning on the last of them
		wantLeft float64 // tokens after it
	}{
		// Graph's bucket is 100 (80 spent is 0.8 of it): 20 left.
		{"graph's bucket is smaller", 80, "0.8", 20},
		{"a fifth of it left", 100, "0.9", 100 * 0.1 / 0.9},
		{"spent by someone else", 1, "0.95", 0},
		{"at the limit", 50, "1.0", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := newFakeClock()
			var n atomic.Int32
			next := rtFunc(func(*http.Request) (*http.Response, error) {
				if int(n.Add(1)) == tt.sent {
					return paceAnswer(200, "{}", "x-ms-throttle-limit-percentage", tt.pct), nil
				}
				return paceAnswer(200, "{}"), nil
			})
			p := msgraph.NewPacer(next, clock.on(msgraph.Pace{WriteRate: 10, WriteBurst: 3000}))
			for range tt.sent {
				send(t, p, "PATCH", graphRoot+"/groups/"+groupGUID, nil)
			}
			// The writes after the warning: the ones left go at once, the
			// next waits a token at 10/s.
			before := p.Stats().Waited
			for range int(tt.wantLeft) {
				send(t, p, "PATCH", graphRoot+"/groups/"+groupGUID, nil)
			}
			if got := p.Stats().Waited - before; got != 0 {
				t.Errorf("the %d writes Graph has left waited %s, want 0", int(tt.wantLeft), got)
			}
			send(t, p, "PATCH", graphRoot+"/groups/"+groupGUID, nil)
			if got := p.Stats().Waited - before; got <= 0 || got > 101*time.Millisecond {
				t.Errorf("the write past them waited %s, want up to 100ms", got)
			}
		})
	}
}

// TestPaceRecovers: after a 429 the rate climbs back 5% of the configured
// rate per 10 s without a 429, up to the configured rate; a warning holds
// the climb.
func TestPaceRecovers(t *testing.T) {
	clock := newFakeClock()
	var status atomic.Int32
	status.Store(429)
	var warn atomic.Value
	warn.Store("")
	next := rtFunc(func(r *http.Request) (*http.Response, error) {
		if s := int(status.Load()); s != 200 {
			return paceAnswer(s, "{}", "Retry-After", "1", "x-ms-throttle-information", "WriteLimitExceeded"), nil
		}
		if w := warn.Load().(string); w != "" {
			return paceAnswer(200, "{}", "x-ms-throttle-limit-percentage", w), nil
		}
		return paceAnswer(200, "{}"), nil
	})
	p := msgraph.NewPacer(next, clock.on(msgraph.Pace{WriteRate: 10}))
	start := clock.Now()
	send(t, p, "PATCH", graphRoot+"/groups/"+groupGUID, nil)
	status.Store(200)
	steps := []struct {
		at   time.Duration
		warn string // sent at this step
		want float64
	}{
		{at: 9 * time.Second, want: 8},
		{at: 10 * time.Second, want: 8.5},
		{at: 19 * time.Second, want: 8.5},
		{at: 20 * time.Second, want: 9},
		// A warning at 0.85 (target 9.41, above the rate) holds the climb
		// for 10 s from here.
		{at: 25 * time.Second, warn: "0.85", want: 9},
		{at: 34 * time.Second, want: 9},
		{at: 35 * time.Second, want: 9.5},
		{at: 45 * time.Second, want: 10},
		{at: 120 * time.Second, want: 10},
	}
	for _, st := range steps {
		clock.advance(start.Add(st.at).Sub(clock.Now()))
		if st.warn != "" {
			warn.Store(st.warn)
			send(t, p, "PATCH", graphRoot+"/groups/"+groupGUID, nil)
			warn.Store("")
		}
		if got := p.Stats().Classes[msgraph.PaceWrites].Rate; math.Abs(got-st.want) > 1e-9 {
			t.Errorf("rate at %s: got %v, want %v", st.at, got, st.want)
		}
	}
}

// TestPaceBatchItem429: a throttled $batch item pauses its own class; the
// caller still reads the whole answer.
func TestPaceBatchItem429(t *testing.T) {
	clock := newFakeClock()
	const reply = `{"responses":[` +
		`{"id":"1","status":429,"headers":{"Retry-After":"3","x-ms-throttle-information":"WriteLimitExceeded","Content-Type":"application/json"},"body":{"error":{"code":"TooManyRequests"}}},` +
		`{"id":"2","status":200,"headers":{"x-ms-throttle-limit-percentage":"1.25"},"body":{"id":"x"}}]}`
	next := rtFunc(func(*http.Request) (*http.Response, error) {
		return paceAnswer(200, reply, "Content-Type", "application/json"), nil
	})
	p := msgraph.NewPacer(next, clock.on(msgraph.Pace{WriteRate: 10, ReadRate: 100}))
	body := batchBody(t, "DELETE /groups/"+groupGUID+"/members/"+groupGUID+"/$ref", "GET /groups/"+groupGUID)
	req, err := http.NewRequestWithContext(t.Context(), "POST", graphRoot+"/$batch", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := p.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || string(got) != reply {
		t.Errorf("the caller read %q (%v), want the answer as sent", got, err)
	}
	s := p.Stats()
	if got, want := s.Throttled, 1; got != want {
		t.Errorf("Throttled: got %d, want %d", got, want)
	}
	if got, want := s.Classes[msgraph.PaceWrites].PausedUntil.Sub(clock.Now()), 3*time.Second; got != want {
		t.Errorf("writes paused for %s, want %s", got, want)
	}
	if got := s.Classes[msgraph.PaceReads].PausedUntil; got.After(clock.Now()) {
		t.Errorf("reads paused until %s, want not paused", got)
	}
	if got, want := s.Classes[msgraph.PaceReads].Rate, 80.0; got != want {
		t.Errorf("read rate after the item's warning: got %v, want %v", got, want)
	}
}

// TestPaceWaitEnds: a wait ends with its context, and a wait that would
// outlast the context's deadline fails at once.
func TestPaceWaitEnds(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		next := rtFunc(func(*http.Request) (*http.Response, error) {
			return paceAnswer(429, "{}", "Retry-After", "60", "x-ms-throttle-information", "WriteLimitExceeded"), nil
		})
		p := msgraph.NewPacer(next, msgraph.Pace{})
		send(t, p, "PATCH", graphRoot+"/groups/"+groupGUID, nil)

		ctx, cancel := context.WithCancel(t.Context())
		errc := make(chan error, 1)
		go func() { errc <- p.Wait(ctx, msgraph.PaceWrites, 1) }()
		time.Sleep(time.Second)
		cancel()
		if err := <-errc; !errors.Is(err, context.Canceled) {
			t.Errorf("cancelled wait: got %v, want context.Canceled", err)
		}

		start := time.Now()
		dctx, dcancel := context.WithTimeout(t.Context(), 10*time.Second)
		defer dcancel()
		if err := p.Wait(dctx, msgraph.PaceWrites, 1); !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("wait past the deadline: got %v, want context.DeadlineExceeded", err)
		}
		if got := time.Since(start); got != 0 {
			t.Errorf("the hopeless wait took %s, want 0", got)
		}
	})
}

// TestNoPaceCountsThrottling: with pacing off nothing waits, and 429s are
// still counted.
func TestNoPaceCountsThrottling(t *testing.T) {
	clock := newFakeClock()
	var n atomic.Int32
	next := rtFunc(func(*http.Request) (*http.Response, error) {
		if n.Add(1)%10 == 0 {
			return paceAnswer(429, "{}", "Retry-After", "5"), nil
		}
		return paceAnswer(200, "{}"), nil
	})
	p := msgraph.NewPacer(next, clock.on(msgraph.NoPace()))
	for range 500 {
		send(t, p, "PATCH", graphRoot+"/groups/"+groupGUID, nil)
		send(t, p, "GET", graphRoot+"/groups", nil)
	}
	s := p.Stats()
	if s.Waited != 0 || len(s.Classes) != 0 {
		t.Errorf("unpaced: waited %s, classes %v; want none", s.Waited, s.Classes)
	}
	if got, want := s.Throttled, 100; got != want {
		t.Errorf("Throttled: got %d, want %d", got, want)
	}
}

// TestPacedWritesAgainstTheEmulator sends 200 writes from 16 goroutines to
// an emulator with Graph's write budget (20/s) and a small bucket (20),
// through a paced client (its bucket, 10, under the emulator's, as the
// default 100 is under Graph's 3,000) and an unpaced one.
func TestPacedWritesAgainstTheEmulator(t *testing.T) {
	if testing.Short() {
		t.Skip("about 10 s of paced writes")
	}
	const writes, workers = 200, 16
	tests := []struct {
		name string
		pace msgraph.Pace
		// mayLose: unpaced, a write can run out of its 100 attempts (the
		// control case shows that too).
		mayLose bool
		// check judges the 429s the client received.
		check func(t *testing.T, throttled int)
	}{
		{"paced", msgraph.Pace{WriteBurst: 10}, false, func(t *testing.T, throttled int) {
			if limit := writes * 2 / 100; throttled > limit {
				t.Errorf("%d 429s for %d writes, want at most %d (2%%)", throttled, writes, limit)
			}
		}},
		{"unpaced", msgraph.NoPace(), true, func(t *testing.T, throttled int) {
			if floor := writes / 10; throttled < floor {
				t.Errorf("%d 429s for %d unpaced writes, want at least %d: the emulator's budget did not bite, so the paced case proves nothing", throttled, writes, floor)
			}
		}},
	}
	// The clients are built before the cases run side by side: building one
	// sets a global of the SDK (its backing store factory) that every
	// model constructor reads.
	type setup struct {
		em *graphemu.Emulator
		c  *msgraph.Client
	}
	setups := make([]setup, len(tests))
	for i, tt := range tests {
		em := startEmulator(t)
		f := graphemu.Realistic()
		f.WriteBurst = 20
		f.Latency = graphemu.Duration(5 * time.Millisecond)
		f.LatencyJitter = graphemu.Duration(10 * time.Millisecond)
		if err := em.SetFaults(graphemu.SampleSourceTenant, f); err != nil {
			t.Fatal(err)
		}
		cfg := sourceConfig(em)
		cfg.Pace = tt.pace
		cfg.Retry = msgraph.RetryPolicy{MaxAttempts: 100}
		setups[i] = setup{em: em, c: newClient(t, cfg)}
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			em, c := setups[i].em, setups[i].c
			groups := em.Groups(graphemu.SampleSourceTenant)

			jobs := make(chan int)
			var failed atomic.Int32
			var wg sync.WaitGroup
			for range workers {
				wg.Go(func() {
					for i := range jobs {
						g := models.NewGroup()
						desc := fmt.Sprintf("write %d", i)
						g.SetDescription(&desc)
						if _, err := c.SDK().Groups().ByGroupId(groups[i%len(groups)].ID).Patch(t.Context(), g, nil); err != nil {
							failed.Add(1)
							if !tt.mayLose {
								t.Errorf("write %d: %v", i, err)
							}
						}
					}
				})
			}
			for i := range writes {
				jobs <- i
			}
			close(jobs)
			wg.Wait()

			s := c.PaceStats()
			emu := em.Stats(graphemu.SampleSourceTenant)
			attempts := c.Counter().Snapshot()["PATCH /groups/{id}"]
			t.Logf("%s: %d writes (%d failed), %d attempts, %d 429s received (emulator: %d), waited %s in the pacer",
				tt.name, writes, failed.Load(), attempts, s.Throttled, emu.Throttled, s.Waited.Round(time.Millisecond))
			// A write that ran out of attempts ended on a 429 it did not retry.
			if got, want := attempts, writes+s.Throttled-int(failed.Load()); got != want {
				t.Errorf("attempts: got %d, want %d writes + %d retries of 429s - %d lost", got, writes, s.Throttled, failed.Load())
			}
			if s.Throttled != emu.Throttled {
				t.Errorf("429s received %d, the emulator answered %d", s.Throttled, emu.Throttled)
			}
			tt.check(t, s.Throttled)
		})
	}
}

// TestForTenantPace: a configured tenant's pacing keys reach its client;
// unset keys take the defaults.
func TestForTenantPace(t *testing.T) {
	rate, burst, reads := 5.0, 7, 150.0
	c, err := msgraph.ForTenant("source", config.Tenant{
		TenantID: graphemu.SampleSourceTenant, ClientID: graphemu.SampleSourceClientID, ClientSecret: graphemu.SampleSourceSecret,
		WriteRate: &rate, WriteBurst: &burst, ReadRate: &reads,
	}, testLogger(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	got := c.PaceStats().Classes
	want := map[msgraph.PaceClass][2]float64{
		msgraph.PaceWrites:      {5, 7},
		msgraph.PaceInvitations: {msgraph.DefaultInvitationRate, msgraph.DefaultInvitationBurst},
		msgraph.PaceReads:       {150, 1500}, // 10 s worth
	}
	for class, w := range want {
		if g := got[class]; g.Configured != w[0] || g.Burst != w[1] || g.Rate != w[0] {
			t.Errorf("%s: rate %v (configured %v), burst %v; want %v, burst %v", class, g.Rate, g.Configured, g.Burst, w[0], w[1])
		}
	}
}

// TestPaceConfigRefusesNonFiniteRates: New names a rate that is not a
// finite number.
func TestPaceConfigRefusesNonFiniteRates(t *testing.T) {
	cfg := msgraph.Config{
		TenantID: graphemu.SampleSourceTenant, ClientID: graphemu.SampleSourceClientID, ClientSecret: graphemu.SampleSourceSecret,
		Pace: msgraph.Pace{ReadRate: math.Inf(1)},
	}
	if _, err := msgraph.New(cfg, nil); err == nil || !strings.Contains(err.Error(), "pace read rate") {
		t.Errorf("New with an infinite read rate: got %v, want an error naming the pace read rate", err)
	}
}

// TestPaceWaitsOutsideTheAttemptTimeout: a client's attempt timeout bounds
// the attempt on the wire, not its wait in the pacer.
func TestPaceWaitsOutsideTheAttemptTimeout(t *testing.T) {
	em := startEmulator(t)
	cfg := sourceConfig(em)
	cfg.Retry = msgraph.RetryPolicy{AttemptTimeout: 200 * time.Millisecond}
	cfg.Pace = msgraph.Pace{WriteRate: 4, WriteBurst: 1}
	c := newClient(t, cfg)
	g := sampleGroup(t, em, "Sales")
	for i := range 3 {
		body := models.NewGroup()
		desc := fmt.Sprintf("paced %d", i)
		body.SetDescription(&desc)
		if _, err := c.SDK().Groups().ByGroupId(g.ID).Patch(t.Context(), body, nil); err != nil {
			t.Fatalf("write %d: %v", i+1, err)
		}
	}
	if got, over := c.PaceStats().Waited, cfg.Retry.AttemptTimeout; got <= over {
		t.Errorf("waited %s in the pacer, want more than the %s attempt timeout (the test's premise)", got, over)
	}
}

// TestPaceUnnamed429: a 429 that names no limit, alone, holds only its
// own request (Graph also sheds load request by request): the class goes
// on at its rate. After a throttle-percentage warning the same 429 pauses
// the class and cuts its rate; so does a spate of them (3, and a fifth of
// the class's answers, lately).
func TestPaceUnnamed429(t *testing.T) {
	clock := newFakeClock()
	var warn atomic.Bool
	var status atomic.Int32
	status.Store(429)
	next := rtFunc(func(*http.Request) (*http.Response, error) {
		if status.Load() == 429 {
			return paceAnswer(429, "{}", "Retry-After", "1"), nil
		}
		if warn.Load() {
			return paceAnswer(200, "{}", "x-ms-throttle-limit-percentage", "0.9"), nil
		}
		return paceAnswer(200, "{}"), nil
	})
	p := msgraph.NewPacer(next, clock.on(msgraph.Pace{WriteRate: 10}))
	patch := func() { send(t, p, "PATCH", graphRoot+"/groups/"+groupGUID, nil) }
	status.Store(200)
	for range 20 {
		patch()
	}
	status.Store(429)
	patch()
	s := p.Stats().Classes[msgraph.PaceWrites]
	if s.Rate != 10 || s.PausedUntil.After(clock.Now()) {
		t.Fatalf("after one unnamed 429 among 21 answers: rate %v, paused until %s; want 10, not paused", s.Rate, s.PausedUntil)
	}
	patch()
	if s := p.Stats().Classes[msgraph.PaceWrites]; s.PausedUntil.After(clock.Now()) {
		t.Fatalf("after two: paused until %s, want not paused", s.PausedUntil)
	}

	// A spate: every answer a 429 for a while.
	for range 5 {
		patch()
	}
	if s := p.Stats().Classes[msgraph.PaceWrites]; !s.PausedUntil.After(clock.Now()) || s.Rate >= 10 {
		t.Fatalf("after a spate of unnamed 429s: rate %v, paused until %s; want under 10, paused", s.Rate, s.PausedUntil)
	}

	// Near the limit, one unnamed 429 is the limit's.
	clock.advance(time.Minute) // the spate decays, the rate recovers
	status.Store(200)
	for range 50 {
		patch()
	}
	warn.Store(true)
	patch()
	before := p.Stats().Classes[msgraph.PaceWrites].Rate
	status.Store(429)
	patch()
	if s := p.Stats().Classes[msgraph.PaceWrites]; !s.PausedUntil.After(clock.Now()) || s.Rate != before*0.8 {
		t.Fatalf("after a warning and a 429: rate %v, paused until %s; want %v, paused", s.Rate, s.PausedUntil, before*0.8)
	}
}
