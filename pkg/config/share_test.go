package config

import "testing"

// TestShareQuota checks that n processes each get 1/n of every tenant's
// pace: the configured rates, else the defaults.
func TestShareQuota(t *testing.T) {
	ten := func(f float64) *float64 { return &f }
	c := &Config{Target: Tenant{WriteRate: ten(12), ReadRate: ten(600)}}
	c.ShareQuota(6)
	tests := []struct {
		name      string
		got, want float64
	}{
		{"source write rate (default 18)", *c.Source.WriteRate, 3},
		{"source invitation rate (default 28)", *c.Source.InvitationRate, 28.0 / 6},
		{"source read rate (default 300)", *c.Source.ReadRate, 50},
		{"source write burst (default 3000)", float64(*c.Source.WriteBurst), 500},
		{"target write rate (12)", *c.Target.WriteRate, 2},
		{"target read rate (600)", *c.Target.ReadRate, 100},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("%s: got %v, want %v", tt.name, tt.got, tt.want)
		}
	}
	one := &Config{}
	one.ShareQuota(1)
	if one.Source.WriteRate != nil || one.Target.WriteBurst != nil {
		t.Errorf("a share of 1 changed the configuration: %+v", one.Source)
	}
}
