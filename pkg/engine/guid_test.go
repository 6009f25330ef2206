package engine

import "testing"

func TestIsGUID(t *testing.T) {
	for _, tt := range []struct {
		s    string
		want bool
	}{
		{"6f1c2b9e-3d4a-4c8e-9b1f-2a7d5e8c0b31", true},
		{"6F1C2B9E-3D4A-4C8E-9B1F-2A7D5E8C0B31", true},
		{"{6f1c2b9e-3d4a-4c8e-9b1f-2a7d5e8c0b31}", false},
		{"6f1c2b9e3d4a4c8e9b1f2a7d5e8c0b31", false},
		{"6f1c2b9e-3d4a-4c8e-9b1f-2a7d5e8c0b3g", false},
		{"6f1c2b9e-3d4a-4c8e-9b1f_2a7d5e8c0b31", false},
		{"6f1c2b9e-3d4a-4c8e-9b1f-2a7d5e8c0b31/../x", false},
		{"", false},
	} {
		if got := IsGUID(tt.s); got != tt.want {
			t.Errorf("IsGUID(%q) = %t, want %t", tt.s, got, tt.want)
		}
	}
}
