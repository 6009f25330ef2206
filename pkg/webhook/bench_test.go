package webhook_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"github.com/xtsync/xtsync/pkg/webhook"
)

// nopSink takes everything at once, like an in-memory queue.
type nopSink struct{}

func (nopSink) Changed(context.Context, []string) error            { return nil }
func (nopSink) UsersChanged(context.Context, []string) error       { return nil }
func (nopSink) MirrorsChanged(context.Context, []string) error     { return nil }
func (nopSink) TargetUsersChanged(context.Context, []string) error { return nil }
func (nopSink) Lifecycle(context.Context, string, string) error    { return nil }

// BenchmarkNotification measures one request through ServeHTTP: a typical
// 3-item notification (two groups), and a body of 100 forged items (the
// rejection path a forger can drive), and a 1 MiB body of long items (the
// decoding cost of the largest body admitted). It reports allocations and
// the p99 of the per-request times.
func BenchmarkNotification(b *testing.B) {
	forgedItems := make([]any, 100)
	for i := range forgedItems {
		forgedItems[i] = with(goodItem(groupA), "clientState", forged)
	}
	cases := []struct {
		name string
		body []byte
	}{
		{"3 items", body(b, goodItem(groupA), goodItem(groupB), goodItem(groupA))},
		{"100 forged items", body(b, forgedItems...)},
		{"1 MiB body", longItemsBody(b, 1<<20)}, // the largest body admitted, streamed
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			h, err := webhook.New(webhook.Config{
				Lookup:  newSubs(),
				InScope: inScope,
				Sink:    nopSink{},
				Log:     slog.New(slog.DiscardHandler),
			})
			if err != nil {
				b.Fatal(err)
			}
			rd := bytes.NewReader(c.body)
			req := httptest.NewRequest(http.MethodPost, "/notifications", nil)
			req.Header.Set("Content-Type", "application/json; charset=utf-8")
			req.ContentLength = int64(len(c.body))
			req.Body = io.NopCloser(rd)
			var times []time.Duration
			b.SetBytes(int64(len(c.body)))
			b.ReportAllocs()
			for b.Loop() {
				rd.Reset(c.body)
				w := httptest.NewRecorder()
				start := time.Now()
				h.ServeHTTP(w, req)
				times = append(times, time.Since(start))
				if w.Code != http.StatusAccepted {
					b.Fatalf("status %d", w.Code)
				}
			}
			slices.Sort(times)
			b.ReportMetric(float64(times[len(times)*99/100].Nanoseconds()), "p99-ns")
		})
	}
}
