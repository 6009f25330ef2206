package webhook_test

import (
	"errors"
	"maps"
	"net/http"
	"reflect"
	"testing"

	"github.com/xtsync/xtsync/pkg/webhook"
)

// reqCase is one request through a fresh fixture and what must follow.
type reqCase struct {
	name    string
	req     *http.Request
	maxBody int64                 // 0: the default
	sinkErr bool                  // the sink fails
	edit    func(*webhook.Config) // applied to the fixture's configuration after maxBody; nil: none

	wantStatus    int
	wantBody      string            // compared for 200 and 202
	wantHeader    map[string]string // headers that must be set exactly
	wantChanged   [][]string        // Sink.Changed calls
	wantUsers     [][]string        // Sink.UsersChanged calls
	wantMirrors   [][]string        // Sink.MirrorsChanged calls
	wantTargets   [][]string        // Sink.TargetUsersChanged calls
	wantLifecycle []lifecycleCall   // Sink.Lifecycle calls
	wantRejected  map[string]int64  // Stats.Rejected
	wantAccepted  int64             // Stats.Accepted
	wantMirrored  int64             // Stats.AcceptedMirrors
	wantBad       int64             // Stats.BadRequests
	wantValid     int64             // Stats.Validations
	wantSinkErrs  int64             // Stats.SinkErrors
}

// runCases runs each case and compares status, headers, body, sink calls
// and counters; the log must not hold a clientState.
func runCases(t *testing.T, cases []reqCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			fx := newFixtureWith(t, t, func(cfg *webhook.Config) {
				cfg.MaxBody = c.maxBody
				if c.edit != nil {
					c.edit(cfg)
				}
			})
			if c.sinkErr {
				fx.sink.err = errors.New("queue full")
			}
			w := fx.serve(c.req)
			if got := w.Code; got != c.wantStatus {
				t.Errorf("status = %d, want %d (body %q)", got, c.wantStatus, w.Body.String())
			}
			if w.Code == http.StatusOK || w.Code == http.StatusAccepted {
				if got := w.Body.String(); got != c.wantBody {
					t.Errorf("body = %q, want %q", got, c.wantBody)
				}
			}
			for k, want := range c.wantHeader {
				if got := w.Header().Get(k); got != want {
					t.Errorf("header %s = %q, want %q", k, got, want)
				}
			}
			changed, lifecycle := fx.sink.calls()
			if !reflect.DeepEqual(changed, c.wantChanged) {
				t.Errorf("Sink.Changed calls = %q, want %q", changed, c.wantChanged)
			}
			if users := fx.sink.userCalls(); !reflect.DeepEqual(users, c.wantUsers) {
				t.Errorf("Sink.UsersChanged calls = %q, want %q", users, c.wantUsers)
			}
			if mirrors := fx.sink.mirrorCalls(); !reflect.DeepEqual(mirrors, c.wantMirrors) {
				t.Errorf("Sink.MirrorsChanged calls = %q, want %q", mirrors, c.wantMirrors)
			}
			if targets := fx.sink.targetUserCalls(); !reflect.DeepEqual(targets, c.wantTargets) {
				t.Errorf("Sink.TargetUsersChanged calls = %q, want %q", targets, c.wantTargets)
			}
			if !reflect.DeepEqual(lifecycle, c.wantLifecycle) {
				t.Errorf("Sink.Lifecycle calls = %v, want %v", lifecycle, c.wantLifecycle)
			}
			st := fx.h.Stats()
			wantRejected := c.wantRejected
			if wantRejected == nil {
				wantRejected = map[string]int64{}
			}
			if !maps.Equal(st.Rejected, wantRejected) {
				t.Errorf("Stats.Rejected = %v, want %v", st.Rejected, wantRejected)
			}
			if st.Accepted != c.wantAccepted {
				t.Errorf("Stats.Accepted = %d, want %d", st.Accepted, c.wantAccepted)
			}
			if st.AcceptedMirrors != c.wantMirrored {
				t.Errorf("Stats.AcceptedMirrors = %d, want %d", st.AcceptedMirrors, c.wantMirrored)
			}
			if st.BadRequests != c.wantBad {
				t.Errorf("Stats.BadRequests = %d, want %d", st.BadRequests, c.wantBad)
			}
			if st.Validations != c.wantValid {
				t.Errorf("Stats.Validations = %d, want %d", st.Validations, c.wantValid)
			}
			if st.SinkErrors != c.wantSinkErrs {
				t.Errorf("Stats.SinkErrors = %d, want %d", st.SinkErrors, c.wantSinkErrs)
			}
			wantLifecycle := int64(len(c.wantLifecycle))
			if c.sinkErr {
				wantLifecycle = 0
			}
			if st.Lifecycle != wantLifecycle {
				t.Errorf("Stats.Lifecycle = %d, want %d", st.Lifecycle, wantLifecycle)
			}
			fx.logs.noSecrets(t)
		})
	}
}
