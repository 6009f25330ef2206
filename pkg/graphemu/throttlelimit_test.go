package graphemu_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/xtsync/xtsync/pkg/graphemu"
)

// frozenEmulator starts the sample emulator on a clock that never moves, so
// its buckets do not refill between requests, with faults f on the source
// tenant.
func frozenEmulator(t *testing.T, f graphemu.Faults) (*graphemu.Emulator, *client) {
	t.Helper()
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	em := startSample(t, graphemu.Options{Now: func() time.Time { return t0 }})
	must(t, em.SetFaults(src, f))
	return em, closing(t, sourceClient(t, em))
}

// TestThrottleLimitPercentage: once an app has used more than 80% of a
// bucket, regular answers carry x-ms-throttle-limit-percentage, used/limit
// with two decimals; a throttled answer does not.
func TestThrottleLimitPercentage(t *testing.T) {
	tests := []struct {
		name   string
		faults graphemu.Faults
		method string
		path   string
		body   any
		// want is the header per request in order ("" absent); 429 marks a
		// throttled answer.
		want []string
	}{
		{
			name:   "writes",
			faults: graphemu.Faults{WriteRate: 10, WriteBurst: 10},
			method: "PATCH", path: "/groups/%s", body: map[string]any{"description": "paced"},
			want: []string{"", "", "", "", "", "", "", "", "0.90", "1.00", "429"},
		},
		{
			name:   "reads in resource units",
			faults: graphemu.Faults{ReadRate: 10, ReadBurst: 10},
			method: "GET", path: "/groups/%s",
			want: []string{"", "", "", "", "", "", "", "", "0.90", "1.00", "429"},
		},
		{
			name:   "a members list costs 3",
			faults: graphemu.Faults{ReadRate: 20, ReadBurst: 20},
			method: "GET", path: "/groups/%s/members",
			want: []string{"", "", "", "", "", "0.90", "429"},
		},
		{
			name:   "unlimited budgets",
			faults: graphemu.Faults{},
			method: "PATCH", path: "/groups/%s", body: map[string]any{"description": "free"},
			want: []string{"", "", "", "", "", "", "", "", "", "", "", ""},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			em, c := frozenEmulator(t, tt.faults)
			g := sampleGroup(t, em, "sales")
			path := fmt.Sprintf(tt.path, g.ID)
			for i, want := range tt.want {
				status, body, h := c.do(tt.method, path, tt.body)
				got := h.Get("x-ms-throttle-limit-percentage")
				if status == 429 {
					got = "429"
				} else if status >= 300 {
					t.Fatalf("request %d: %d %s", i+1, status, jsonText(body))
				}
				if got != want {
					t.Errorf("request %d: got %q, want %q", i+1, got, want)
				}
			}
		})
	}
}

// TestThrottleLimitPercentageInvitations: the warning is about the app's
// limit; the tenant's invitation limit (150 per 5 s, for all apps) warns
// of nothing: past 120 invitations the answers carry no header, and the
// 151st is throttled, naming no app limit.
func TestThrottleLimitPercentageInvitations(t *testing.T) {
	_, c := frozenEmulator(t, graphemu.Faults{WriteRate: 1000, WriteBurst: 10000})
	for i := 1; i <= 151; i++ {
		status, body, h := c.do("POST", "/invitations", map[string]any{
			"invitedUserEmailAddress": fmt.Sprintf("guest%03d@partner.example", i), "inviteRedirectUrl": "https://myapps.microsoft.com",
			"sendInvitationMessage": false, "invitedUserType": "Guest",
		})
		if i == 151 {
			if status != 429 || h.Get("x-ms-throttle-scope") != "" {
				t.Fatalf("invitation 151: %d, scope %q; want 429 naming no app limit", status, h.Get("x-ms-throttle-scope"))
			}
			break
		}
		if status != 201 {
			t.Fatalf("invitation %d: %d %s", i, status, jsonText(body))
		}
		if got := h.Get("x-ms-throttle-limit-percentage"); got != "" {
			t.Errorf("invitation %d: x-ms-throttle-limit-percentage %q, want none", i, got)
		}
	}
}

// TestThrottleLimitPercentageInBatch: each $batch item carries its own
// warning, as each is charged on its own; the envelope carries none.
func TestThrottleLimitPercentageInBatch(t *testing.T) {
	em, c := frozenEmulator(t, graphemu.Faults{ReadRate: 5, ReadBurst: 5})
	g := sampleGroup(t, em, "sales")
	var reqs []map[string]any
	for i := range 5 {
		reqs = append(reqs, map[string]any{"id": fmt.Sprint(i + 1), "method": "GET", "url": "/groups/" + g.ID})
	}
	status, body, h := c.do("POST", "/$batch", map[string]any{"requests": reqs})
	if status != 200 {
		t.Fatalf("batch: %d %s", status, jsonText(body))
	}
	if got := h.Get("x-ms-throttle-limit-percentage"); got != "" {
		t.Errorf("envelope: got %q, want none", got)
	}
	want := map[string]string{"1": "", "2": "", "3": "", "4": "", "5": "1.00"}
	for _, r := range body["responses"].([]any) {
		item := r.(map[string]any)
		id := item["id"].(string)
		headers, _ := item["headers"].(map[string]any)
		got, _ := headers["x-ms-throttle-limit-percentage"].(string)
		if got != want[id] {
			t.Errorf("item %s: got %q, want %q", id, got, want[id])
		}
	}
}
