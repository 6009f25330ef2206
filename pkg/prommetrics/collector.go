// Package prommetrics exports a metrics.Set to Prometheus (serve's
// /metrics on the admin listener) with prometheus/client_golang.
package prommetrics

import (
	"net/http"
	"strconv"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/xtsync/xtsync/pkg/metrics"
)

// Gauges are the values read at each scrape from the running process.
type Gauges struct {
	QueueDepth int
	Parked     int
	Halted     bool
	// SubscriptionExpiry is the seconds left of each subscription, by
	// resource.
	SubscriptionExpiry map[string]float64
}

// Collector is a prometheus.Collector over a metrics.Set and the gauges
// of gauges (nil: none).
type Collector struct {
	set    *metrics.Set
	gauges func() Gauges

	received, applied, latency, requests, throttled, retries, writes, held, repairs *prometheus.Desc
	depth, parked, halted, expiry                                                   *prometheus.Desc
}

var _ prometheus.Collector = (*Collector)(nil)

// New returns a collector of set and gauges.
func New(set *metrics.Set, gauges func() Gauges) *Collector {
	d := func(name, help string, labels ...string) *prometheus.Desc {
		return prometheus.NewDesc(name, help, labels, nil)
	}
	return &Collector{
		set: set, gauges: gauges,
		received:  d(metrics.ChangesReceived, "Changes queued from change notifications."),
		applied:   d(metrics.ChangesApplied, "Queued changes applied by a delta pass."),
		latency:   d(metrics.ChangeLatency, "Time from a change's notification to the end of the delta pass that applied it."),
		requests:  d(metrics.GraphRequests, "Microsoft Graph request attempts by tenant, method, route and status (0: no answer).", "tenant", "method", "route", "status"),
		throttled: d(metrics.GraphThrottled, "Microsoft Graph 429 answers by tenant.", "tenant"),
		retries:   d(metrics.GraphRetries, "Microsoft Graph requests sent again by tenant.", "tenant"),
		writes:    d(metrics.GraphWrites, "Microsoft Graph write requests (not GET) by tenant.", "tenant"),
		held:      d(metrics.GuardHeld, "Runs whose removals, deletes and disables the deletion guard held."),
		repairs:   d(metrics.MirrorRepairs, "Mirrors a mirror pass found changed by someone else in the target, synced again from their source."),
		depth:     d(metrics.QueueDepth, "Work pending or running in the queue."),
		parked:    d(metrics.ParkedTasks, "Work the queue parked after repeated failures."),
		halted:    d(metrics.GuardHalted, "1 while the deletion guard holds removals awaiting approval."),
		expiry:    d(metrics.SubscriptionExpiry, "Seconds until the subscription expires, by resource.", "resource"),
	}
}

// Handler serves the collector (and nothing else: no Go runtime metrics of
// the default registry) in the Prometheus text format.
func (c *Collector) Handler() http.Handler {
	reg := prometheus.NewRegistry()
	if err := reg.Register(c); err != nil { // a new registry: only a bad descriptor could fail
		return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			http.Error(w, err.Error(), http.StatusInternalServerError)
		})
	}
	return promhttp.HandlerFor(reg, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError})
}

// Describe sends the descriptors.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.received, c.applied, c.latency, c.requests, c.throttled, c.retries, c.writes, c.held, c.repairs, c.depth, c.parked, c.halted, c.expiry} {
		ch <- d
	}
}

// Collect sends the current values.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	s := c.set.Snapshot()
	send := func(d *prometheus.Desc, m prometheus.Metric, err error) {
		if err != nil {
			m = prometheus.NewInvalidMetric(d, err)
		}
		ch <- m
	}
	counter := func(d *prometheus.Desc, v int64, labels ...string) {
		m, err := prometheus.NewConstMetric(d, prometheus.CounterValue, float64(v), labels...)
		send(d, m, err)
	}
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		m, err := prometheus.NewConstMetric(d, prometheus.GaugeValue, v, labels...)
		send(d, m, err)
	}
	counter(c.received, s.ChangesReceived)
	counter(c.applied, s.ChangesApplied)
	buckets := make(map[float64]uint64, len(s.Latency.Bounds))
	for i, b := range s.Latency.Bounds {
		buckets[b] = uint64(s.Latency.Counts[i])
	}
	h, err := prometheus.NewConstHistogram(c.latency, uint64(s.Latency.Count), s.Latency.Sum, buckets)
	send(c.latency, h, err)
	for r, n := range s.Requests {
		counter(c.requests, n, r.Tenant, r.Method, r.Route, strconv.Itoa(r.Status))
	}
	for t, n := range s.Throttled {
		counter(c.throttled, n, t)
	}
	for t, n := range s.Retries {
		counter(c.retries, n, t)
	}
	for t, n := range s.Writes {
		counter(c.writes, n, t)
	}
	counter(c.held, s.GuardHeld)
	counter(c.repairs, s.MirrorRepairs)
	if c.gauges == nil {
		return
	}
	g := c.gauges()
	gauge(c.depth, float64(g.QueueDepth))
	gauge(c.parked, float64(g.Parked))
	halted := 0.0
	if g.Halted {
		halted = 1
	}
	gauge(c.halted, halted)
	for r, sec := range g.SubscriptionExpiry {
		gauge(c.expiry, sec, r)
	}
}
