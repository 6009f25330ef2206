package engine

import (
	"testing"
	"time"
)

func TestCreatedBy(t *testing.T) {
	intent := time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC)
	link := LinkValue("SRC", "U1")
	tests := []struct {
		name            string
		u               User
		intent          time.Time
		created, linked bool
	}{
		{"carries its own link", User{Link: "xtsync:src:u1"}, time.Time{}, true, true},
		{"carries another source user's link", User{Link: LinkValue("src", "u2"), Created: intent.Add(time.Second)}, intent, false, false},
		{"the tenant uses the attribute", User{Link: "cost-centre 42", Created: intent.Add(time.Second)}, intent, false, false},
		{"created after the intent", User{Created: intent.Add(time.Second)}, intent, true, false},
		{"created within the clock skew before it", User{Created: intent.Add(-creationSkew)}, intent, true, false},
		{"created before the intent", User{Created: intent.Add(-creationSkew - time.Millisecond)}, intent, false, false},
		{"no intent: nothing proves it", User{Created: intent}, time.Time{}, false, false},
		{"no creation time: nothing proves it", User{}, intent, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			created, linked := createdBy(tt.u, link, tt.intent)
			if created != tt.created || linked != tt.linked {
				t.Errorf("got created %t linked %t, want %t %t", created, linked, tt.created, tt.linked)
			}
		})
	}
}
