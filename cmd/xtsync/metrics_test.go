package main

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/xtsync/xtsync/internal/waitfor"
	"github.com/xtsync/xtsync/pkg/graphemu"
	"github.com/xtsync/xtsync/pkg/metrics"
)

// scrape reads serve's /metrics in the Prometheus text format.
func scrape(t *testing.T, srv *server) map[string]*dto.MetricFamily {
	t.Helper()
	resp, err := http.Get("http://" + srv.adminAddr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /metrics: %s", resp.Status)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := parser.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("parse /metrics: %v", err)
	}
	return fams
}

// metricSum adds the values of a family's counters (or its histogram's sample
// count) whose labels include want.
func metricSum(fams map[string]*dto.MetricFamily, name string, want map[string]string) float64 {
	f := fams[name]
	if f == nil {
		return 0
	}
	total := 0.0
next:
	for _, m := range f.Metric {
		for k, v := range want {
			found := false
			for _, l := range m.Label {
				if l.GetName() == k && l.GetValue() == v {
					found = true
				}
			}
			if !found {
				continue next
			}
		}
		switch {
		case m.Counter != nil:
			total += m.Counter.GetValue()
		case m.Histogram != nil:
			total += float64(m.Histogram.GetSampleCount())
		case m.Gauge != nil:
			total += m.Gauge.GetValue()
		}
	}
	return total
}

// TestMetricsAfterAChange: serve's /metrics, scraped before and after a
// source change that a notification brings in: changes received and
// applied, the latency histogram and the target's Graph writes moved; the
// names follow Prometheus' conventions.
func TestMetricsAfterAChange(t *testing.T) {
	env, srv := startServeScope(t, []string{"finance", "sales"}, "", nil, nil)
	src := graphemu.SampleSourceTenant
	must(t, srv.queue.WaitIdle(context.Background()))
	before := scrape(t, srv)

	fin := env.nick["finance"]
	g, _ := env.em.Group(src, fin)
	must(t, env.em.RemoveMember(src, fin, g.Members[0]))
	waitConverged(t, env, []string{fin}, 10*time.Second)
	var after map[string]*dto.MetricFamily
	waitfor.WaitFor(t, 10*time.Second, "the applied change counted", func() bool {
		after = scrape(t, srv)
		return metricSum(after, metrics.ChangesApplied, nil) > metricSum(before, metrics.ChangesApplied, nil)
	})

	for _, tt := range []struct {
		name   string
		labels map[string]string
	}{
		{metrics.ChangesReceived, nil},
		{metrics.ChangesApplied, nil},
		{metrics.ChangeLatency, nil},
		{metrics.GraphRequests, map[string]string{"tenant": "target", "method": "DELETE", "status": "204"}},
		{metrics.GraphWrites, map[string]string{"tenant": "target"}},
		{metrics.GraphRequests, map[string]string{"tenant": "source", "route": "/groups/delta"}},
	} {
		if b, a := metricSum(before, tt.name, tt.labels), metricSum(after, tt.name, tt.labels); a <= b {
			t.Errorf("%s%v did not move: %v before, %v after", tt.name, tt.labels, b, a)
		}
	}
	if h := after[metrics.ChangeLatency].Metric[0].Histogram; h.GetSampleSum() <= 0 || len(h.Bucket) != len(metrics.LatencyBuckets())+1 { // and +Inf
		t.Errorf("latency histogram: sum %v, %d buckets", h.GetSampleSum(), len(h.Bucket))
	}
	if n := metricSum(after, metrics.SubscriptionExpiry, map[string]string{"resource": "/users"}); n < 24*3600 {
		t.Errorf("the /users subscription expires in %v s", n)
	}
	if q := after[metrics.QueueDepth]; q == nil || q.GetType() != dto.MetricType_GAUGE {
		t.Errorf("%s missing or not a gauge", metrics.QueueDepth)
	}

	// Prometheus' naming conventions: the prefix, _total on counters and
	// only on them, the base unit on the histogram.
	for name, f := range after {
		if !strings.HasPrefix(name, "xtsync_") {
			t.Errorf("%s: no xtsync_ prefix", name)
		}
		counter := f.GetType() == dto.MetricType_COUNTER
		if counter != strings.HasSuffix(name, "_total") {
			t.Errorf("%s is a %s: _total belongs to counters only", name, f.GetType())
		}
		if f.GetType() == dto.MetricType_HISTOGRAM && !strings.HasSuffix(name, "_seconds") {
			t.Errorf("histogram %s is not in seconds", name)
		}
		if f.GetHelp() == "" {
			t.Errorf("%s has no help", name)
		}
	}
}
