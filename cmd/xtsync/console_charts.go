package main

import (
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/xtsync/xtsync/pkg/metrics"
)

// graphWriteQuota is Graph's write limit per app per tenant: 20 writes
// per second (the identity and access throttling limits).
const graphWriteQuota = 20.0

// The plot area of every chart, in SVG user units.
const (
	chartW, chartH             = 640.0, 240.0
	plotL, plotR, plotT, plotB = 64.0, 624.0, 16.0, 200.0
)

// chartsData is the charts page's.
type chartsData struct {
	Samples   int
	From, To  string
	Histogram barChart
	Lines     []lineChart
}

// barChart is the latency histogram.
type barChart struct {
	Count  int64
	Mean   string
	Bars   []chartBar
	YTicks []chartTick
}

// chartBar is one bucket of the histogram.
type chartBar struct {
	Label      string
	Count      int64
	X, Y, W, H string
	LabelX     string
}

// chartTick is an axis label at a position.
type chartTick struct {
	Pos   string
	Label string
}

// lineChart is one measure over time, a line per series.
type lineChart struct {
	ID, Title, Unit, About string
	// Total is whether the table sums the series.
	Total          bool
	Series         []chartSeries
	YTicks, XTicks []chartTick
}

// chartSeries is one line and its summary for the text table.
type chartSeries struct {
	Name, Class, Points string
	Latest, Peak, Total string
	HasTotal, HasPoints bool
	latest, peak, total float64
	points              []float64
}

// interval is the difference of two consecutive samples.
type interval struct {
	end time.Time
	d   metrics.Snapshot
	sec float64
}

// buildCharts makes the charts of the samples (oldest first).
func buildCharts(samples []metrics.Sample) *chartsData {
	cd := &chartsData{Samples: len(samples)}
	if len(samples) == 0 {
		return cd
	}
	cd.From, cd.To = consoleTime(samples[0].At), consoleTime(samples[len(samples)-1].At)
	cd.Histogram = histogramChart(samples[len(samples)-1].Latency)
	var ivs []interval
	for i := 1; i < len(samples); i++ {
		sec := samples[i].At.Sub(samples[i-1].At).Seconds()
		if sec <= 0 {
			continue
		}
		ivs = append(ivs, interval{end: samples[i].At, d: samples[i].Sub(samples[i-1].Snapshot), sec: sec})
	}
	if len(ivs) == 0 {
		return cd
	}
	tenants := chartTenants(samples[len(samples)-1].Snapshot)
	perTenant := func(f func(iv interval, tenant string) float64) []chartSeries {
		var out []chartSeries
		for _, t := range tenants {
			s := chartSeries{Name: t}
			for _, iv := range ivs {
				s.points = append(s.points, f(iv, t))
			}
			out = append(out, s)
		}
		return out
	}
	mean := chartSeries{Name: "mean latency"}
	for _, iv := range ivs {
		v := math.NaN()
		if iv.d.Latency.Count > 0 {
			v = iv.d.Latency.Sum / float64(iv.d.Latency.Count)
		}
		mean.points = append(mean.points, v)
	}
	cd.Lines = []lineChart{
		lineOf("latency", "Change to converged latency over time", "seconds (mean per interval)", "The mean time from a change's notification to the end of the delta pass that applied it, per sampling interval; intervals without changes have no point.", ivs, []chartSeries{mean}, false),
		lineOf("requests", "Graph requests per tenant", "requests per interval", "Every Graph request sent (each attempt), per tenant and sampling interval.", ivs, perTenant(func(iv interval, t string) float64 { return float64(iv.d.RequestsBy()[t]) }), true),
		lineOf("writes", "Graph writes per tenant", "writes per interval", "Graph write requests (not GET), per tenant and sampling interval.", ivs, perTenant(func(iv interval, t string) float64 { return float64(iv.d.Writes[t]) }), true),
		lineOf("throttled", "Graph throttling (429) per tenant", "429 answers per interval", "Graph's 429 Too Many Requests answers, per tenant and sampling interval.", ivs, perTenant(func(iv interval, t string) float64 { return float64(iv.d.Throttled[t]) }), true),
		lineOf("quota", "Write quota used per tenant", "percent of 20 writes/s", "Writes per second per tenant against Graph's limit of 20 writes per second per app per tenant, as a percentage, per sampling interval.", ivs, perTenant(func(iv interval, t string) float64 {
			return 100 * float64(iv.d.Writes[t]) / iv.sec / graphWriteQuota
		}), false),
	}
	return cd
}

// chartTenants are the tenants a snapshot saw requests or writes of.
func chartTenants(s metrics.Snapshot) []string {
	ts := s.Tenants()
	for t := range s.Writes {
		if !slices.Contains(ts, t) {
			ts = append(ts, t)
		}
	}
	slices.Sort(ts)
	return ts
}

// histogramChart draws the latest cumulative histogram as one bar per
// bucket (its own count, not cumulative), the last above the last bound.
func histogramChart(h metrics.Histogram) barChart {
	bc := barChart{Count: h.Count, Mean: "-"}
	if h.Count > 0 {
		bc.Mean = num(h.Sum/float64(h.Count)) + " s"
	}
	var counts []int64
	var labels []string
	prev := int64(0)
	for i, b := range h.Bounds {
		if i >= len(h.Counts) {
			break
		}
		counts, labels = append(counts, h.Counts[i]-prev), append(labels, "≤ "+num(b)+" s")
		prev = h.Counts[i]
	}
	if len(h.Bounds) > 0 {
		counts, labels = append(counts, h.Count-prev), append(labels, "> "+num(h.Bounds[len(h.Bounds)-1])+" s")
	}
	top := float64(max(1, slices.Max(append(counts, 0))))
	w := (plotR - plotL) / float64(max(1, len(counts)))
	for i, n := range counts {
		hgt := (plotB - plotT) * float64(n) / top
		x := plotL + float64(i)*w
		bc.Bars = append(bc.Bars, chartBar{Label: labels[i], Count: n, X: num(x + 2), Y: num(plotB - hgt), W: num(w - 4), H: num(hgt), LabelX: num(x + w/2)})
	}
	bc.YTicks = yTicks(top)
	return bc
}

// lineOf draws series over the intervals; withTotal sums them in the
// table.
func lineOf(id, title, unit, about string, ivs []interval, series []chartSeries, withTotal bool) lineChart {
	lc := lineChart{ID: id, Title: title, Unit: unit, About: about, Total: withTotal}
	top := 0.0
	for _, s := range series {
		for _, v := range s.points {
			if !math.IsNaN(v) {
				top = max(top, v)
			}
		}
	}
	top = niceMax(top)
	start, end := ivs[0].end, ivs[len(ivs)-1].end
	span := end.Sub(start).Seconds()
	xOf := func(t time.Time) float64 {
		if span <= 0 {
			return (plotL + plotR) / 2
		}
		return plotL + (plotR-plotL)*t.Sub(start).Seconds()/span
	}
	for i := range series {
		s := &series[i]
		s.Class = "s" + strconv.Itoa(i%4)
		var pts []string
		n := 0
		for j, v := range s.points {
			if math.IsNaN(v) {
				continue
			}
			pts = append(pts, num(xOf(ivs[j].end))+","+num(plotB-(plotB-plotT)*v/top))
			s.latest, s.peak, s.total = v, max(s.peak, v), s.total+v
			n++
		}
		s.Points, s.HasPoints, s.HasTotal = strings.Join(pts, " "), n > 0, withTotal
		s.Latest, s.Peak, s.Total = num(s.latest), num(s.peak), num(s.total)
		if n == 0 {
			s.Latest, s.Peak = "-", "-"
		}
	}
	lc.Series = series
	lc.YTicks = yTicks(top)
	lc.XTicks = []chartTick{{Pos: num(plotL), Label: start.UTC().Format("15:04:05")}, {Pos: num(plotR), Label: end.UTC().Format("15:04:05") + " UTC"}}
	return lc
}

// yTicks label 0, half and the top of a y axis.
func yTicks(top float64) []chartTick {
	var out []chartTick
	for _, f := range []float64{0, 0.5, 1} {
		out = append(out, chartTick{Pos: num(plotB - (plotB-plotT)*f), Label: num(top * f)})
	}
	return out
}

// niceMax rounds a maximum up to 1, 2 or 5 times a power of ten (1 for
// nothing).
func niceMax(v float64) float64 {
	if v <= 0 {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 5, 10} {
		if v <= m*p {
			return m * p
		}
	}
	return 10 * p
}

// num formats a number shortly: at most three decimals, no trailing
// zeros.
func num(v float64) string {
	s := strconv.FormatFloat(v, 'f', 3, 64)
	s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	if s == "-0" {
		return "0"
	}
	return s
}
