package task_test

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/xtsync/xtsync/pkg/task"
)

// TestJSON checks that a task is its key in JSON, both ways.
func TestJSON(t *testing.T) {
	in := struct{ Task task.Task }{task.Of(task.Delta, "s-1")}
	b, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(b), `{"Task":"shard:s-1"}`; got != want {
		t.Fatalf("json %s, want %s", got, want)
	}
	var out struct{ Task task.Task }
	if err := json.Unmarshal(b, &out); err != nil || out != in {
		t.Fatalf("round trip: %+v, %v", out, err)
	}
	if err := json.Unmarshal([]byte(`{"Task":"nonsense"}`), &out); !errors.Is(err, task.ErrPermanent) {
		t.Fatalf("unknown task decoded: %v", err)
	}
}
