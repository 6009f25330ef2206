package msgraph

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/xtsync/xtsync/pkg/config"
)

// Graph's identity and access throttling, as "Microsoft Graph
// service-specific throttling limits" documents it
// (https://learn.microsoft.com/graph/throttling-limits, sections "Identity
// and access service limits" and "Invitation manager service limits"):
//
//   - Writes (POST, PATCH, PUT, DELETE): 3,000 per 2 minutes 30 seconds per
//     application+tenant pair, i.e. 20/s with a large bucket.
//   - Reads are priced in resource units (a get 1, a /users list 2, a
//     members list 3, ...; $select takes one off): 3,500, 5,000 or 8,000 per
//     10 seconds per application+tenant pair for tenants of under 50, 50 to
//     500, and over 500 users.
//   - Invitations (/invitations): 150 per 5 seconds per tenant, for all apps.
//   - A regular (not throttled) answer carries x-ms-throttle-limit-percentage
//     once the application has used more than 0.8 of its limit; the value
//     ranges from 0.8 to 1.8.
//
// The defaults below stay a little under those limits, so that another
// small app sharing the tenant's quota still has room.
const (
	// DefaultWriteRate is the default write pace in writes per second
	// (Graph: 20 per app per tenant).
	DefaultWriteRate = config.DefaultWriteRate
	// DefaultWriteBurst is the default write bucket (Graph's is 3,000).
	DefaultWriteBurst = config.DefaultWriteBurst
	// DefaultInvitationRate is the default invitation pace in invitations
	// per second (Graph: 150 per 5 s per tenant).
	DefaultInvitationRate = config.DefaultInvitationRate
	// DefaultInvitationBurst is the default invitation bucket: 5 s worth
	// of DefaultInvitationRate, under Graph's 150.
	DefaultInvitationBurst = 140
	// DefaultReadRate is the default read pace in resource units per
	// second (Graph: 350 for the smallest tenants).
	DefaultReadRate = config.DefaultReadRate
	// DefaultReadBurst is the default read bucket: 10 s worth of
	// DefaultReadRate, under Graph's 3,500 per 10 s.
	DefaultReadBurst = 3000
)

// How the pace adapts to Graph's answers.
const (
	// throttleCut multiplies a class's rate at a 429.
	throttleCut = 0.8
	// minShare is the lowest share of the configured rate a class is cut to.
	minShare = 0.25
	// recoverStep of the configured rate is given back per recoverEvery
	// without a 429 (or a throttle-percentage warning).
	recoverStep  = 0.05
	recoverEvery = 10 * time.Second
	// warnPercentage is where Graph starts sending
	// x-ms-throttle-limit-percentage; maxPercentage is its documented top.
	warnPercentage = 0.8
	maxPercentage  = 1.8
	// A class's 429s that name no limit pause it (as a limit's would)
	// once there are at least spateMin of them lately and they are
	// spateShare of its answers; the counts halve every spateHalfLife.
	spateMin      = 3
	spateShare    = 0.2
	spateHalfLife = 5 * time.Second
	// maxPause caps the pause a Retry-After sets (Retry's default
	// MaxRetryAfter): a bogus header must not stall a class for hours.
	maxPause = 5 * time.Minute
)

// Graph's throttling headers (see the documentation cited above).
const (
	headerLimitPercentage = "x-ms-throttle-limit-percentage"
	headerThrottleScope   = "x-ms-throttle-scope"
	headerThrottleInfo    = "x-ms-throttle-information"
)

// PaceClass names one of the pacer's budgets.
type PaceClass string

// The pacer's budgets.
const (
	// PaceWrites is every request that is not a GET (or HEAD, OPTIONS),
	// one token each.
	PaceWrites PaceClass = "writes"
	// PaceInvitations is POST /invitations, paced by this budget and by
	// PaceWrites.
	PaceInvitations PaceClass = "invitations"
	// PaceReads is GET (HEAD, OPTIONS) requests, priced in Graph's resource
	// units (see ReadCost).
	PaceReads PaceClass = "reads"
)

// paceClasses is the order requests wait for their classes in.
func paceClasses() []PaceClass { return []PaceClass{PaceInvitations, PaceWrites, PaceReads} }

// Pace configures the client-side rate limiter of one Client (one tenant).
// A zero rate or burst takes the default noted on its field; a negative
// rate turns pacing of that class off. Graph's limits are per app per
// tenant (the invitation limit per tenant for all apps): lower the rates
// when other apps share the tenant's quota.
type Pace struct {
	// WriteRate is the writes per second; DefaultWriteRate (18) when zero.
	WriteRate float64
	// WriteBurst is how many writes may go at once after a quiet spell;
	// DefaultWriteBurst (3,000, Graph's bucket) when zero or less.
	WriteBurst int
	// InvitationRate is the invitations per second;
	// DefaultInvitationRate (28) when zero.
	InvitationRate float64
	// InvitationBurst is the invitation bucket; 5 s worth of
	// InvitationRate (140 at the default) when zero or less.
	InvitationBurst int
	// ReadRate is the resource units per second of reads; DefaultReadRate
	// (300) when zero.
	ReadRate float64
	// ReadBurst is the read bucket in resource units; 10 s worth of
	// ReadRate (3,000 at the default) when zero or less.
	ReadBurst int

	// Now is the clock; time.Now when nil.
	Now func() time.Time
	// Sleep waits d or until ctx ends (then it returns ctx.Err()); a
	// timer-based wait when nil. Tests inject a fake.
	Sleep func(ctx context.Context, d time.Duration) error
}

// NoPace is a Pace that paces nothing (the emulator's unthrottled tests);
// the pacer still counts the 429s received.
func NoPace() Pace { return Pace{WriteRate: -1, InvitationRate: -1, ReadRate: -1} }

// classLimit returns a class's configured rate and burst (ok false when the
// class is not paced).
func classLimit(rate float64, burst int, defRate, defBurst float64, burstSecs float64) (float64, float64, bool) {
	if rate < 0 || math.IsNaN(rate) {
		return 0, 0, false
	}
	custom := rate > 0
	if !custom {
		rate = defRate
	}
	b := float64(burst)
	if burst <= 0 {
		b = defBurst
		if custom && burstSecs > 0 {
			b = rate * burstSecs
		}
	}
	return rate, max(b, 1), true
}

// PaceStats are a pacer's counters.
type PaceStats struct {
	// Waited is how long requests waited in the pacer, in all.
	Waited time.Duration
	// Throttled is how many 429 answers were received, $batch items
	// included.
	Throttled int
	// Classes are the paced classes' states.
	Classes map[PaceClass]PaceClassStats
}

// PaceClassStats is one paced class's state.
type PaceClassStats struct {
	// Rate is the current rate (lowered after 429s and throttle-percentage
	// warnings) and Configured the configured one, per second.
	Rate, Configured float64
	// Burst is the bucket size.
	Burst float64
	// PausedUntil is when a 429's Retry-After lets the class go on (zero
	// or past when it is not paused).
	PausedUntil time.Time
	// Waited is how long requests waited for this class, in all.
	Waited time.Duration
	// Throttled is how many 429s this class received.
	Throttled int
}

// Pacer is a client-side rate limiter for one tenant's Graph: before each
// attempt it waits for the tokens the request costs in its classes
// (writes, invitations, reads; a $batch costs what its items cost, its
// envelope nothing), and it adapts to Graph's answers: a 429 pauses the
// whole class until its Retry-After and cuts the class's rate, and an
// x-ms-throttle-limit-percentage warning lowers the rate before Graph
// throttles. The rate climbs back to the configured one while no 429
// comes. One class's pause never holds up another class. Safe for
// concurrent use.
//
// The client's Retry asks the pacer before each attempt (outside the
// attempt timeout); used on its own, Pacer is an http.RoundTripper. Sign-in
// requests go through the credential's own transport, never through it.
type Pacer struct {
	next    http.RoundTripper
	now     func() time.Time
	buckets map[PaceClass]*bucket // paced classes only

	mu        sync.Mutex
	waited    time.Duration
	throttled int
}

// NewPacer paces the requests sent through next (http.DefaultTransport when
// nil) under p.
func NewPacer(next http.RoundTripper, p Pace) *Pacer {
	if next == nil {
		next = http.DefaultTransport
	}
	if p.Now == nil {
		p.Now = time.Now
	}
	if p.Sleep == nil {
		p.Sleep = sleepCtx
	}
	pc := &Pacer{next: next, now: p.Now, buckets: map[PaceClass]*bucket{}}
	add := func(class PaceClass, rate, burst float64, ok bool) {
		if ok {
			pc.buckets[class] = newBucket(class, rate, burst, p.Now, p.Sleep)
		}
	}
	r, b, ok := classLimit(p.WriteRate, p.WriteBurst, DefaultWriteRate, DefaultWriteBurst, 0)
	add(PaceWrites, r, b, ok)
	r, b, ok = classLimit(p.InvitationRate, p.InvitationBurst, DefaultInvitationRate, DefaultInvitationBurst, 5)
	add(PaceInvitations, r, b, ok)
	r, b, ok = classLimit(p.ReadRate, p.ReadBurst, DefaultReadRate, DefaultReadBurst, 10)
	add(PaceReads, r, b, ok)
	return pc
}

// Stats returns the pacer's counters so far.
func (p *Pacer) Stats() PaceStats {
	p.mu.Lock()
	s := PaceStats{Waited: p.waited, Throttled: p.throttled, Classes: map[PaceClass]PaceClassStats{}}
	p.mu.Unlock()
	for class, b := range p.buckets {
		s.Classes[class] = b.stats()
	}
	return s
}

// Wait blocks until cost tokens of class are available (at once when the
// class is not paced), or until ctx ends.
func (p *Pacer) Wait(ctx context.Context, class PaceClass, cost float64) error {
	b := p.buckets[class]
	if b == nil || cost <= 0 {
		return nil
	}
	d, err := b.wait(ctx, cost)
	p.addWaited(d)
	return err
}

func (p *Pacer) addWaited(d time.Duration) {
	p.mu.Lock()
	p.waited += d
	p.mu.Unlock()
}

// RoundTrip waits for req's tokens, sends it and adapts to the answer.
func (p *Pacer) RoundTrip(req *http.Request) (*http.Response, error) {
	req, t, err := p.admit(req.Context(), req)
	if err != nil {
		return nil, err
	}
	resp, err := p.next.RoundTrip(req)
	if err != nil {
		p.finish(t)
		return nil, err
	}
	p.observe(t, resp)
	return resp, nil
}

// charge is what a request (or a $batch item) costs: its classes, the one a
// 429 is put down to first.
type charge struct {
	classes []PaceClass
	cost    float64 // per class
}

// ticket is an admitted request, for observe.
type ticket struct {
	sent   time.Time
	totals map[PaceClass]float64 // what it holds in flight, by class
	top    charge                // the request itself (nothing for a $batch)
	items  map[string]charge     // $batch items by id
	batch  bool
}

// admit waits, under ctx, for the tokens req costs and returns the request
// to send (a $batch's body read and put back).
func (p *Pacer) admit(ctx context.Context, req *http.Request) (*http.Request, *ticket, error) {
	t := &ticket{}
	totals := map[PaceClass]float64{}
	if isBatch(req) {
		t.batch = true
		items, out, err := batchItems(req)
		if err != nil {
			return nil, nil, err
		}
		req = out
		t.items = map[string]charge{}
		for _, it := range items {
			u, err := url.Parse(it.URL)
			if err != nil {
				u = &url.URL{Path: it.URL}
			}
			ch := chargeOf(it.Method, u)
			t.items[it.ID] = ch
			for _, c := range ch.classes {
				totals[c] += ch.cost
			}
		}
	} else {
		t.top = chargeOf(req.Method, req.URL)
		for _, c := range t.top.classes {
			totals[c] += t.top.cost
		}
	}
	for _, class := range paceClasses() {
		if err := p.Wait(ctx, class, totals[class]); err != nil {
			return nil, nil, err
		}
	}
	t.sent = p.now()
	t.totals = totals
	for class, cost := range totals {
		if b := p.buckets[class]; b != nil {
			b.flight(cost)
		}
	}
	return req, t, nil
}

// finish ends an admitted request's flight (its answer came, or it
// failed without one); it is safe to call once per ticket.
func (p *Pacer) finish(t *ticket) {
	if t == nil {
		return
	}
	for class, cost := range t.totals {
		if b := p.buckets[class]; b != nil {
			b.flight(-cost)
		}
	}
	t.totals = nil
}

// observe adapts the classes of an admitted request to its answer.
func (p *Pacer) observe(t *ticket, resp *http.Response) {
	p.finish(t)
	if t == nil || resp == nil {
		return
	}
	now := p.now()
	if !t.batch {
		p.answered(t.top, t.sent, now, resp.StatusCode, resp.Header.Get)
		return
	}
	if resp.StatusCode != http.StatusOK || resp.Body == nil || resp.Header.Get("Content-Encoding") != "" {
		return
	}
	raw, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	var rest io.Reader = bytes.NewReader(raw)
	if err != nil {
		rest = io.MultiReader(rest, errReader{err})
	}
	resp.Body = io.NopCloser(rest)
	if err != nil {
		return
	}
	var env struct {
		Responses []struct {
			ID      string            `json:"id"`
			Status  int               `json:"status"`
			Headers map[string]string `json:"headers"`
		} `json:"responses"`
	}
	if json.Unmarshal(raw, &env) != nil {
		return
	}
	for _, r := range env.Responses {
		ch, found := t.items[r.ID]
		if !found {
			continue
		}
		h := r.Headers
		p.answered(ch, t.sent, now, r.Status, func(name string) string { return headerValue(h, name) })
	}
}

// answered adapts ch's classes to one answer (a request's or a $batch
// item's), whose headers get reads.
func (p *Pacer) answered(ch charge, sent, now time.Time, status int, get func(string) string) {
	if len(ch.classes) == 0 {
		return
	}
	if status == http.StatusTooManyRequests {
		p.mu.Lock()
		p.throttled++
		p.mu.Unlock()
		wait, _ := ParseRetryAfter(get("Retry-After"), now)
		// A 429 that names a limit is about the budget: it pauses the
		// classes it names and cuts their rate. One that does not may be
		// anything (Graph also sheds load request by request): alone it
		// holds only its own request (the retry waits its Retry-After),
		// and it pauses and cuts its class only when the class was near
		// its limit (a recent x-ms-throttle-limit-percentage) or such 429s
		// have become a good share of the class's answers.
		named := get(headerThrottleScope) != "" || get(headerThrottleInfo) != ""
		for _, class := range throttledClasses(ch, get(headerThrottleScope), get(headerThrottleInfo)) {
			if b := p.buckets[class]; b != nil {
				b.throttledAt(now, wait, sent, named)
			}
		}
		return
	}
	if b := p.buckets[ch.classes[0]]; b != nil {
		b.served(now)
	}
	pct, ok := limitPercentage(get(headerLimitPercentage))
	if !ok {
		return
	}
	// The warning is about the app's limit (its writes or its resource
	// units), not the tenant's invitation limit.
	class := ch.classes[len(ch.classes)-1]
	if b := p.buckets[class]; b != nil {
		b.nearLimit(now, pct)
	}
}

// throttledClasses are the classes a 429 pauses: the request's first class
// (invitations for an invitation), and the other classes Graph's
// x-ms-throttle-scope ("<Scope>/<Limit>/<app>/<tenant>", Limit one of Read,
// Write, ReadWrite) or x-ms-throttle-information (WriteLimitExceeded,
// ResourceUnitLimitExceeded) names.
func throttledClasses(ch charge, scope, info string) []PaceClass {
	out := []PaceClass{ch.classes[0]}
	add := func(c PaceClass) {
		for _, have := range out {
			if have == c {
				return
			}
		}
		out = append(out, c)
	}
	limit := ""
	if parts := strings.Split(scope, "/"); len(parts) > 1 {
		limit = strings.ToLower(parts[1])
	}
	switch {
	case limit == "readwrite":
		add(PaceWrites)
		add(PaceReads)
	case limit == "write" || strings.EqualFold(info, "WriteLimitExceeded"):
		add(PaceWrites)
	case limit == "read" || strings.EqualFold(info, "ResourceUnitLimitExceeded"):
		add(PaceReads)
	}
	return out
}

// limitPercentage reads x-ms-throttle-limit-percentage ("0.85"); ok is
// false when absent, unreadable or under 0.8.
func limitPercentage(v string) (float64, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || math.IsNaN(f) || f < warnPercentage {
		return 0, false
	}
	return min(f, maxPercentage), true
}

// chargeOf prices one request by method and URL (absolute, or relative to
// the version as in a $batch).
func chargeOf(method string, u *url.URL) charge {
	route := RouteTemplate(u.Path)
	switch strings.ToUpper(method) {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		return charge{classes: []PaceClass{PaceReads}, cost: ReadCost(route, u.Query())}
	}
	if strings.EqualFold(method, http.MethodPost) && route == "/invitations" {
		return charge{classes: []PaceClass{PaceInvitations, PaceWrites}, cost: 1}
	}
	return charge{classes: []PaceClass{PaceWrites}, cost: 1}
}

// ReadCost prices a read of a route (RouteTemplate's form) with query q in
// Graph's resource units, as Graph's identity and access table does and
// the emulator with it ("base request costs",
// https://learn.microsoft.com/graph/throttling-limits): a group's members
// 3, its transitive members 5, a /users list 2, any other read 1; $select
// takes one off, $expand adds one, $top under 20 takes one off; never
// under 1.
func ReadCost(route string, q url.Values) float64 {
	cost := 1.0
	switch {
	case route == "/users":
		cost = 2
	case strings.HasPrefix(route, "/groups/{id}/members"):
		cost = 3
	case strings.HasPrefix(route, "/groups/{id}/transitiveMembers"):
		cost = 5
	}
	if q.Get("$select") != "" {
		cost--
	}
	if q.Get("$expand") != "" {
		cost++
	}
	if top, err := strconv.Atoi(q.Get("$top")); err == nil && top < 20 {
		cost--
	}
	return max(cost, 1)
}

// isBatch reports whether req is a JSON batch (POST /$batch).
func isBatch(req *http.Request) bool {
	return req.Method == http.MethodPost && RouteTemplate(req.URL.Path) == "/$batch"
}

// batchItem is the part of a $batch request item the pacer reads.
type batchItem struct {
	ID     string `json:"id"`
	Method string `json:"method"`
	URL    string `json:"url"`
}

// batchItems reads a $batch request's items and returns a copy of req
// with its body put back. A body that cannot be read as a batch is
// charged as one write.
func batchItems(req *http.Request) ([]batchItem, *http.Request, error) {
	if req.Body == nil || req.Body == http.NoBody {
		return nil, req, nil
	}
	raw, err := io.ReadAll(req.Body)
	req.Body.Close()
	if err != nil {
		return nil, nil, fmt.Errorf("msgraph: pace: read the $batch body: %w", err)
	}
	out := req.Clone(req.Context())
	out.Body = io.NopCloser(bytes.NewReader(raw))
	out.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(raw)), nil }
	plain := raw
	if strings.EqualFold(req.Header.Get("Content-Encoding"), "gzip") {
		zr, err := gzip.NewReader(bytes.NewReader(raw))
		if err == nil {
			plain, err = io.ReadAll(zr)
		}
		if err != nil {
			return []batchItem{{ID: "", Method: http.MethodPost, URL: "/$unreadable"}}, out, nil
		}
	}
	var env struct {
		Requests []batchItem `json:"requests"`
	}
	if err := json.Unmarshal(plain, &env); err != nil {
		return []batchItem{{ID: "", Method: http.MethodPost, URL: "/$unreadable"}}, out, nil
	}
	return env.Requests, out, nil
}

// headerValue is a $batch item's header, its name compared
// case-insensitively.
func headerValue(h map[string]string, name string) string {
	for k, v := range h {
		if strings.EqualFold(k, name) {
			return v
		}
	}
	return ""
}

// errReader fails every read with err.
type errReader struct{ err error }

func (r errReader) Read([]byte) (int, error) { return 0, r.err }

// bucket is one class's token bucket. Waiters queue in turn order: the one
// at the head sleeps until its tokens are there (re-checking after every
// sleep, so a pause or a rate cut that comes meanwhile holds it too), the
// others wait for their turn.
type bucket struct {
	class      PaceClass
	configured float64
	burst      float64
	now        func() time.Time
	sleep      func(context.Context, time.Duration) error
	turn       chan struct{}

	mu          sync.Mutex
	rate        float64
	tokens      float64
	last        time.Time // tokens are counted up to here
	pausedUntil time.Time
	cutAt       time.Time // the last 429 cut: 429s of requests sent before it do not cut again
	calmSince   time.Time // the recovery clock: the last 429 or warning, or recovery step
	warnedAt    time.Time // the last x-ms-throttle-limit-percentage warning
	waited      time.Duration
	throttled   int
	// inflight is the cost of the requests admitted and not answered yet.
	inflight float64
	// recent counts the class's answers and its 429s that named no limit,
	// both decaying by half every spateHalfLife (see spate).
	recent recentAnswers
}

// recentAnswers are decaying counts of a class's answers and of its 429s
// that named no limit.
type recentAnswers struct {
	answers, unnamed float64
	at               time.Time
}

// decay brings the counts to now.
func (r *recentAnswers) decay(now time.Time) {
	if !r.at.IsZero() && now.After(r.at) {
		f := math.Exp2(-now.Sub(r.at).Seconds() / spateHalfLife.Seconds())
		r.answers *= f
		r.unnamed *= f
	}
	if now.After(r.at) {
		r.at = now
	}
}

// spate reports whether 429s that name no limit have become a limit's
// doing: at least spateMin of them lately, and spateShare of the answers.
func (r *recentAnswers) spate() bool {
	return r.unnamed >= spateMin && r.unnamed >= spateShare*r.answers
}

func newBucket(class PaceClass, rate, burst float64, now func() time.Time, sleep func(context.Context, time.Duration) error) *bucket {
	t := now()
	return &bucket{
		class: class, configured: rate, burst: burst, now: now, sleep: sleep, turn: make(chan struct{}, 1),
		rate: rate, tokens: burst, last: t, calmSince: t,
	}
}

// wait blocks until cost tokens are taken, or ctx ends; it returns how long
// it waited. A cost above the burst waits for a full bucket and leaves it
// in debt, so the rate holds over time.
func (b *bucket) wait(ctx context.Context, cost float64) (time.Duration, error) {
	start := b.now()
	done := func(err error) (time.Duration, error) {
		d := max(b.now().Sub(start), 0)
		b.mu.Lock()
		b.waited += d
		b.mu.Unlock()
		return d, err
	}
	select {
	case b.turn <- struct{}{}:
	case <-ctx.Done():
		return done(fmt.Errorf("msgraph: pace %s: %w", b.class, ctx.Err()))
	}
	defer func() { <-b.turn }()
	for {
		d := b.take(cost)
		if d <= 0 {
			return done(nil)
		}
		if dl, has := ctx.Deadline(); has && b.now().Add(d).After(dl) {
			return done(fmt.Errorf("msgraph: pace %s: a %s wait outlasts the request's deadline: %w", b.class, d, context.DeadlineExceeded))
		}
		if err := b.sleep(ctx, d); err != nil {
			return done(fmt.Errorf("msgraph: pace %s: %w", b.class, err))
		}
	}
}

// take removes cost tokens if the class is not paused and the bucket holds
// them (or is full, for a cost above the burst), else returns how long
// until it might.
func (b *bucket) take(cost float64) time.Duration {
	b.mu.Lock()
	defer b.mu.Unlock()
	now := b.now()
	b.advance(now)
	if now.Before(b.pausedUntil) {
		return b.pausedUntil.Sub(now)
	}
	need := min(cost, b.burst)
	const epsilon = 1e-9 // float rounding of the refill
	if b.tokens+epsilon >= need {
		b.tokens -= cost
		return 0
	}
	d := time.Duration(math.Ceil((need - b.tokens) / b.rate * float64(time.Second)))
	return max(d, time.Nanosecond)
}

// advance brings the bucket to now: the rate recovers recoverStep of the
// configured rate per recoverEvery of calm, and the tokens refill. Call
// with b.mu held.
func (b *bucket) advance(now time.Time) {
	if b.rate < b.configured {
		if steps := now.Sub(b.calmSince) / recoverEvery; steps > 0 {
			b.refill(now) // at the lower rate up to now: the cautious side
			b.rate = min(b.configured, b.rate+float64(steps)*recoverStep*b.configured)
			b.calmSince = b.calmSince.Add(steps * recoverEvery)
		}
	}
	b.refill(now)
}

func (b *bucket) refill(now time.Time) {
	if now.After(b.last) {
		b.tokens = min(b.burst, b.tokens+now.Sub(b.last).Seconds()*b.rate)
		b.last = now
	}
}

// flight adds cost to (or, negative, takes it from) the requests in
// flight.
func (b *bucket) flight(cost float64) {
	b.mu.Lock()
	b.inflight = max(b.inflight+cost, 0)
	b.mu.Unlock()
}

// served counts an answer of the class that was not a 429.
func (b *bucket) served(now time.Time) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.recent.decay(now)
	b.recent.answers++
}

// throttledAt adapts to a 429 received at now for a request sent at sent,
// named when it names a limit. A 429 that names none, with the class
// neither near its limit nor in a spate of such 429s, changes nothing but
// the counts: it holds only its own request. Otherwise the class pauses
// until the Retry-After, its bucket empties but for the one request Graph
// takes again at the Retry-After (nothing refills during the pause), and
// its rate is cut, once for all the requests that were under way at the
// last cut.
func (b *bucket) throttledAt(now time.Time, retryAfter time.Duration, sent time.Time, named bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.advance(now)
	b.throttled++
	b.recent.decay(now)
	b.recent.answers++
	nearLimit := !b.warnedAt.IsZero() && now.Sub(b.warnedAt) < recoverEvery
	if !named {
		b.recent.unnamed++
		if !nearLimit && !b.recent.spate() {
			return
		}
	}
	if retryAfter > 0 {
		if until := now.Add(min(retryAfter, maxPause)); until.After(b.pausedUntil) {
			b.pausedUntil = until
		}
	}
	b.tokens = min(b.tokens, 1)
	if b.last.Before(b.pausedUntil) {
		b.last = b.pausedUntil
	}
	if b.cutAt.IsZero() || sent.After(b.cutAt) {
		b.rate = max(b.rate*throttleCut, b.configured*minShare)
		b.cutAt = now
		b.calmSince = now
	}
}

// nearLimit adapts to an x-ms-throttle-limit-percentage of pct (0.8 to
// 1.8), the share of Graph's limit the app has used. The tokens go down to
// what Graph has left less the requests still in flight: Graph has seen
// what the class spent of its own bucket but those, which is pct of
// Graph's, so Graph has (1-pct)/pct of that left (nothing at 1.0; about
// nothing when another process spent the budget, and this one has spent
// none of its own). Up to 1.0 the rate stays (a steady rate
// under the limit is what the header asks for), and a rate lowered
// earlier does not climb back meanwhile. Above 1.0 the app is over its
// limit: the rate goes down to 1/pct of the configured rate (no lower
// than minShare) and recovers as after a 429.
func (b *bucket) nearLimit(now time.Time, pct float64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.advance(now)
	if pct > 1 {
		if target := max(b.configured/pct, b.configured*minShare); target < b.rate {
			b.rate = target
		}
	}
	b.calmSince = now // near the limit, a lowered rate does not climb
	b.warnedAt = now
	// What Graph has seen of what this class spent: not the requests
	// still in flight, which will take from what Graph has left.
	arrived := max(b.burst-b.tokens-b.inflight, 0)
	left := arrived*max(1-pct, 0)/pct - b.inflight
	// No deeper in debt than the requests in flight: once they are
	// answered the class goes on at its rate.
	b.tokens = min(b.tokens, max(left, -b.inflight))
}

func (b *bucket) stats() PaceClassStats {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.advance(b.now())
	return PaceClassStats{
		Rate: b.rate, Configured: b.configured, Burst: b.burst, PausedUntil: b.pausedUntil,
		Waited: b.waited, Throttled: b.throttled,
	}
}
