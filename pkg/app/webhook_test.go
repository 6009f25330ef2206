package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"

	"github.com/xtsync/xtsync/internal/testlog"
	"github.com/xtsync/xtsync/pkg/app"
	"github.com/xtsync/xtsync/pkg/engine"
	"github.com/xtsync/xtsync/pkg/memstore"
)

// Webhook fixture: a source group subscription and a mirrors subscription
// on the target tenant.
const (
	hookSourceTenant = "84bd8158-6d4d-4958-8b9f-9d6445542f95"
	hookTargetTenant = "d4c3b2a1-9f8e-4d7c-a6b5-4c3d2e1f0a9b"
	hookSourceSub    = "7f105c7d-2dc5-4530-97cd-4e7ae6534c07"
	hookMirrorsSub   = "a7b6c5d4-e3f2-4a1b-9c8d-7e6f5a4b3c2d"
	hookSourceSecret = "source-client-state-3e9a"
	hookMirrorSecret = "mirrors-client-state-71c2"
)

// hookSubs is an in-memory subscription lookup.
type hookSubs map[string]engine.Subscription

func (s hookSubs) Lookup(_ context.Context, id string) (engine.Subscription, bool) {
	sub, ok := s[id]
	return sub, ok
}

// notification is a change notification of group from subscription sub.
func notification(sub, clientState, tenant, group string) map[string]any {
	return map[string]any{
		"subscriptionId": sub, "clientState": clientState, "tenantId": tenant,
		"changeType": "updated", "resource": "Groups/" + group,
		"resourceData": map[string]any{"id": group, "organizationId": tenant},
	}
}

// TestWebhookMirrors: the endpoint app.Webhook builds maps a mirrors
// subscription's target group to its source group with the MirrorIndex
// and queues that group's shard's mirror pass, beside the delta pass of a
// source group's notification; without a MirrorIndex the mirror's
// notification is out of scope.
func TestWebhookMirrors(t *testing.T) {
	store := memstore.New()
	putMapping(t, store, engine.GroupMapping{SourceID: srcA, TargetID: mirA})
	lookup := hookSubs{
		hookSourceSub:  {ClientState: hookSourceSecret, TenantID: hookSourceTenant, Resource: engine.GroupsResource},
		hookMirrorsSub: {ClientState: hookMirrorSecret, TenantID: hookTargetTenant, Resource: engine.GroupsResource, Mirrors: true},
	}
	items := []any{
		notification(hookSourceSub, hookSourceSecret, hookSourceTenant, srcB),
		notification(hookMirrorsSub, hookMirrorSecret, hookTargetTenant, mirA),
		notification(hookMirrorsSub, hookMirrorSecret, hookTargetTenant, notMirr),
	}
	b, err := json.Marshal(map[string]any{"value": items})
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name         string
		mirrors      app.MirrorIndex
		wantTasks    []string
		wantStatus   app.RouterStatus
		wantRejected map[string]int64
	}{
		{
			name: "stored mirrors", mirrors: app.NewStoredMirrors(store, &stepClock{}),
			// scope{} shards a group by its first character.
			wantTasks:    []string{"shard:s-" + srcB[:1], "mirrors:s-" + srcA[:1]},
			wantStatus:   app.RouterStatus{ChangesQueued: 1, MirrorChanges: 1},
			wantRejected: map[string]int64{"out_of_scope": 1},
		},
		{
			name:         "no mirror index: mirrors out of scope",
			wantTasks:    []string{"shard:s-" + srcB[:1]},
			wantStatus:   app.RouterStatus{ChangesQueued: 1},
			wantRejected: map[string]int64{"out_of_scope": 2},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			q := &queue{}
			log := testlog.New(t, slog.LevelDebug)
			r := app.NewRouter(scope{}, q, nil, log)
			h, err := app.Webhook(lookup, c.mirrors, r, log)
			if err != nil {
				t.Fatal(err)
			}
			req := httptest.NewRequest(http.MethodPost, "/notifications", bytes.NewReader(b))
			req.Header.Set("Content-Type", "application/json")
			w := httptest.NewRecorder()
			h.ServeHTTP(w, req)
			if w.Code != http.StatusAccepted {
				t.Fatalf("status %d, want 202", w.Code)
			}
			if !slices.Equal(q.tasks, c.wantTasks) {
				t.Errorf("queued %q, want %q", q.tasks, c.wantTasks)
			}
			if got := r.Status(); got != c.wantStatus {
				t.Errorf("router status %+v, want %+v", got, c.wantStatus)
			}
			if got := h.Stats().Rejected; !maps.Equal(got, c.wantRejected) {
				t.Errorf("rejected %v, want %v", got, c.wantRejected)
			}
		})
	}
}
