package task

import (
	"errors"
	"testing"
)

func TestKeyAndParse(t *testing.T) {
	for _, tt := range []struct {
		task Task
		key  string
	}{
		{Of(Delta, "0123456789abcdef"), "shard:0123456789abcdef"},
		{Of(SyncShard, "0123456789abcdef"), "sync-shard:0123456789abcdef"},
		{Of(Renew, "sub-1"), "renew:sub-1"},
		{Of(Recreate, "sub-1"), "recreate:sub-1"},
		{Of(SyncUnscoped, ""), "sync-unscoped"},
		{Of(Users, ""), "users"},
		{Of(TargetUsers, ""), "target-users"},
		{Of(Reconcile, ""), "reconcile"},
		{Of(Subscriptions, ""), "subscriptions"},
	} {
		if got := tt.task.Key(); got != tt.key {
			t.Errorf("%+v.Key() = %q, want %q", tt.task, got, tt.key)
		}
		got, err := Parse(tt.key)
		if err != nil || got != tt.task {
			t.Errorf("Parse(%q) = %+v, %v; want %+v", tt.key, got, err, tt.task)
		}
	}
	for _, bad := range []string{"", "nonsense", "shard", "shard:", "renew:", "reconcile:now", "users:x", "Reconcile"} {
		if _, err := Parse(bad); !errors.Is(err, ErrPermanent) {
			t.Errorf("Parse(%q): %v, want ErrPermanent", bad, err)
		}
	}
}

func TestRetryable(t *testing.T) {
	for _, tt := range []struct {
		err  error
		want bool
	}{
		{nil, false},
		{errors.New("throttled"), true},
		{ErrPermanent, false},
		{errors.Join(errors.New("x"), ErrPermanent), false},
	} {
		if got := Retryable(tt.err); got != tt.want {
			t.Errorf("Retryable(%v) = %t, want %t", tt.err, got, tt.want)
		}
	}
}
