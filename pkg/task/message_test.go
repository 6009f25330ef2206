package task_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/xtsync/xtsync/pkg/task"
)

// tasks returns a task of every kind.
func tasks() []task.Task {
	sub := "7f3c1d2e-4b5a-4c6d-8e9f-0a1b2c3d4e5f"
	return []task.Task{
		task.Of(task.Delta, "0123456789abcdef"), task.Of(task.SyncShard, "0123456789abcdef"), task.Of(task.SyncUnscoped, ""),
		task.Of(task.Users, ""), task.Of(task.TargetUsers, ""), task.Of(task.Reconcile, ""), task.Of(task.Subscriptions, ""),
		task.Of(task.Renew, sub), task.Of(task.Recreate, sub),
	}
}

func TestEncodeDecodeRoundTrip(t *testing.T) {
	for _, tk := range tasks() {
		body, err := tk.Encode()
		if err != nil {
			t.Fatalf("%v.Encode(): %v", tk, err)
		}
		if want := `{"v":1,"key":"` + tk.Key() + `"}`; body != want {
			t.Errorf("%v.Encode() = %s, want %s", tk, body, want)
		}
		got, err := task.Decode(body)
		if err != nil || got != tk {
			t.Errorf("Decode(%s) = %+v, %v; want %+v", body, got, err, tk)
		}
	}
}

// TestDecodeWireFormat decodes bodies as the earlier sqsqueue.Encode wrote
// them, byte for byte: messages already in a queue still decode.
func TestDecodeWireFormat(t *testing.T) {
	for body, want := range map[string]task.Task{
		`{"v":1,"key":"shard:0123456789abcdef"}`: task.Of(task.Delta, "0123456789abcdef"),
		`{"v":1,"key":"reconcile"}`:              task.Of(task.Reconcile, ""),
		`{"v":1,"key":"renew:sub-1"}`:            task.Of(task.Renew, "sub-1"),
		`{"key":"users","v":1}`:                  task.Of(task.Users, ""),
	} {
		got, err := task.Decode(body)
		if err != nil || got != want {
			t.Errorf("Decode(%s) = %+v, %v; want %+v", body, got, err, want)
		}
	}
}

func TestDecodeRejects(t *testing.T) {
	for _, tc := range []struct{ name, body string }{
		{"empty", ``},
		{"not JSON", `shard:abc`},
		{"JSON string", `"shard:abc"`},
		{"array", `[1,"shard:abc"]`},
		{"null", `null`},
		{"no version", `{"key":"shard:abc"}`},
		{"version 0", `{"v":0,"key":"shard:abc"}`},
		{"version 2", `{"v":2,"key":"shard:abc"}`},
		{"version as string", `{"v":"1","key":"shard:abc"}`},
		{"fractional version", `{"v":1.5,"key":"shard:abc"}`},
		{"no key", `{"v":1}`},
		{"empty key", `{"v":1,"key":""}`},
		{"key with space", `{"v":1,"key":"shard: abc"}`},
		{"key with non-ASCII", `{"v":1,"key":"shard:é"}`},
		{"key too long", `{"v":1,"key":"shard:` + strings.Repeat("k", 123) + `"}`},
		{"key not a string", `{"v":1,"key":42}`},
		{"unknown kind", `{"v":1,"key":"nonsense"}`},
		{"kind in another case", `{"v":1,"key":"Reconcile"}`},
		{"missing argument", `{"v":1,"key":"shard:"}`},
		{"unwanted argument", `{"v":1,"key":"reconcile:now"}`},
		{"trailing data", `{"v":1,"key":"shard:abc"} {}`},
		{"truncated", `{"v":1,"key":"shard:abc"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := task.Decode(tc.body)
			if !errors.Is(err, task.ErrBadMessage) {
				t.Fatalf("Decode(%q) = %+v, %v; want an error wrapping ErrBadMessage", tc.body, got, err)
			}
			if !errors.Is(err, task.ErrPermanent) || task.Retryable(err) {
				t.Errorf("Decode(%q): %v does not count as permanent", tc.body, err)
			}
			if got != (task.Task{}) {
				t.Errorf("Decode(%q) returned task %+v with its error", tc.body, got)
			}
		})
	}
}

func TestErrBadMessageIsPermanent(t *testing.T) {
	if !errors.Is(task.ErrBadMessage, task.ErrPermanent) {
		t.Error("ErrBadMessage does not wrap ErrPermanent")
	}
	if task.Retryable(task.ErrBadMessage) {
		t.Error("Retryable(ErrBadMessage) = true")
	}
}

func TestDecodeIgnoresUnknownFields(t *testing.T) {
	got, err := task.Decode(`{"v":1,"key":"reconcile","by":"webhook"}`)
	if err != nil || got != task.Of(task.Reconcile, "") {
		t.Fatalf("Decode = %+v, %v; want reconcile", got, err)
	}
}

func TestCheckAndEncodeReject(t *testing.T) {
	for _, tk := range []task.Task{
		{},
		{Kind: "nonsense"},
		{Kind: "shard:x"},
		task.Of(task.Delta, ""),
		task.Of(task.Delta, " x"),
		task.Of(task.Delta, "x\n"),
		task.Of(task.Renew, "é"),
		task.Of(task.Reconcile, "now"),
		task.Of(task.Delta, strings.Repeat("k", 123)), // a key of 129 characters
	} {
		if err := tk.Check(); !errors.Is(err, task.ErrPermanent) {
			t.Errorf("%+v.Check() = %v, want ErrPermanent", tk, err)
		}
		if body, err := tk.Encode(); !errors.Is(err, task.ErrPermanent) || body != "" {
			t.Errorf("%+v.Encode() = %q, %v; want ErrPermanent", tk, body, err)
		}
	}
	long := task.Of(task.Delta, strings.Repeat("k", 122)) // a key of 128 characters
	if err := long.Check(); err != nil {
		t.Errorf("Check of a 128-character key: %v", err)
	}
	if _, err := long.Encode(); err != nil {
		t.Errorf("Encode of a 128-character key: %v", err)
	}
	for _, tk := range tasks() {
		if err := tk.Check(); err != nil {
			t.Errorf("%v.Check(): %v", tk, err)
		}
	}
}
