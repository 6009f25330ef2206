package graphemu

import (
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"time"
)

// Duration is a time.Duration that reads and writes JSON as "250ms", "2s".
type Duration time.Duration

// D returns d as a time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

// MarshalJSON writes d as a Go duration string.
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(time.Duration(d).String()) }

// UnmarshalJSON reads a Go duration string ("1.5s") or a number of seconds.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		v, err := time.ParseDuration(s)
		if err != nil {
			return fmt.Errorf("duration %q: %w", s, err)
		}
		*d = Duration(v)
		return nil
	}
	var secs float64
	if err := json.Unmarshal(b, &secs); err != nil {
		return fmt.Errorf("duration: want a string like \"2s\" or seconds, got %s", b)
	}
	*d = Duration(secs * float64(time.Second))
	return nil
}

// Faults are the misbehaviours a tenant can be set to show. The zero value
// is a perfect Graph. Random choices come from the emulator's seed.
type Faults struct {
	// ThrottleRate is the share of Graph requests answered 429 with a
	// Retry-After between RetryAfterMin and RetryAfterMax (fractional
	// seconds, as Graph sends "2.128"), each on its own: the 429 names no
	// limit (no x-ms-throttle-scope), as when Graph sheds load, and the
	// app's other requests go on. A spent budget (WriteRate, ReadRate,
	// the invitations' limit) or ThrottleNext instead throttles every
	// request of the app until its Retry-After has passed ("Microsoft
	// Graph limits any further requests from that client for a period of
	// time", https://learn.microsoft.com/graph/throttling).
	ThrottleRate  float64  `json:"throttleRate,omitempty"`
	RetryAfterMin Duration `json:"retryAfterMin,omitempty"`
	RetryAfterMax Duration `json:"retryAfterMax,omitempty"`
	// ServerErrorRate is the share of Graph requests answered 503.
	ServerErrorRate float64 `json:"serverErrorRate,omitempty"`
	// Latency (plus up to LatencyJitter) is added before each answer.
	Latency       Duration `json:"latency,omitempty"`
	LatencyJitter Duration `json:"latencyJitter,omitempty"`
	// ReplicationDelay: a new object answers 404 by id for this long.
	ReplicationDelay Duration `json:"replicationDelay,omitempty"`
	// PageSize caps every page (collections, members, delta) below $top.
	PageSize int `json:"pageSize,omitempty"`
	// WriteRate is the write budget per app in writes/s (Graph: 20);
	// WriteBurst the bucket (default 150 s worth: 3,000 per 2.5 min).
	// Invitations also get Graph's 150 per 5 s per tenant. 0: unlimited.
	WriteRate  float64 `json:"writeRate,omitempty"`
	WriteBurst int     `json:"writeBurst,omitempty"`
	// ReadRate is the read budget per app in resource units/s (Graph: 350
	// to 800); ReadBurst the bucket (default 10 s worth). 0: unlimited.
	ReadRate  float64 `json:"readRate,omitempty"`
	ReadBurst int     `json:"readBurst,omitempty"`
	// NotifyDropRate, NotifyDuplicateRate: share of change notifications
	// never sent, or sent twice. NotifyDelay holds each back this long.
	NotifyDropRate      float64  `json:"notifyDropRate,omitempty"`
	NotifyDuplicateRate float64  `json:"notifyDuplicateRate,omitempty"`
	NotifyDelay         Duration `json:"notifyDelay,omitempty"`
	// NotifyJitter adds up to this much more delay to each notification, so
	// notifications arrive out of order.
	NotifyJitter Duration `json:"notifyJitter,omitempty"`
}

// Realistic returns Graph's documented budgets with no random faults: 20
// writes/s and 350 resource units/s per app per tenant.
func Realistic() Faults { return Faults{WriteRate: 20, ReadRate: 350} }

// Validate reports a fault setting out of range.
func (f Faults) Validate() error {
	for name, r := range map[string]float64{"throttleRate": f.ThrottleRate, "serverErrorRate": f.ServerErrorRate, "notifyDropRate": f.NotifyDropRate, "notifyDuplicateRate": f.NotifyDuplicateRate} {
		if r < 0 || r > 1 {
			return fmt.Errorf("faults: %s %v must be between 0 and 1", name, r)
		}
	}
	if f.RetryAfterMax < f.RetryAfterMin {
		return fmt.Errorf("faults: retryAfterMax %s is below retryAfterMin %s", f.RetryAfterMax.D(), f.RetryAfterMin.D())
	}
	if f.PageSize < 0 || f.WriteRate < 0 || f.ReadRate < 0 || f.WriteBurst < 0 || f.ReadBurst < 0 {
		return fmt.Errorf("faults: pageSize, rates and bursts must not be negative")
	}
	return nil
}

// bucket is a token bucket.
type bucket struct {
	tokens float64
	last   time.Time
}

// take removes cost tokens if it can, else returns how long until it could.
func (b *bucket) take(now time.Time, rate float64, burst int, cost float64) time.Duration {
	if b.last.IsZero() {
		b.tokens = float64(burst)
	} else {
		b.tokens = math.Min(float64(burst), b.tokens+now.Sub(b.last).Seconds()*rate)
	}
	b.last = now
	if b.tokens >= cost {
		b.tokens -= cost
		return 0
	}
	return time.Duration((cost - b.tokens) / rate * float64(time.Second))
}

// block is an app's requests of one limit throttled until a time, and the
// 429 they are answered meanwhile (the budget's scope and reason, if a
// budget blocked them).
type block struct {
	until       time.Time
	scope, info string
}

// The limits a block holds: a spent write budget throttles the app's
// writes and a spent read budget its reads ("you could encounter a
// scenario where writes are throttled but reads are still permitted",
// https://learn.microsoft.com/graph/throttling); the invitations' limit its
// invitations; ThrottleNext everything.
const (
	limitAll    = "all"
	limitWrite  = "write"
	limitRead   = "read"
	limitInvite = "invite"
)

// blockKey is the key of an app's block of a limit (app "" for the
// invitations', which is the tenant's for all apps).
type blockKey struct{ app, limit string }

func keyOf(app, limit string) blockKey {
	if limit == limitInvite {
		app = ""
	}
	return blockKey{app, limit}
}

// limiter holds a tenant's budgets and throttling state.
type limiter struct {
	writes       map[string]*bucket
	reads        map[string]*bucket
	invites      bucket
	blocked      map[blockKey]block
	throttled    int
	serverErrors int
	// forced is how many coming requests get 429 with forcedAfter.
	forced      int
	forcedAfter time.Duration
}

func (l *limiter) get(m *map[string]*bucket, app string) *bucket {
	if *m == nil {
		*m = map[string]*bucket{}
	}
	b, found := (*m)[app]
	if !found {
		b = &bucket{}
		(*m)[app] = b
	}
	return b
}

// readCost prices a read in resource units as Graph's identity and access
// throttling does ("base request costs",
// https://learn.microsoft.com/graph/throttling-limits): a group's members
// 3, its transitive members 5, a /users list 2, any other read 1; $select
// takes one off, $expand adds one, $top under 20 takes one off; a cost is
// never under 1.
func readCost(c *call) float64 {
	cost := 1.0
	switch c.route {
	case "GET /users":
		cost = 2
	case "GET /groups/{id}/members":
		cost = 3
	case "GET /groups/{id}/transitiveMembers":
		cost = 5
	}
	if c.q.Get("$select") != "" {
		cost--
	}
	if c.q.Get("$expand") != "" {
		cost++
	}
	if top, err := strconv.Atoi(c.q.Get("$top")); err == nil && top < 20 {
		cost--
	}
	return max(cost, 1)
}

// level is how much of the bucket has been used at now (0 to 1), counting
// the refill since the last take without changing the bucket.
func (b *bucket) level(now time.Time, rate float64, burst int) float64 {
	if b == nil || b.last.IsZero() || burst <= 0 {
		return 0
	}
	tokens := math.Min(float64(burst), b.tokens+math.Max(now.Sub(b.last).Seconds(), 0)*rate)
	return 1 - tokens/float64(burst)
}

// headerThrottleLimit is Graph's warning on regular answers once the app has
// used more than 0.8 of its limit: "x-ms-throttle-limit-percentage -
// Returned only when the application consumed more than 0.8 of its limit.
// The value ranges from 0.8 to 1.8" (Microsoft Graph service-specific
// throttling limits, Identity and access service limits,
// https://learn.microsoft.com/graph/throttling-limits).
const headerThrottleLimit = "x-ms-throttle-limit-percentage"

// throttleLimit sets x-ms-throttle-limit-percentage on an answer to c when
// c's app has used more than 80% of its limit c was charged to (its writes
// or its resource units): used/limit with two decimals ("0.85"), capped at
// Graph's 1.8. The header is the identity and access service's, about the
// application's limit; the invitation manager's limit (per tenant, for all
// apps) documents no such header, so an invitation is warned about the
// app's writes only. Call with e.mu held.
func (e *Emulator) throttleLimit(c *call, h http.Header) {
	if c.t == nil || c.route == routeBatch {
		return
	}
	f, l, now := &c.t.faults, &c.t.lim, c.now()
	used := 0.0
	if c.method != "GET" && f.WriteRate > 0 {
		burst := f.WriteBurst
		if burst == 0 {
			burst = int(f.WriteRate * 150)
		}
		used = l.writes[c.app].level(now, f.WriteRate, burst)
	}
	if c.method == "GET" && f.ReadRate > 0 {
		burst := f.ReadBurst
		if burst == 0 {
			burst = int(f.ReadRate * 10)
		}
		used = l.reads[c.app].level(now, f.ReadRate, burst)
	}
	const epsilon = 1e-9 // the refill's float rounding
	if used <= 0.8+epsilon {
		return
	}
	// Lower case, as x-ms-resource-unit: $batch items show header names as
	// set.
	h[headerThrottleLimit] = []string{strconv.FormatFloat(math.Min(used, 1.8), 'f', 2, 64)}
}

// admit applies the tenant's faults to a call: the latency to add, and the
// error to answer instead of serving it. Call with e.mu held.
func (e *Emulator) admit(c *call) (time.Duration, *graphErr) {
	f, l, now := &c.t.faults, &c.t.lim, c.now()
	delay := f.Latency.D()
	if j := f.LatencyJitter.D(); j > 0 {
		delay += time.Duration(e.rng.Int64N(int64(j)))
	}
	if c.route == routeBatch { // the envelope is not throttled; its items are
		return delay, nil
	}
	if f.ServerErrorRate > 0 && e.rng.Float64() < f.ServerErrorRate {
		l.serverErrors++
		return delay, errf(503, "serviceNotAvailable", "Service Unavailable. Please retry.")
	}
	// throttle blocks c's app's requests of limit for after, answering
	// scope and info.
	throttle := func(limit string, after time.Duration, scope, info string) (time.Duration, *graphErr) {
		if l.blocked == nil {
			l.blocked = map[blockKey]block{}
		}
		k := keyOf(c.app, limit)
		if until := now.Add(after); until.After(l.blocked[k].until) {
			l.blocked[k] = block{until: until, scope: scope, info: info}
		}
		l.throttled++
		ge := errThrottled(after)
		ge.scope, ge.info = scope, info
		return delay, ge
	}
	write := c.method != "GET"
	limits := []string{limitAll, limitRead}
	if write {
		limits = []string{limitAll, limitWrite}
		if c.route == "POST /invitations" {
			limits = append(limits, limitInvite)
		}
	}
	for _, limit := range limits {
		if b, found := l.blocked[keyOf(c.app, limit)]; found && now.Before(b.until) {
			l.throttled++
			ge := errThrottled(b.until.Sub(now))
			ge.scope, ge.info = b.scope, b.info
			return delay, ge
		}
	}
	if l.forced > 0 {
		l.forced--
		return throttle(limitAll, l.forcedAfter, "", "")
	}
	if f.ThrottleRate > 0 && e.rng.Float64() < f.ThrottleRate {
		lo, hi := f.RetryAfterMin.D(), f.RetryAfterMax.D()
		if hi <= 0 {
			lo, hi = 500*time.Millisecond, 2500*time.Millisecond
		}
		after := lo
		if hi > lo {
			after += time.Duration(e.rng.Int64N(int64(hi - lo)))
		}
		l.throttled++
		return delay, errThrottled(after)
	}
	// The budgets' scopes: per app per tenant (Tenant_Application) for
	// writes and resource units; the invitations' limit is per tenant
	// for all apps, and Graph documents no headers for it.
	scope := func(limit string) string { return "Tenant_Application/" + limit + "/" + c.app + "/" + c.t.ID }
	if write && f.WriteRate > 0 {
		burst := f.WriteBurst
		if burst == 0 {
			burst = int(f.WriteRate * 150)
		}
		if wait := l.get(&l.writes, c.app).take(now, f.WriteRate, burst, 1); wait > 0 {
			return throttle(limitWrite, wait, scope("Write"), "WriteLimitExceeded")
		}
		if c.route == "POST /invitations" {
			if wait := l.invites.take(now, 30, 150, 1); wait > 0 {
				return throttle(limitInvite, wait, "", "")
			}
		}
	}
	if !write && f.ReadRate > 0 {
		burst := f.ReadBurst
		if burst == 0 {
			burst = int(f.ReadRate * 10)
		}
		if wait := l.get(&l.reads, c.app).take(now, f.ReadRate, burst, readCost(c)); wait > 0 {
			return throttle(limitRead, wait, scope("Read"), "ResourceUnitLimitExceeded")
		}
	}
	return delay, nil
}
