package msgraph_test

import (
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"github.com/xtsync/xtsync/pkg/engine"
	"github.com/xtsync/xtsync/pkg/graphemu"
	"github.com/xtsync/xtsync/pkg/msgraph"
)

// TestSubscriptionAPIListsEveryPage: List follows @odata.nextLink over
// Graph's pages of /subscriptions and returns each subscription with its
// resource, notification URL and expiry, as created.
func TestSubscriptionAPIListsEveryPage(t *testing.T) {
	hook := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		_, _ = w.Write([]byte(r.URL.Query().Get("validationToken")))
	}))
	t.Cleanup(hook.Close)
	em := graphemu.New(graphemu.Options{Logger: testLogger(t), NotifyClient: hook.Client()})
	if err := em.Load(graphemu.SampleSeed()); err != nil {
		t.Fatal(err)
	}
	if err := em.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = em.Close() })
	api := msgraph.NewSubscriptionAPI(newClient(t, sourceConfig(em)))
	exp := time.Now().Add(24 * time.Hour).UTC().Truncate(time.Second)
	var want []string
	for _, nick := range []string{"Engineering", "Sales", "Finance"} {
		g := sampleGroup(t, em, nick)
		s, err := api.Create(t.Context(), engine.Subscription{
			Resource: "/groups/" + g.ID, ChangeType: "updated,deleted",
			NotificationURL: hook.URL + "/notifications", ClientState: "state-" + nick, Expires: exp,
		})
		if err != nil {
			t.Fatalf("create on %s: %v", nick, err)
		}
		want = append(want, s.ID)
	}
	if err := em.SetFaults(graphemu.SampleSourceTenant, graphemu.Faults{PageSize: 2}); err != nil {
		t.Fatal(err)
	}
	got, err := api.List(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, s := range got {
		ids = append(ids, s.ID)
		if s.NotificationURL != hook.URL+"/notifications" || !s.Expires.Equal(exp) || len(s.Resource) != len("/groups/")+36 {
			t.Errorf("listed %+v, want the notification URL, expiry %s and resource as created", s, exp)
		}
	}
	slices.Sort(ids)
	slices.Sort(want)
	if !slices.Equal(ids, want) {
		t.Errorf("listed %v over pages of 2, want %v", ids, want)
	}
	if n := em.Stats(graphemu.SampleSourceTenant).Routes["GET /subscriptions"]; n != 2 {
		t.Errorf("%d GET /subscriptions, want 2 (3 subscriptions, pages of 2)", n)
	}
}
