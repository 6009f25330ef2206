package e2e_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/xtsync/xtsync/infra/stacks"
	"github.com/xtsync/xtsync/internal/waitfor"
	"github.com/xtsync/xtsync/pkg/emf"
	"github.com/xtsync/xtsync/pkg/metrics"
)

// metricsNamespace is the namespace the world's functions write their
// metrics to (contract.EnvMetricsNamespace in w.env).
const metricsNamespace = "xtsync/E2E"

// emfMetric is one metric an EMF record published.
type emfMetric struct {
	name   string
	dims   map[string]string
	values []float64
}

// emfMetrics parses the EMF lines among lines (the function's stdout),
// checking each against the specification and its namespace.
func emfMetrics(t *testing.T, fn string, lines []string) []emfMetric {
	t.Helper()
	var out []emfMetric
	for _, l := range lines {
		r, ok, err := emf.Parse([]byte(l))
		if !ok {
			continue
		}
		if err != nil {
			t.Fatalf("%s: %v: %s", fn, err, l)
		}
		if err := emf.Validate([]byte(l)); err != nil {
			t.Errorf("%s: %v: %s", fn, err, l)
		}
		for _, dir := range r.AWS.CloudWatchMetrics {
			if dir.Namespace != metricsNamespace {
				t.Errorf("%s: namespace %q, want %q (the environment's)", fn, dir.Namespace, metricsNamespace)
			}
			for _, set := range dir.Dimensions {
				dims := map[string]string{}
				for _, k := range set {
					dims[k], _ = r.Members[k].(string)
				}
				for _, def := range dir.Metrics {
					m := emfMetric{name: def.Name, dims: dims}
					switch v := r.Members[def.Name].(type) {
					case float64:
						m.values = []float64{v}
					case []any:
						for _, e := range v {
							f, _ := e.(float64)
							m.values = append(m.values, f)
						}
					}
					out = append(out, m)
				}
			}
		}
	}
	return out
}

// total sums the values of the metric name with exactly dims; n counts the
// values.
func total(ms []emfMetric, name string, dims map[string]string) (sum float64, n int) {
	for _, m := range ms {
		if m.name != name || len(m.dims) != len(dims) {
			continue
		}
		same := true
		for k, v := range dims {
			same = same && m.dims[k] == v
		}
		if !same {
			continue
		}
		for _, v := range m.values {
			sum += v
			n++
		}
	}
	return sum, n
}

// TestFunctionsWriteEMF runs the worker, reconcile and webhook functions
// under the RIE and reads the embedded metric format lines they write to
// stdout: in the environment's namespace, valid, with the changes received
// and applied and their latency after a notified source change, Graph
// requests per tenant, and every metric the stack's alarms read, with the
// alarms' dimensions.
func TestFunctionsWriteEMF(t *testing.T) {
	w := newWorld(t)
	w.reconcile()
	w.settle(w.worker)
	reconcileOut := emfMetrics(t, "reconcile", w.recon.Output())
	if len(reconcileOut) == 0 {
		t.Fatal("the reconcile wrote no EMF")
	}

	// A source change, notified (webhook → SQS) and applied (worker).
	workerBefore, webhookBefore := len(w.worker.Output()), len(w.webhook.Output())
	delivered := w.em.DeliveryStats().Delivered
	eng, sales := w.nick["engineering"], w.nick["sales"]
	salesGroup, _ := w.em.Group(src, sales)
	engGroup, _ := w.em.Group(src, eng)
	var newcomer string
	for _, m := range salesGroup.Members {
		if !slices.Contains(engGroup.Members, m) {
			newcomer = m
		}
	}
	if newcomer == "" {
		t.Fatal("no sales member outside engineering to add")
	}
	must(t, w.em.AddMember(src, eng, newcomer))
	waitfor.WaitFor(t, 10*time.Second, "the notification delivered", func() bool { return w.em.DeliveryStats().Delivered > delivered })
	w.settle(w.worker)
	if w.mirrored() != nil {
		t.Fatal("the change was not applied")
	}

	webhookOut := emfMetrics(t, "webhook", w.webhook.Output()[webhookBefore:])
	if got, _ := total(webhookOut, metrics.CWChangesReceived, map[string]string{}); got < 1 {
		t.Errorf("the webhook wrote %v %s after the notification, want at least 1", got, metrics.CWChangesReceived)
	}
	workerOut := emfMetrics(t, "worker", w.worker.Output()[workerBefore:])
	if got, _ := total(workerOut, metrics.CWChangesApplied, map[string]string{}); got < 1 {
		t.Errorf("the worker wrote %v %s after the change, want at least 1", got, metrics.CWChangesApplied)
	}
	if _, n := total(workerOut, metrics.CWChangeLatency, map[string]string{}); n < 1 {
		t.Errorf("the worker wrote no %s values after the change", metrics.CWChangeLatency)
	}

	all := append(append(reconcileOut, emfMetrics(t, "worker", w.worker.Output())...), webhookOut...)
	for _, tenant := range []string{metrics.CWTenantSource, metrics.CWTenantTarget} {
		if got, _ := total(all, metrics.CWGraphRequests, map[string]string{metrics.CWTenant: tenant}); got < 1 {
			t.Errorf("%s of the %s tenant: %v, want at least 1", metrics.CWGraphRequests, tenant, got)
		}
	}
	// What the stack's alarms read, the functions write, with the same
	// dimensions (a value, zero or not, at each run).
	for _, a := range stacks.AlarmedMetrics() {
		dims := map[string]string{}
		if a.Tenant != "" {
			dims[metrics.CWTenant] = a.Tenant
		}
		if _, n := total(all, a.Name, dims); n == 0 {
			t.Errorf("an alarm reads %s %v, which the functions did not write (they wrote %s)", a.Name, dims, names(all))
		}
	}
	logInit(t, "worker", w.worker.Reports())
}

// names lists the metrics written, with their dimensions.
func names(ms []emfMetric) string {
	seen := map[string]bool{}
	var out []string
	for _, m := range ms {
		k := m.name
		if t := m.dims[metrics.CWTenant]; t != "" {
			k += "{" + metrics.CWTenant + "=" + t + "}"
		}
		if !seen[k] {
			seen[k] = true
			out = append(out, k)
		}
	}
	slices.Sort(out)
	return strings.Join(out, ", ")
}
