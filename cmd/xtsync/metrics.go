package main

import (
	"context"
	"net/http"
	"time"

	"github.com/xtsync/xtsync/pkg/engine"
	"github.com/xtsync/xtsync/pkg/prommetrics"
)

// metricsHandler serves serve's Prometheus metrics (GET /metrics on the
// admin listener): the counters of local's metrics.Set and, read at each
// scrape, the queue, the deletion guard and the subscriptions.
func (srv *server) metricsHandler() http.Handler {
	return prommetrics.New(srv.local.metrics, srv.gauges).Handler()
}

// gauges are the values of the running serve a scrape reads.
func (srv *server) gauges() prommetrics.Gauges {
	qs := srv.queue.Stats()
	g := prommetrics.Gauges{QueueDepth: qs.Pending + qs.Running + qs.Retrying, Parked: qs.Parked, SubscriptionExpiry: map[string]float64{}}
	ctx, cancel := context.WithTimeout(srv.base, 2*time.Second)
	defer cancel()
	if guard, err := engine.LoadGuard(ctx, srv.local.store); err == nil {
		g.Halted = guard.Halt != nil
	}
	now := time.Now()
	for _, s := range srv.local.Subscriptions.List() {
		g.SubscriptionExpiry[s.Resource] = s.Expires.Sub(now).Seconds()
	}
	return g
}
