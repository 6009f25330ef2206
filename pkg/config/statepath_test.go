package config_test

import (
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/xtsync/xtsync/pkg/config"
)

func TestCheckStatePath(t *testing.T) {
	dir := t.TempDir()
	existing := filepath.Join(dir, "xtsync.db")
	if err := os.WriteFile(existing, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, "plain")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	readOnlyDir := filepath.Join(dir, "ro")
	if err := os.Mkdir(readOnlyDir, 0o500); err != nil {
		t.Fatal(err)
	}
	readOnlyFile := filepath.Join(dir, "ro.db")
	if err := os.WriteFile(readOnlyFile, nil, 0o400); err != nil {
		t.Fatal(err)
	}
	privileged := runtime.GOOS == "windows" || os.Geteuid() == 0 // permission bits do not stop them

	tests := []struct {
		name, path string
		want       string // "" for no problem
		needsPerms bool
	}{
		{"existing file", existing, "", false},
		{"new file in an existing directory", filepath.Join(dir, "new.db"), "", false},
		{"empty", "", "is empty", false},
		{"missing directory", filepath.Join(dir, "nope", "xtsync.db"), "does not exist", false},
		{"missing directories", filepath.Join(dir, "a", "b", "xtsync.db"), "does not exist", false},
		{"a directory", dir, "is a directory: name a file inside it", false},
		{"parent is a file", filepath.Join(file, "xtsync.db"), "not a directory", false},
		{"read-only directory", filepath.Join(readOnlyDir, "xtsync.db"), "is not writable by this user", true},
		{"read-only file", readOnlyFile, "cannot be opened for writing", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.needsPerms && privileged {
				t.Skip("permission bits do not apply to this user")
			}
			_, statErr := os.Stat(tt.path)
			err := config.CheckStatePath(tt.path)
			if tt.want == "" {
				if err != nil {
					t.Fatalf("got %v, want nil", err)
				}
			} else {
				wantError(t, err, "state.path", tt.want)
			}
			// The check creates nothing.
			if _, err := os.Stat(tt.path); errors.Is(statErr, os.ErrNotExist) && !errors.Is(err, os.ErrNotExist) {
				t.Errorf("%s exists after the check: %v", tt.path, err)
			}
		})
	}
}
