package webhook_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/xtsync/xtsync/pkg/webhook"
)

// TestNotifications: good items reach the sink once per request, their
// groups deduplicated; forged items in the same batch do not.
func TestNotifications(t *testing.T) {
	good := goodItem(groupA)
	upper := with(with(good, "resource", "groups/"+strings.ToUpper(groupA)), "resourceData.id", strings.ToUpper(groupA))
	cases := []reqCase{
		{
			name:       "one item",
			req:        post("/notifications", body(t, good)),
			wantStatus: 202, wantChanged: [][]string{{groupA}}, wantAccepted: 1,
		},
		{
			name:       "two items for one group, one for another",
			req:        post("/notifications", body(t, goodItem(groupB), good, good)),
			wantStatus: 202, wantChanged: [][]string{{groupA, groupB}}, wantAccepted: 3,
		},
		{
			name:       "upper-case GUID and lower-case groups/ are the same group",
			req:        post("/notifications", body(t, upper, good)),
			wantStatus: 202, wantChanged: [][]string{{groupA}}, wantAccepted: 2,
		},
		{
			name:       "under the endpoint's path prefix (an API stage, public_url's path)",
			req:        post("/prod/xtsync/notifications", body(t, good)),
			wantStatus: 202, wantChanged: [][]string{{groupA}}, wantAccepted: 1,
		},
		{
			name:       "deleted",
			req:        post("/notifications", body(t, with(good, "changeType", "deleted"))),
			wantStatus: 202, wantChanged: [][]string{{groupA}}, wantAccepted: 1,
		},
		{
			name:       "tenant id in another case",
			req:        post("/notifications", body(t, with(with(good, "tenantId", strings.ToUpper(tenantA)), "resourceData.organizationId", strings.ToUpper(tenantA)))),
			wantStatus: 202, wantChanged: [][]string{{groupA}}, wantAccepted: 1,
		},
		{
			name:       "no resourceData (basic notification)",
			req:        post("/notifications", body(t, with(good, "resourceData", nil))),
			wantStatus: 202, wantChanged: [][]string{{groupA}}, wantAccepted: 1,
		},
		{
			name: "unknown fields in items and at the top level",
			req: post("/notifications", []byte(`{"validationTokens":["x"],"value":[`+
				strings.TrimSuffix(string(mustJSON(t, good)), "}")+`,"sequenceNumber":638000000000000000,"newField":{"a":[1,2]}}]}`)),
			wantStatus: 202, wantChanged: [][]string{{groupA}}, wantAccepted: 1,
		},
		{
			name:       "two subscriptions, two tenants",
			req:        post("/notifications", body(t, good, groupItem(subB, secretB, tenantB, groupB))),
			wantStatus: 202, wantChanged: [][]string{{groupA, groupB}}, wantAccepted: 2,
		},
		{
			name:       "content type without charset, other case",
			req:        postAs("/notifications", "Application/JSON", body(t, good)),
			wantStatus: 202, wantChanged: [][]string{{groupA}}, wantAccepted: 1,
		},
		{
			name:       "content type with other parameters",
			req:        postAs("/notifications", `application/json; charset="UTF-8"; odata.metadata=minimal`, body(t, good)),
			wantStatus: 202, wantChanged: [][]string{{groupA}}, wantAccepted: 1,
		},
		{
			name:       "body exactly MaxBody",
			req:        unknownLength(post("/notifications", padded(t, 4096, good))),
			maxBody:    4096,
			wantStatus: 202, wantChanged: [][]string{{groupA}}, wantAccepted: 1,
		},
		{
			name: "mixed batch: only the good items",
			req: post("/notifications", body(t,
				with(goodItem(groupB), "clientState", forged),
				good,
				with(goodItem(groupB), "subscriptionId", "11111111-2222-4333-8444-555555555555"),
				with(goodItem(groupB), "tenantId", tenantB),
				with(goodItem(groupB), "resource", "Users/"+groupB),
				goodItem(groupOut),
				good,
			)),
			wantStatus: 202, wantChanged: [][]string{{groupA}}, wantAccepted: 2,
			wantRejected: map[string]int64{"client_state": 1, "unknown_subscription": 1, "tenant": 1, "resource": 1, "out_of_scope": 1},
		},
		{
			name:       "all forged: sink not called",
			req:        post("/notifications", body(t, with(good, "clientState", forged), with(goodItem(groupB), "clientState", forged))),
			wantStatus: 202, wantRejected: map[string]int64{"client_state": 2},
		},
		{
			name:       "sink fails: 503 so Graph retries",
			req:        post("/notifications", body(t, good, goodItem(groupB))),
			sinkErr:    true,
			wantStatus: 503, wantChanged: [][]string{{groupA, groupB}}, wantSinkErrs: 1,
		},
		{
			name:       "healthz",
			req:        httptest.NewRequest(http.MethodGet, "/healthz", nil),
			wantStatus: 200, wantBody: "ok",
		},
		{
			name:       "healthz HEAD",
			req:        httptest.NewRequest(http.MethodHead, "/healthz", nil),
			wantStatus: 200, wantBody: "ok", // the recorder keeps it; net/http drops it on the wire
		},
	}
	runCases(t, cases)
}

// TestUserNotifications: items of the users subscription reach
// Sink.UsersChanged, their users deduplicated, in one call per request and
// without a scope check; group items of the same body go to Sink.Changed.
func TestUserNotifications(t *testing.T) {
	good := goodUser(userA)
	upper := with(with(good, "resource", "users/"+strings.ToUpper(userA)), "resourceData.id", strings.ToUpper(userA))
	cases := []reqCase{
		{
			name:       "one item",
			req:        post("/notifications", body(t, good)),
			wantStatus: 202, wantUsers: [][]string{{userA}}, wantAccepted: 1,
		},
		{
			name:       "deleted",
			req:        post("/notifications", body(t, with(good, "changeType", "deleted"))),
			wantStatus: 202, wantUsers: [][]string{{userA}}, wantAccepted: 1,
		},
		{
			name:       "two users, one twice, in one call",
			req:        post("/notifications", body(t, goodUser(userB), good, good)),
			wantStatus: 202, wantUsers: [][]string{{userA, userB}}, wantAccepted: 3,
		},
		{
			name:       "upper-case GUID and lower-case users/ are the same user",
			req:        post("/notifications", body(t, upper, good)),
			wantStatus: 202, wantUsers: [][]string{{userA}}, wantAccepted: 2,
		},
		{
			name:       "no resourceData",
			req:        post("/notifications", body(t, with(good, "resourceData", nil))),
			wantStatus: 202, wantUsers: [][]string{{userA}}, wantAccepted: 1,
		},
		{
			name:       "no scope check: any user, even one with an out-of-scope group's id",
			req:        post("/notifications", body(t, goodUser(groupOut))),
			wantStatus: 202, wantUsers: [][]string{{groupOut}}, wantAccepted: 1,
		},
		{
			name:       "tenant id in another case",
			req:        post("/notifications", body(t, with(with(good, "tenantId", strings.ToUpper(tenantA)), "resourceData.organizationId", strings.ToUpper(tenantA)))),
			wantStatus: 202, wantUsers: [][]string{{userA}}, wantAccepted: 1,
		},
		{
			name:       "users subscriptions of two tenants",
			req:        post("/notifications", body(t, good, userItem(subUsrB, secretV, tenantB, userB))),
			wantStatus: 202, wantUsers: [][]string{{userA, userB}}, wantAccepted: 2,
		},
		{
			name:       "groups and users in one body: one call each",
			req:        post("/notifications", body(t, goodItem(groupB), good, goodItem(groupA), goodUser(userB), goodItem(groupB))),
			wantStatus: 202, wantChanged: [][]string{{groupA, groupB}}, wantUsers: [][]string{{userA, userB}}, wantAccepted: 5,
		},
		{
			name:       "sink fails: 503 so Graph retries, both kinds tried",
			req:        post("/notifications", body(t, good, goodItem(groupA))),
			sinkErr:    true,
			wantStatus: 503, wantChanged: [][]string{{groupA}}, wantUsers: [][]string{{userA}}, wantSinkErrs: 1,
		},
		{
			name:       "users sink fails alone: 503",
			req:        post("/notifications", body(t, good)),
			sinkErr:    true,
			wantStatus: 503, wantUsers: [][]string{{userA}}, wantSinkErrs: 1,
		},
	}
	runCases(t, cases)
}

// TestUserNotificationsRejected: a users item is checked like a group item
// (subscription, clientState, tenant, change type) and must name a user; a
// group subscription's item must name a group.
func TestUserNotificationsRejected(t *testing.T) {
	good := goodUser(userA)
	cases := []struct {
		name string
		item map[string]any
		want string // the Stats.Rejected reason
	}{
		{"Groups/ on the users subscription", with(with(good, "resource", "Groups/"+groupA), "resourceData.id", groupA), "resource"},
		{"Users/ on a group subscription", with(goodItem(groupA), "resource", "Users/"+groupA), "resource"},
		{"Users/ of a user on a group subscription", with(with(goodItem(groupA), "resource", "Users/"+userA), "resourceData.id", userA), "resource"},
		{"users/ on a group subscription, no resourceData", with(with(goodItem(groupA), "resource", "users/"+userA), "resourceData", nil), "resource"},
		{"resource not a GUID", with(with(good, "resource", "Users/alice@example.com"), "resourceData", nil), "resource"},
		{"resource below the user", with(good, "resource", "Users/"+userA+"/manager"), "resource"},
		{"resource without an id", with(with(good, "resource", "Users/"), "resourceData", nil), "resource"},
		{"resource /users/{id}", with(good, "resource", "/users/"+userA), "resource"},
		{"resourceData.id another user", with(good, "resourceData.id", userB), "resource"},
		{"changeType created", with(good, "changeType", "created"), "change_type"},
		{"changeType updated,deleted", with(good, "changeType", "updated,deleted"), "change_type"},
		{"changeType Updated", with(good, "changeType", "Updated"), "change_type"},
		{"forged clientState", with(good, "clientState", forged), "client_state"},
		{"no clientState", with(good, "clientState", nil), "client_state"},
		{"a group subscription's clientState", with(good, "clientState", secretA), "client_state"},
		{"the users clientState on a group subscription", with(goodItem(groupA), "clientState", secretU), "client_state"},
		{"the other tenant's users clientState", with(good, "clientState", secretV), "client_state"},
		{"other tenant", with(good, "tenantId", tenantB), "tenant"},
		{"no tenant", with(good, "tenantId", nil), "tenant"},
		{"organizationId of the other tenant", with(good, "resourceData.organizationId", tenantB), "tenant"},
		{"unknown subscription", with(good, "subscriptionId", "11111111-2222-4333-8444-555555555555"), "unknown_subscription"},
		{"no subscription", with(good, "subscriptionId", nil), "unknown_subscription"},
	}
	reqs := make([]reqCase, 0, len(cases)+1)
	batch := []any{good}
	for _, c := range cases {
		reqs = append(reqs, reqCase{
			name:         c.name,
			req:          post("/notifications", body(t, c.item)),
			wantStatus:   202,
			wantRejected: map[string]int64{c.want: 1},
		})
		batch = append(batch, c.item)
	}
	want := map[string]int64{}
	for _, c := range cases {
		want[c.want]++
	}
	reqs = append(reqs, reqCase{
		name:         "all in one body beside a good one",
		req:          post("/notifications", body(t, batch...)),
		wantStatus:   202,
		wantUsers:    [][]string{{userA}},
		wantAccepted: 1,
		wantRejected: want,
	})
	runCases(t, reqs)
}

// TestLifecycle: lifecycle events of our subscriptions reach the sink, in
// order; others are rejected and counted.
func TestLifecycle(t *testing.T) {
	cases := []reqCase{
		{
			name: "the three events",
			req: post("/lifecycle", body(t,
				lifecycleItem(subA, secretA, tenantA, "reauthorizationRequired"),
				lifecycleItem(subB, secretB, tenantB, "subscriptionRemoved"),
				lifecycleItem(subA, secretA, tenantA, "missed"),
			)),
			wantStatus: 202,
			wantLifecycle: []lifecycleCall{
				{subA, "reauthorizationRequired"}, {subB, "subscriptionRemoved"}, {subA, "missed"},
			},
		},
		{
			name: "graph docs sample",
			req: post("/lifecycle", sample(t, "lifecycle-notification.json", map[string]any{
				"subscriptionId": subB, "clientState": secretB, "tenantId": tenantB, "lifecycleEvent": "reauthorizationRequired",
			})),
			wantStatus:    202,
			wantLifecycle: []lifecycleCall{{subB, "reauthorizationRequired"}},
		},
		{
			name:       "graph docs sample as is: placeholder event, unknown subscription",
			req:        post("/lifecycle", sample(t, "lifecycle-notification.json", nil)),
			wantStatus: 202, wantRejected: map[string]int64{"unknown_subscription": 1},
		},
		{
			name: "mixed batch: only the good items",
			req: post("/lifecycle", body(t,
				lifecycleItem(subA, forged, tenantA, "subscriptionRemoved"),
				lifecycleItem(subA, secretA, tenantB, "subscriptionRemoved"),
				lifecycleItem("11111111-2222-4333-8444-555555555555", secretA, tenantA, "missed"),
				lifecycleItem(subA, secretA, tenantA, "subscriptionDeleted"),
				lifecycleItem(subA, secretA, tenantA, "Missed"),
				lifecycleItem(subA, secretA, tenantA, ""),
				goodItem(groupA),
				lifecycleItem(subA, secretA, tenantA, "missed"),
			)),
			wantStatus:    202,
			wantLifecycle: []lifecycleCall{{subA, "missed"}},
			wantRejected:  map[string]int64{"client_state": 1, "tenant": 1, "unknown_subscription": 1, "lifecycle_event": 4},
		},
		{
			name:         "sink fails: 503 so Graph retries",
			req:          post("/lifecycle", body(t, lifecycleItem(subA, secretA, tenantA, "missed"), lifecycleItem(subB, secretB, tenantB, "missed"))),
			sinkErr:      true,
			wantStatus:   503,
			wantSinkErrs: 1,
			// every good item is still tried
			wantLifecycle: []lifecycleCall{{subA, "missed"}, {subB, "missed"}},
		},
	}
	runCases(t, cases)
}

// TestRejectionLogCapped: a body full of forged items logs a bounded number
// of lines, all counted.
func TestRejectionLogCapped(t *testing.T) {
	fx := newFixture(t, nil, 0) // the log is asserted, not echoed
	items := make([]any, 500)
	for i := range items {
		items[i] = with(goodItem(groupA), "clientState", fmt.Sprintf("%s-%d", forged, i))
	}
	w := fx.serve(post("/notifications", body(t, items...)))
	if w.Code != http.StatusAccepted {
		t.Fatalf("status = %d, want 202", w.Code)
	}
	if got := fx.h.Stats().Rejected["client_state"]; got != 500 {
		t.Errorf("rejected client_state = %d, want 500", got)
	}
	logs := fx.logs.String()
	if got, max := strings.Count(logs, `msg="webhook item rejected"`), 20; got == 0 || got > max {
		t.Errorf("%d item lines logged, want 1..%d", got, max)
	}
	if !strings.Contains(logs, `msg="webhook items rejected" count=500`) {
		t.Errorf("no summary line with count=500 in:\n%s", logs)
	}
	if changed, _ := fx.sink.calls(); len(changed) != 0 {
		t.Errorf("sink called: %q", changed)
	}
	fx.logs.noSecrets(t)
}

// TestStatsConcurrent: counters add up under concurrent requests (run with
// -race). The one lifecycle event, replayed by every worker, reaches the
// sink once: the others fall in its coalescing window.
func TestStatsConcurrent(t *testing.T) {
	fx := newFixture(t, nil, 0)
	const workers, each = 8, 25
	notification := body(t, goodItem(groupA), with(goodItem(groupB), "clientState", forged))
	lifecycle := body(t, lifecycleItem(subA, secretA, tenantA, "missed"))
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for range each {
				fx.serve(post("/notifications", notification))
				fx.serve(post("/lifecycle", lifecycle))
				fx.serve(validationReq("/notifications", "validationToken=x"))
				fx.serve(post("/nowhere", nil))
				_ = fx.h.Stats()
			}
		})
	}
	wg.Wait()
	got := fx.h.Stats()
	n := int64(workers * each)
	want := webhook.Stats{Accepted: n, Rejected: map[string]int64{"client_state": n}, Validations: n,
		Lifecycle: 1, LifecycleCoalesced: n - 1, BadRequests: n}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("Stats = %+v, want %+v", got, want)
	}
	if changed, lifecycle := fx.sink.calls(); int64(len(changed)) != n || len(lifecycle) != 1 {
		t.Errorf("sink calls: %d changed, %d lifecycle; want %d and 1", len(changed), len(lifecycle), n)
	}
}

// TestNew: a configuration missing a part is refused.
func TestNew(t *testing.T) {
	ok := webhook.Config{Lookup: newSubs(), InScope: inScope, MirrorOf: mirrorOf, Sink: &recSink{}}
	cases := []struct {
		name    string
		edit    func(*webhook.Config)
		wantErr string
	}{
		{"complete", func(*webhook.Config) {}, ""},
		{"no logger is fine", func(c *webhook.Config) { c.Log = nil }, ""},
		{"no MirrorOf is fine", func(c *webhook.Config) { c.MirrorOf = nil }, ""},
		{"no subscriptions", func(c *webhook.Config) { c.Lookup = nil }, "lookup (Config.Lookup) is nil"},
		{"no scope", func(c *webhook.Config) { c.InScope = nil }, "InScope is nil"},
		{"no sink", func(c *webhook.Config) { c.Sink = nil }, "Sink is nil"},
		{"negative MaxBody", func(c *webhook.Config) { c.MaxBody = -1 }, "MaxBody -1 is negative"},
		{"negative MaxItems", func(c *webhook.Config) { c.MaxItems = -1 }, "MaxItems -1 is negative"},
		{"negative MaxConcurrent", func(c *webhook.Config) { c.MaxConcurrent = -1 }, "MaxConcurrent -1 is negative"},
		{"negative MaxBufferedBytes", func(c *webhook.Config) { c.MaxBufferedBytes = -1 }, "MaxBufferedBytes -1 is negative"},
		{"MaxBufferedBytes below MaxBody", func(c *webhook.Config) { c.MaxBody, c.MaxBufferedBytes = 4096, 4095 }, "MaxBufferedBytes 4095 is below MaxBody 4096"},
		{"MaxBufferedBytes below the default MaxBody", func(c *webhook.Config) { c.MaxBufferedBytes = 1000 }, "MaxBufferedBytes 1000 is below MaxBody 1048576"},
		{"MaxBody above the default MaxBufferedBytes", func(c *webhook.Config) { c.MaxBody = 16 << 20 }, ""},
		{"negative LifecycleCoalesce turns it off", func(c *webhook.Config) { c.LifecycleCoalesce = -1 }, ""},
		{"every limit set", func(c *webhook.Config) {
			c.MaxBody, c.MaxItems, c.MaxConcurrent, c.MaxBufferedBytes, c.LifecycleCoalesce = 4096, 10, 2, 8192, time.Minute
		}, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg := ok
			c.edit(&cfg)
			h, err := webhook.New(cfg)
			got := ""
			if err != nil {
				got = err.Error()
			}
			if (c.wantErr == "") != (err == nil) || !strings.Contains(got, c.wantErr) {
				t.Fatalf("New err = %q, want %q", got, c.wantErr)
			}
			if err == nil && h == nil {
				t.Fatal("New returned no handler and no error")
			}
		})
	}
}
