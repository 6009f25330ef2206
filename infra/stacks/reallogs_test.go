package stacks

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"math"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/xtsync/xtsync/internal/testlog"
	"github.com/xtsync/xtsync/pkg/contract"
	"github.com/xtsync/xtsync/pkg/emf"
	"github.com/xtsync/xtsync/pkg/engine"
	"github.com/xtsync/xtsync/pkg/lambdaapp"
	"github.com/xtsync/xtsync/pkg/metrics"
)

type fixedClock struct{ t time.Time }

func (c fixedClock) Now() time.Time { return c.t }

// emfKey names a metric by namespace, name and dimensions, as alarmKey
// names an alarm's.
func emfKey(namespace, name string, dims map[string]string) string {
	if len(dims) == 0 {
		return namespace + " " + name + " null"
	}
	var list []any
	keys := make([]string, 0, len(dims))
	for k := range dims {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		list = append(list, map[string]any{"Name": k, "Value": dims[k]})
	}
	b, _ := json.Marshal(list)
	return namespace + " " + name + " " + string(b)
}

// Published are the values EMF lines publish, by emfKey.
func published(t *testing.T, text string) map[string][]float64 {
	t.Helper()
	out := map[string][]float64{}
	for _, line := range strings.Split(strings.TrimSpace(text), "\n") {
		if err := emf.Validate([]byte(line)); err != nil {
			t.Fatalf("%v: %s", err, line)
		}
		r, _, _ := emf.Parse([]byte(line))
		for _, dir := range r.AWS.CloudWatchMetrics {
			for _, set := range dir.Dimensions {
				dims := map[string]string{}
				for _, k := range set {
					dims[k], _ = r.Members[k].(string)
				}
				for _, def := range dir.Metrics {
					key := emfKey(dir.Namespace, def.Name, dims)
					switch v := r.Members[def.Name].(type) {
					case float64:
						out[key] = append(out[key], v)
					case []any:
						for _, e := range v {
							out[key] = append(out[key], e.(float64))
						}
					}
				}
			}
		}
	}
	return out
}

// breaches is whether values, aggregated by the alarm's statistic, cross
// its threshold.
func breaches(p map[string]any, values []float64) (bool, error) {
	var agg float64
	switch p["Statistic"] {
	case "Sum":
		for _, v := range values {
			agg += v
		}
	case "Minimum":
		agg = math.Inf(1)
		for _, v := range values {
			agg = math.Min(agg, v)
		}
	default:
		return false, fmt.Errorf("statistic %v", p["Statistic"])
	}
	th := p["Threshold"].(float64)
	switch p["ComparisonOperator"] {
	case "GreaterThanThreshold":
		return agg > th, nil
	case "GreaterThanOrEqualToThreshold":
		return agg >= th, nil
	case "LessThanThreshold":
		return agg < th, nil
	}
	return false, fmt.Errorf("operator %v", p["ComparisonOperator"])
}

// run is what a worker and a reconcile invocation write, through the code
// the functions run (pkg/lambdaapp's Flusher and ReconcileValues over a
// metrics.Set), in namespace.
func run(t *testing.T, namespace string, bad bool) string {
	t.Helper()
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	var buf bytes.Buffer
	m := metrics.New()
	f := lambdaapp.NewFlusher(m, namespace, lambdaapp.MetricsOut{W: &buf, Clock: fixedClock{now}}, testlog.New(t, slog.LevelDebug))
	plan := &engine.Plan{Actions: make([]engine.Action, 3)}
	expires := now.Add(20 * 24 * time.Hour)
	throttled := 0
	if bad {
		m.GuardHeld()
		plan = &engine.Plan{Actions: make([]engine.Action, 101), Deletions: 2, Failed: []engine.Skip{{Group: "g1"}}}
		expires = now.Add(12 * time.Hour)
		throttled = GraphThrottledThreshold + 1
	}
	for _, tenant := range []string{"source", "target"} {
		m.GraphRequest(tenant, "GET", "/groups/delta", 200)
		for range throttled {
			m.GraphRequest(tenant, "GET", "/groups/delta", 429)
		}
	}
	m.ChangesApplied(1, time.Second)
	if err := f.Flush(t.Context(), lambdaapp.ReconcileValues(plan, bad, []engine.Subscription{{Expires: expires}}, fixedClock{now})...); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

// TestAlarmsMatchRealEMF writes metrics the way the functions do, in the
// namespace the stack gives them (contract.EnvMetricsNamespace of the
// synthesized functions), and checks every alarm on that namespace
// against them: each reads a metric the functions publish, with the same
// name and dimensions; a bad run (guard held, failed reads, subscription
// errors and expiring, many repairs and 429s) breaches each, a quiet run
// none.
func TestAlarmsMatchRealEMF(t *testing.T) {
	s := mainApp(t)
	namespaces := map[string]bool{}
	for id, fn := range resources(s.syncJSON, "AWS::Lambda::Function") {
		env, _ := props(fn)["Environment"].(map[string]any)
		vars, _ := env["Variables"].(map[string]any)
		ns, ok := vars[contract.EnvMetricsNamespace].(string)
		if !ok || ns == "" {
			t.Errorf("function %s has no %s", id, contract.EnvMetricsNamespace)
		}
		namespaces[ns] = true
	}
	if len(namespaces) != 1 {
		t.Fatalf("the functions write to namespaces %v, want one", sortedKeys(namespaces))
	}
	namespace := sortedKeys(namespaces)[0]
	bad, quiet := published(t, run(t, namespace, true)), published(t, run(t, namespace, false))
	var alarmed []string
	for id, a := range resources(s.syncJSON, "AWS::CloudWatch::Alarm") {
		p := props(a)
		if p["Namespace"] != namespace {
			continue
		}
		key := alarmKey(p)
		alarmed = append(alarmed, key)
		values, ok := bad[key]
		if !ok {
			t.Errorf("alarm %s reads %s, which the functions do not write (they write %v)", id, key, sortedKeys(bad))
			continue
		}
		if b, err := breaches(p, values); err != nil || !b {
			t.Errorf("alarm %s on %s: a bad run's %v does not breach (%v)", id, key, values, err)
		}
		if b, err := breaches(p, quiet[key]); err != nil || b {
			t.Errorf("alarm %s on %s: a quiet run's %v breaches (%v)", id, key, quiet[key], err)
		}
	}
	// AlarmedMetrics (which the functions' tests check their output
	// against) lists exactly what the alarms read.
	var listed []string
	for _, m := range AlarmedMetrics() {
		dims := map[string]string{}
		if m.Tenant != "" {
			dims[metrics.CWTenant] = m.Tenant
		}
		listed = append(listed, emfKey(namespace, m.Name, dims))
	}
	sort.Strings(listed)
	sort.Strings(alarmed)
	if strings.Join(listed, "\n") != strings.Join(alarmed, "\n") {
		t.Errorf("AlarmedMetrics\n%s\nthe alarms read\n%s", strings.Join(listed, "\n"), strings.Join(alarmed, "\n"))
	}
}
