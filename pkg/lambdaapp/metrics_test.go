package lambdaapp

import (
	"bytes"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/xtsync/xtsync/internal/testlog"
	"github.com/xtsync/xtsync/pkg/emf"
	"github.com/xtsync/xtsync/pkg/engine"
	"github.com/xtsync/xtsync/pkg/metrics"
)

type fixedClock struct{ t time.Time }

func (c fixedClock) Now() time.Time { return c.t }

var at = time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)

// records parses the EMF lines written to buf.
func records(t *testing.T, buf *bytes.Buffer) []emf.Record {
	t.Helper()
	var out []emf.Record
	for _, l := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
		if l == "" {
			continue
		}
		if err := emf.Validate([]byte(l)); err != nil {
			t.Errorf("%v: %s", err, l)
		}
		r, ok, err := emf.Parse([]byte(l))
		if !ok || err != nil {
			t.Fatalf("not EMF (%v): %s", err, l)
		}
		out = append(out, r)
	}
	buf.Reset()
	return out
}

// TestFlusherWritesDifferences checks that each flush writes what was
// counted since the previous one, and nothing when nothing was.
func TestFlusherWritesDifferences(t *testing.T) {
	var buf bytes.Buffer
	m := metrics.New()
	f := NewFlusher(m, "xtsync/Test", MetricsOut{W: &buf, Clock: fixedClock{at}}, testlog.New(t, slog.LevelDebug))
	m.ChangesApplied(2, time.Second)
	if err := f.Flush(t.Context()); err != nil {
		t.Fatal(err)
	}
	if recs := records(t, &buf); len(recs) != 1 || recs[0].Members[metrics.CWChangesApplied] != 2.0 || recs[0].AWS.Timestamp != at.UnixMilli() {
		t.Fatalf("first flush %+v, want 2 applied at %d", recs, at.UnixMilli())
	}
	if err := f.Flush(t.Context()); err != nil || buf.Len() != 0 {
		t.Fatalf("flush of nothing: %v, wrote %q", err, buf.String())
	}
	m.ChangesApplied(1, time.Second)
	_ = f.Flush(t.Context())
	if recs := records(t, &buf); len(recs) != 1 || recs[0].Members[metrics.CWChangesApplied] != 1.0 {
		t.Fatalf("second flush %+v, want 1 applied", recs)
	}
}

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("closed") }

// TestFlusherOffAndFailing checks that no namespace writes nothing, and
// that what a failed write lost is written by the next flush.
func TestFlusherOffAndFailing(t *testing.T) {
	var buf bytes.Buffer
	m := metrics.New()
	m.ChangesReceived(1)
	log := testlog.New(t, slog.LevelDebug)
	if err := NewFlusher(m, "", MetricsOut{W: &buf, Clock: fixedClock{at}}, log).Flush(t.Context()); err != nil || buf.Len() != 0 {
		t.Fatalf("no namespace: %v, wrote %q", err, buf.String())
	}
	f := NewFlusher(m, "xtsync/Test", MetricsOut{W: failingWriter{}, Clock: fixedClock{at}}, log)
	if err := f.Flush(t.Context()); err == nil {
		t.Fatal("no error from a failing writer")
	}
	f.out.W = &buf
	m.ChangesReceived(1)
	_ = f.Flush(t.Context())
	if recs := records(t, &buf); len(recs) != 1 || recs[0].Members[metrics.CWChangesReceived] != 2.0 {
		t.Fatalf("after a failed write %+v, want both changes", recs)
	}
}

// TestFlushAfterRequest checks that the webhook's handler writes what the
// request counted before the answer is complete.
func TestFlushAfterRequest(t *testing.T) {
	var buf bytes.Buffer
	m := metrics.New()
	f := NewFlusher(m, "xtsync/Test", MetricsOut{W: &buf, Clock: fixedClock{at}}, testlog.New(t, slog.LevelDebug))
	h := flushAfter(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		m.ChangesReceived(3)
		w.WriteHeader(http.StatusAccepted)
	}), f)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/notifications", nil))
	if recs := records(t, &buf); rec.Code != http.StatusAccepted || len(recs) != 1 || recs[0].Members[metrics.CWChangesReceived] != 3.0 {
		t.Fatalf("answered %d, wrote %+v; want 202 and 3 received", rec.Code, recs)
	}
}

// TestReconcileValues checks the reconcile's one-off values.
func TestReconcileValues(t *testing.T) {
	plan := &engine.Plan{Actions: make([]engine.Action, 4), Deletions: 1, Failed: []engine.Skip{{Group: "g"}}}
	subs := []engine.Subscription{{Expires: at.Add(36 * time.Hour)}, {Expires: at.Add(72 * time.Hour)}}
	got, _ := json.Marshal(ReconcileValues(plan, true, subs, fixedClock{at}))
	want, _ := json.Marshal([]emf.Value{
		emf.Count(metrics.CWReconcileActions, 4), emf.Count(metrics.CWReconcileDeletions, 1), emf.Count(metrics.CWReconcileFailedReads, 1),
		emf.Count(metrics.CWSubscriptionErrors, 1), emf.Seconds(metrics.CWSubscriptionExpiry, 36*time.Hour),
	})
	if string(got) != string(want) {
		t.Errorf("values\n got %s\nwant %s", got, want)
	}
	got, _ = json.Marshal(ReconcileValues(nil, false, nil, fixedClock{at}))
	want, _ = json.Marshal([]emf.Value{emf.Count(metrics.CWSubscriptionErrors, 0)})
	if string(got) != string(want) {
		t.Errorf("without a plan or subscriptions\n got %s\nwant %s", got, want)
	}
}
