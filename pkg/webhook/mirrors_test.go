package webhook_test

import (
	"context"
	"strings"
	"testing"

	"github.com/xtsync/xtsync/pkg/webhook"
)

// TestMirrorNotifications: items of a mirrors subscription (on the target
// tenant) name target groups; those that are mirrors reach
// Sink.MirrorsChanged as their source groups, deduplicated and sorted, in
// one call per request beside the other kinds.
func TestMirrorNotifications(t *testing.T) {
	good := goodMirror(mirrorA)
	upper := with(with(good, "resource", "groups/"+strings.ToUpper(mirrorA)), "resourceData.id", strings.ToUpper(mirrorA))
	cases := []reqCase{
		{
			name:       "one item: its source group",
			req:        post("/notifications", body(t, good)),
			wantStatus: 202, wantMirrors: [][]string{{groupA}}, wantAccepted: 1, wantMirrored: 1,
		},
		{
			name:       "deleted",
			req:        post("/notifications", body(t, with(good, "changeType", "deleted"))),
			wantStatus: 202, wantMirrors: [][]string{{groupA}}, wantAccepted: 1, wantMirrored: 1,
		},
		{
			name:       "two mirrors, one twice, in one call, as sorted source ids",
			req:        post("/notifications", body(t, goodMirror(mirrorB), good, good)),
			wantStatus: 202, wantMirrors: [][]string{{groupA, groupB}}, wantAccepted: 3, wantMirrored: 3,
		},
		{
			name:       "upper-case GUID and lower-case groups/ are the same mirror",
			req:        post("/notifications", body(t, upper, good)),
			wantStatus: 202, wantMirrors: [][]string{{groupA}}, wantAccepted: 2, wantMirrored: 2,
		},
		{
			name:       "no resourceData",
			req:        post("/notifications", body(t, with(good, "resourceData", nil))),
			wantStatus: 202, wantMirrors: [][]string{{groupA}}, wantAccepted: 1, wantMirrored: 1,
		},
		{
			name: "a source group, a mirror and a user in one body: one call each",
			req: post("/notifications", body(t,
				goodItem(groupA),    // source subscription, source tenant
				goodMirror(mirrorB), // mirrors subscription, target tenant
				goodUser(userA),     // users subscription
			)),
			wantStatus:  202,
			wantChanged: [][]string{{groupA}}, wantMirrors: [][]string{{groupB}}, wantUsers: [][]string{{userA}},
			wantAccepted: 3, wantMirrored: 1,
		},
		{
			name:       "a mirror and its own source group: both kinds",
			req:        post("/notifications", body(t, good, goodItem(groupA))),
			wantStatus: 202, wantChanged: [][]string{{groupA}}, wantMirrors: [][]string{{groupA}}, wantAccepted: 2, wantMirrored: 1,
		},
		{
			name:       "sink fails: 503 so Graph retries, every kind tried",
			req:        post("/notifications", body(t, goodItem(groupA), good, goodUser(userA))),
			sinkErr:    true,
			wantStatus: 503, wantChanged: [][]string{{groupA}}, wantMirrors: [][]string{{groupA}}, wantUsers: [][]string{{userA}}, wantSinkErrs: 1,
		},
		{
			name:       "mirrors sink fails alone: 503",
			req:        post("/notifications", body(t, good)),
			sinkErr:    true,
			wantStatus: 503, wantMirrors: [][]string{{groupA}}, wantSinkErrs: 1,
		},
		{
			name:       "no MirrorOf: every mirror item out of scope, the others pass",
			req:        post("/notifications", body(t, good, goodMirror(mirrorB), goodItem(groupB))),
			edit:       func(c *webhook.Config) { c.MirrorOf = nil },
			wantStatus: 202, wantChanged: [][]string{{groupB}}, wantAccepted: 1,
			wantRejected: map[string]int64{"out_of_scope": 2},
		},
		{
			name:       "a subscription on one mirror names its source: no MirrorOf needed",
			req:        post("/notifications", body(t, groupItem(subM1, secretM, tenantT, mirrorB))),
			edit:       func(c *webhook.Config) { c.MirrorOf = nil },
			wantStatus: 202, wantMirrors: [][]string{{groupB}}, wantAccepted: 1, wantMirrored: 1,
		},
		{
			name:         "a subscription on one mirror speaks of no other group",
			req:          post("/notifications", body(t, groupItem(subM1, secretM, tenantT, mirrorA))),
			wantStatus:   202,
			wantRejected: map[string]int64{"resource": 1},
		},
		{
			name:       "the lifecycle of a mirrors subscription is passed on",
			req:        post("/lifecycle", body(t, lifecycleItem(subM, secretM, tenantT, "reauthorizationRequired"))),
			wantStatus: 202, wantLifecycle: []lifecycleCall{{subM, "reauthorizationRequired"}},
		},
	}
	runCases(t, cases)
}

// TestMirrorNotificationsRejected: a mirrors item is authenticated against
// its own subscription (the target tenant, its own clientState), must name
// Groups/{guid}, and that group must be a mirror; nothing of a rejected item
// reaches the sink.
func TestMirrorNotificationsRejected(t *testing.T) {
	good := goodMirror(mirrorA)
	cases := []struct {
		name string
		item map[string]any
		want string // the Stats.Rejected reason
	}{
		// Authentication.
		{"the source subscription's clientState", with(good, "clientState", secretA), "client_state"},
		{"the users subscription's clientState", with(good, "clientState", secretU), "client_state"},
		{"forged clientState", with(good, "clientState", forged), "client_state"},
		{"no clientState", with(good, "clientState", nil), "client_state"},
		{"the mirrors clientState on the source subscription", with(goodItem(groupA), "clientState", secretM), "client_state"},
		{"the source tenant", with(good, "tenantId", tenantA), "tenant"},
		{"the source tenant, organizationId too", with(with(good, "tenantId", tenantA), "resourceData.organizationId", tenantA), "tenant"},
		{"organizationId of the source tenant", with(good, "resourceData.organizationId", tenantA), "tenant"},
		{"no tenant", with(good, "tenantId", nil), "tenant"},
		{"the target tenant on the source subscription", groupItem(subA, secretA, tenantT, groupA), "tenant"},
		{"unknown subscription", with(good, "subscriptionId", "11111111-2222-4333-8444-555555555555"), "unknown_subscription"},
		// Change type.
		{"changeType created", with(good, "changeType", "created"), "change_type"},
		// Resource: Groups/{guid} only.
		{"Users/ on the mirrors subscription", with(with(good, "resource", "Users/"+userA), "resourceData.id", userA), "resource"},
		{"resource not a GUID", with(with(good, "resource", "Groups/mirror-a"), "resourceData", nil), "resource"},
		{"resource below the group", with(good, "resource", "Groups/"+mirrorA+"/members"), "resource"},
		{"resource without an id", with(with(good, "resource", "Groups/"), "resourceData", nil), "resource"},
		{"resource /groups/{id}", with(good, "resource", "/groups/"+mirrorA), "resource"},
		{"resource Groups/../{id}", with(good, "resource", "Groups/../"+mirrorA), "resource"},
		{"resourceData.id another group", with(good, "resourceData.id", mirrorB), "resource"},
		// Scope: the target group must be a mirror.
		{"a target group that is no mirror", goodMirror(mirrorOut), "out_of_scope"},
		{"a source group's id on the mirrors subscription", goodMirror(groupA), "out_of_scope"},
		{"a mirror's id on the source subscription", goodItem(mirrorA), "out_of_scope"},
	}
	reqs := make([]reqCase, 0, len(cases)+1)
	batch := []any{goodMirror(mirrorB)}
	want := map[string]int64{}
	for _, c := range cases {
		reqs = append(reqs, reqCase{
			name:         c.name,
			req:          post("/notifications", body(t, c.item)),
			wantStatus:   202,
			wantRejected: map[string]int64{c.want: 1},
		})
		batch = append(batch, c.item)
		want[c.want]++
	}
	reqs = append(reqs, reqCase{
		name:         "all in one body beside a good one",
		req:          post("/notifications", body(t, batch...)),
		wantStatus:   202,
		wantMirrors:  [][]string{{groupB}},
		wantAccepted: 1, wantMirrored: 1,
		wantRejected: want,
	})
	runCases(t, reqs)
}

// unsureSubs is a lookup that may not know yet the subscriptions in fresh
// (made moments ago).
type unsureSubs struct {
	fakeSubs
	fresh map[string]bool
}

func (u unsureSubs) Unsure(_ context.Context, id string) bool { return u.fresh[id] }

// TestNotYetKnownSubscription: an item of a subscription the lookup does
// not know but may have been made moments ago (webhook.UnsureLookup) is
// neither dropped nor queued: the request is answered 503 for Graph to
// deliver it again, the good items beside it are queued; an unknown id the
// lookup is sure of is rejected as before, with 202.
func TestNotYetKnownSubscription(t *testing.T) {
	const fresh = "c9d8e7f6-a5b4-4c3d-9e2f-1a0b9c8d7e6f"
	newItem := groupItem(fresh, "a-new-client-state", tenantT, mirrorA)
	cases := []reqCase{
		{
			name:       "a subscription made moments ago: 503, the rest queued",
			req:        post("/notifications", body(t, newItem, goodItem(groupA))),
			edit:       func(c *webhook.Config) { c.Lookup = unsureSubs{newSubs(), map[string]bool{fresh: true}} },
			wantStatus: 503, wantChanged: [][]string{{groupA}}, wantAccepted: 1,
		},
		{
			name:         "an unknown subscription the lookup is sure of: rejected, 202",
			req:          post("/notifications", body(t, newItem, goodItem(groupA))),
			edit:         func(c *webhook.Config) { c.Lookup = unsureSubs{newSubs(), nil} },
			wantStatus:   202,
			wantChanged:  [][]string{{groupA}},
			wantAccepted: 1,
			wantRejected: map[string]int64{"unknown_subscription": 1},
		},
	}
	runCases(t, cases)
}
