package dynamostore_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/xtsync/xtsync/pkg/dynamostore"
	"github.com/xtsync/xtsync/pkg/engine"
)

func TestItemSizeLimit(t *testing.T) {
	s, _, _ := newStore(t, dynamostore.Options{})
	ctx := testContext(t)

	// Just under the limit is written and read back whole.
	fits := bytes.Repeat([]byte("a"), dynamostore.MaxItemSize-1024)
	if _, err := s.Put(ctx, engine.RecordUser, "fits", 0, fits); err != nil {
		t.Fatalf("put of %d bytes: %v", len(fits), err)
	}
	r, err := s.Get(ctx, engine.RecordUser, "fits")
	if err != nil || !bytes.Equal(r.Data, fits) {
		t.Fatalf("get: %d bytes, %v", len(r.Data), err)
	}

	big := bytes.Repeat([]byte("b"), dynamostore.MaxItemSize)
	_, err = s.Put(ctx, engine.RecordUser, "too-big-user", 0, big)
	if !errors.Is(err, dynamostore.ErrItemTooLarge) || !strings.Contains(err.Error(), "too-big-user") {
		t.Fatalf("put of %d bytes: %v, want ErrItemTooLarge naming the key", len(big), err)
	}
	if _, err := s.Get(ctx, engine.RecordUser, "too-big-user"); !errors.Is(err, engine.ErrNotFound) {
		t.Fatalf("the refused record: %v, want ErrNotFound", err)
	}
	// An update that grows too large is refused too, and the record kept.
	if _, err := s.Put(ctx, engine.RecordUser, "fits", 1, big); !errors.Is(err, dynamostore.ErrItemTooLarge) {
		t.Fatalf("update to %d bytes: %v, want ErrItemTooLarge", len(big), err)
	}
	if r, err := s.Get(ctx, engine.RecordUser, "fits"); err != nil || r.Version != 1 {
		t.Fatalf("after a refused update: version %d, %v", r.Version, err)
	}

	huge := engine.AuditEntry{Time: time.Now(), Action: "x", Outcome: "failed", Detail: strings.Repeat("d", dynamostore.MaxItemSize)}
	if err := s.AppendAudit(ctx, huge); !errors.Is(err, dynamostore.ErrItemTooLarge) {
		t.Fatalf("huge audit entry: %v, want ErrItemTooLarge", err)
	}
	if _, err := s.Put(ctx, engine.RecordUser, strings.Repeat("k", 1025), 0, []byte("x")); err == nil {
		t.Fatal("a key over 1024 bytes must be refused")
	}
}

func TestEmptyData(t *testing.T) {
	s, _, _ := newStore(t, dynamostore.Options{})
	ctx := testContext(t)
	if _, err := s.Put(ctx, engine.RecordMeta, "empty", 0, nil); err != nil {
		t.Fatal(err)
	}
	r, err := s.Get(ctx, engine.RecordMeta, "empty")
	if err != nil || r.Version != 1 || len(r.Data) != 0 {
		t.Fatalf("get: %+v %v", r, err)
	}
}
