package lambdaapp

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"sync"

	"github.com/xtsync/xtsync/pkg/emf"
	"github.com/xtsync/xtsync/pkg/engine"
	"github.com/xtsync/xtsync/pkg/metrics"
)

// MetricsOut is where a function writes its metrics and what stamps them:
// the mains pass os.Stdout, which Lambda sends to CloudWatch Logs, where
// the embedded metric format (EMF) lines become metrics in the namespace
// EnvMetricsNamespace names.
type MetricsOut struct {
	W     io.Writer
	Clock engine.Clock
}

// Flusher writes what a metrics.Set counted since its previous flush as
// EMF records (pkg/emf), one line each. With no namespace (the function's
// EnvMetricsNamespace unset) or no writer it writes nothing. It is safe
// for concurrent use.
type Flusher struct {
	set       *metrics.Set
	namespace string
	out       MetricsOut
	log       *slog.Logger

	mu   sync.Mutex
	last metrics.Snapshot
}

// NewFlusher returns the flusher of set; its first flush writes all set
// counted so far.
func NewFlusher(set *metrics.Set, namespace string, out MetricsOut, log *slog.Logger) *Flusher {
	return &Flusher{set: set, namespace: namespace, out: out, log: log}
}

// Flush writes the set's difference since the previous successful flush,
// and extra (one-off values), stamped by the clock. A failed write is
// logged and returned; what it did not write is written by the next flush.
// Metrics never fail an invocation: the functions ignore the error.
func (f *Flusher) Flush(ctx context.Context, extra ...emf.Value) error {
	if f == nil || f.namespace == "" || f.out.W == nil {
		return nil
	}
	if f.out.Clock == nil {
		return errors.New("lambdaapp: metrics: no clock")
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	now := f.set.Snapshot()
	if err := emf.Write(f.out.W, f.namespace, f.out.Clock.Now(), now.Sub(f.last), extra...); err != nil {
		f.log.ErrorContext(ctx, "write metrics", "err", err)
		return err
	}
	f.last = now
	return nil
}

// flushAfter flushes f after each request h serves: the webhook function
// writes its metrics before it answers, within the invocation.
func flushAfter(h http.Handler, f *Flusher) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() { _ = f.Flush(r.Context()) }()
		h.ServeHTTP(w, r)
	})
}

// ReconcileValues are the one-off values of a reconcile run: its plan's
// actions, deletions and failed reads, whether the subscriptions could be
// kept, and the time left of the soonest of subs (none when there is
// none).
func ReconcileValues(p *engine.Plan, subsFailed bool, subs []engine.Subscription, clock engine.Clock) []emf.Value {
	var out []emf.Value
	if p != nil {
		out = append(out,
			emf.Count(metrics.CWReconcileActions, len(p.Actions)),
			emf.Count(metrics.CWReconcileDeletions, p.Deletions),
			emf.Count(metrics.CWReconcileFailedReads, len(p.Failed)))
	}
	failed := 0
	if subsFailed {
		failed = 1
	}
	out = append(out, emf.Count(metrics.CWSubscriptionErrors, failed))
	if len(subs) > 0 && clock != nil {
		first := subs[0].Expires
		for _, sub := range subs[1:] {
			if sub.Expires.Before(first) {
				first = sub.Expires
			}
		}
		out = append(out, emf.Seconds(metrics.CWSubscriptionExpiry, first.Sub(clock.Now())))
	}
	return out
}
