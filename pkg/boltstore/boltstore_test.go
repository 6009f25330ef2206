package boltstore_test

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/xtsync/xtsync/pkg/boltstore"
	"github.com/xtsync/xtsync/pkg/engine"
	"github.com/xtsync/xtsync/pkg/engine/storetest"
)

func TestContract(t *testing.T) {
	storetest.Run(t, func(t *testing.T) engine.Store {
		s, err := boltstore.Open(filepath.Join(t.TempDir(), "state.db"), time.Second)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	})
}

func TestSecondOpenTimesOut(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.db")
	s, err := boltstore.Open(path, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := boltstore.Open(path, 50*time.Millisecond); err == nil {
		t.Fatal("a second open of a held state file must fail")
	}
}
