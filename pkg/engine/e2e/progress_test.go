package e2e_test

import (
	"context"
	"sync"
	"testing"

	"github.com/xtsync/xtsync/pkg/engine"
)

// TestProgressReachesTheTotal: the apply progress of an initial sync ends
// at its total, also when every member of a new group is bound at its
// creation (the add-members action then writes nothing).
func TestProgressReachesTheTotal(t *testing.T) {
	h := newHarness(t, allSample, nil)
	var mu sync.Mutex
	last := engine.Progress{}
	rep, err := h.eng.Reconcile(context.Background(), engine.RunOptions{Progress: func(p engine.Progress) {
		mu.Lock()
		defer mu.Unlock()
		if p.Stage == "apply" {
			last = p
		}
	}})
	if err != nil {
		t.Fatal(err)
	}
	if last.Total == 0 || last.Done != last.Total || last.Total != len(rep.Plan.Actions) {
		t.Errorf("last apply progress %d of %d, want %d of %d", last.Done, last.Total, len(rep.Plan.Actions), len(rep.Plan.Actions))
	}
}
