package webhook_test

import "testing"

// TestTargetUserNotifications: an item of the mirrors subscription on the
// target's users names a target user, authenticated against that
// subscription (its clientState, the target tenant), and goes to
// Sink.TargetUsersChanged, apart from the source's users; nothing of a
// rejected item reaches the sink.
func TestTargetUserNotifications(t *testing.T) {
	good := userItem(subMU, secretW, tenantT, userA)
	runCases(t, []reqCase{
		{
			name:       "one item: the target user",
			req:        post("/notifications", body(t, good)),
			wantStatus: 202, wantTargets: [][]string{{userA}}, wantAccepted: 1, wantMirrored: 1,
		},
		{
			name:       "two users, one twice, in one call, sorted",
			req:        post("/notifications", body(t, userItem(subMU, secretW, tenantT, userB), good, good)),
			wantStatus: 202, wantTargets: [][]string{{userA, userB}}, wantAccepted: 3, wantMirrored: 3,
		},
		{
			name:       "a source user and a target user: one call each",
			req:        post("/notifications", body(t, goodUser(userA), good)),
			wantStatus: 202, wantUsers: [][]string{{userA}}, wantTargets: [][]string{{userA}}, wantAccepted: 2, wantMirrored: 1,
		},
		{
			name:       "the source users subscription's clientState",
			req:        post("/notifications", body(t, with(good, "clientState", secretU))),
			wantStatus: 202, wantRejected: map[string]int64{"client_state": 1},
		},
		{
			name:       "the source tenant",
			req:        post("/notifications", body(t, with(good, "tenantId", tenantA))),
			wantStatus: 202, wantRejected: map[string]int64{"tenant": 1},
		},
		{
			name:       "a group on the users subscription",
			req:        post("/notifications", body(t, with(with(good, "resource", "Groups/"+mirrorA), "resourceData.id", mirrorA))),
			wantStatus: 202, wantRejected: map[string]int64{"resource": 1},
		},
		{
			name:       "sink fails: 503 so Graph retries",
			req:        post("/notifications", body(t, good)),
			sinkErr:    true,
			wantStatus: 503, wantTargets: [][]string{{userA}}, wantSinkErrs: 1,
		},
	})
}
