// Package storetest is the contract every engine.Store passes: versioned
// conditional writes, kinds kept apart, ordered listing across pages, and the
// audit log. Each store's tests call Run with a constructor of fresh stores.
package storetest

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/xtsync/xtsync/pkg/engine"
)

// Run runs the store contract against stores made by open; each call must
// return a new, empty store.
func Run(t *testing.T, open func(t *testing.T) engine.Store) {
	ctx := t.Context()
	t.Run("GetMissing", func(t *testing.T) {
		s := open(t)
		if _, err := s.Get(ctx, engine.RecordGroup, "nope"); !errors.Is(err, engine.ErrNotFound) {
			t.Fatalf("got %v, want ErrNotFound", err)
		}
	})
	t.Run("VersionedPut", func(t *testing.T) {
		s := open(t)
		v1, err := s.Put(ctx, engine.RecordGroup, "g1", 0, []byte(`{"a":1}`))
		if err != nil || v1 != 1 {
			t.Fatalf("create: version %d err %v, want 1", v1, err)
		}
		if _, err := s.Put(ctx, engine.RecordGroup, "g1", 0, []byte(`{}`)); !errors.Is(err, engine.ErrConflict) {
			t.Fatalf("create over existing: got %v, want ErrConflict", err)
		}
		v2, err := s.Put(ctx, engine.RecordGroup, "g1", v1, []byte(`{"a":2}`))
		if err != nil || v2 != 2 {
			t.Fatalf("update: version %d err %v, want 2", v2, err)
		}
		if _, err := s.Put(ctx, engine.RecordGroup, "g1", v1, []byte(`{"a":3}`)); !errors.Is(err, engine.ErrConflict) {
			t.Fatalf("stale update: got %v, want ErrConflict", err)
		}
		if _, err := s.Put(ctx, engine.RecordGroup, "g2", 5, []byte(`{}`)); !errors.Is(err, engine.ErrConflict) {
			t.Fatalf("update of a missing record: got %v, want ErrConflict", err)
		}
		r, err := s.Get(ctx, engine.RecordGroup, "g1")
		if err != nil || r.Version != 2 || string(r.Data) != `{"a":2}` || r.Key != "g1" {
			t.Fatalf("get: %+v %v", r, err)
		}
	})
	t.Run("KindsApart", func(t *testing.T) {
		s := open(t)
		mustPut(t, s, engine.RecordGroup, "same", 0, "group")
		mustPut(t, s, engine.RecordUser, "same", 0, "user")
		g, _ := s.Get(ctx, engine.RecordGroup, "same")
		u, _ := s.Get(ctx, engine.RecordUser, "same")
		if string(g.Data) != "group" || string(u.Data) != "user" {
			t.Fatalf("kinds mixed: %q %q", g.Data, u.Data)
		}
		if recs, _ := s.List(ctx, engine.RecordDelta); len(recs) != 0 {
			t.Fatalf("empty kind lists %d", len(recs))
		}
	})
	t.Run("ListOrderedAcrossPages", func(t *testing.T) {
		s := open(t)
		// 300 records of 4 KiB: more than one 1 MB page in stores that page.
		big := strings.Repeat("x", 4096)
		for i := 299; i >= 0; i-- {
			mustPut(t, s, engine.RecordUser, fmt.Sprintf("u%04d", i), 0, big)
		}
		mustPut(t, s, engine.RecordGroup, "other", 0, "x")
		recs, err := s.List(ctx, engine.RecordUser)
		if err != nil {
			t.Fatal(err)
		}
		if len(recs) != 300 {
			t.Fatalf("listed %d, want 300", len(recs))
		}
		for i, r := range recs {
			if want := fmt.Sprintf("u%04d", i); r.Key != want || r.Version != 1 || len(r.Data) != 4096 {
				t.Fatalf("record %d: key %s version %d len %d, want %s", i, r.Key, r.Version, len(r.Data), want)
			}
		}
	})
	t.Run("Delete", func(t *testing.T) {
		s := open(t)
		v := mustPut(t, s, engine.RecordMeta, "m", 0, "x")
		if err := s.Delete(ctx, engine.RecordMeta, "m", v+1); !errors.Is(err, engine.ErrConflict) {
			t.Fatalf("delete with wrong version: %v", err)
		}
		if err := s.Delete(ctx, engine.RecordMeta, "m", v); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Get(ctx, engine.RecordMeta, "m"); !errors.Is(err, engine.ErrNotFound) {
			t.Fatalf("after delete: %v", err)
		}
		if err := s.Delete(ctx, engine.RecordMeta, "m", v); !errors.Is(err, engine.ErrNotFound) {
			t.Fatalf("delete missing: %v", err)
		}
		if v2 := mustPut(t, s, engine.RecordMeta, "m", 0, "again"); v2 != 1 {
			t.Fatalf("re-create after delete: version %d", v2)
		}
	})
	t.Run("ConcurrentWritersOneWins", func(t *testing.T) {
		s := open(t)
		v := mustPut(t, s, engine.RecordGroup, "race", 0, "0")
		var wg sync.WaitGroup
		var mu sync.Mutex
		wins, conflicts := 0, 0
		for i := 0; i < 8; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, err := s.Put(ctx, engine.RecordGroup, "race", v, []byte(fmt.Sprint(i)))
				mu.Lock()
				defer mu.Unlock()
				switch {
				case err == nil:
					wins++
				case errors.Is(err, engine.ErrConflict):
					conflicts++
				default:
					t.Error(err)
				}
			}()
		}
		wg.Wait()
		if wins != 1 || conflicts != 7 {
			t.Fatalf("wins %d conflicts %d, want 1 and 7", wins, conflicts)
		}
	})
	t.Run("Audit", func(t *testing.T) {
		s := open(t)
		t0 := time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)
		var entries []engine.AuditEntry
		for i := 0; i < 30; i++ {
			g := "ga"
			if i%3 == 0 {
				g = "gb"
			}
			entries = append(entries, engine.AuditEntry{Time: t0.Add(time.Duration(i) * time.Minute), Run: "r1", Action: "add-members", Group: g, Source: fmt.Sprintf("u%d", i), Target: "t", Outcome: "ok"})
		}
		if err := s.AppendAudit(ctx, entries[:10]...); err != nil {
			t.Fatal(err)
		}
		if err := s.AppendAudit(ctx, entries[10:]...); err != nil {
			t.Fatal(err)
		}
		all, err := s.Audit(ctx, engine.AuditQuery{})
		if err != nil || len(all) != 30 {
			t.Fatalf("all: %d %v", len(all), err)
		}
		for i, e := range all {
			if !e.Time.Equal(entries[i].Time) || e.Source != entries[i].Source || e.Group != entries[i].Group || e.Outcome != "ok" || e.Run != "r1" {
				t.Fatalf("entry %d: got %+v, want %+v", i, e, entries[i])
			}
		}
		gb, _ := s.Audit(ctx, engine.AuditQuery{Group: "gb"})
		if len(gb) != 10 {
			t.Fatalf("group filter: %d, want 10", len(gb))
		}
		since, _ := s.Audit(ctx, engine.AuditQuery{Since: t0.Add(25 * time.Minute)})
		if len(since) != 5 || since[0].Source != "u25" {
			t.Fatalf("since: %d entries", len(since))
		}
		last, _ := s.Audit(ctx, engine.AuditQuery{Limit: 3})
		if len(last) != 3 || last[2].Source != "u29" || last[0].Source != "u27" {
			t.Fatalf("limit: %+v", last)
		}
		same := []engine.AuditEntry{{Time: t0, Run: "r2", Action: "x", Source: "s1", Outcome: "ok"}, {Time: t0, Run: "r2", Action: "x", Source: "s2", Outcome: "ok"}}
		if err := s.AppendAudit(ctx, same...); err != nil {
			t.Fatal(err)
		}
		if all, _ := s.Audit(ctx, engine.AuditQuery{}); len(all) != 32 {
			t.Fatalf("entries with equal times must all be kept: %d", len(all))
		}
	})
	t.Run("AuditFilters", func(t *testing.T) { auditFilters(t, open(t)) })
}

// auditFilters checks that Audit honours every field of the query, alone
// and together, whatever part of it the store filters by its keys.
func auditFilters(t *testing.T, s engine.Store) {
	ctx := t.Context()
	t0 := time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)
	at := func(min int) time.Time { return t0.Add(time.Duration(min) * time.Minute) }
	// Detail labels each entry.
	entries := []engine.AuditEntry{
		{Time: at(0), Run: "r1", Action: "add-members", Group: "ga", Source: "u1", SourceName: "Adele Vance", Target: "t1", TargetName: "adele@contoso.com", Outcome: "ok", Detail: "e1"},
		{Time: at(1), Run: "r1", Action: "add-members", Group: "ga", Source: "u2", SourceName: "bob@contoso.com", Target: "t2", TargetName: "bob@contoso.com", Outcome: "failed", Detail: "e2"},
		{Time: at(2), Run: "r2", Action: "remove-members", Group: "gb", Target: "t9", TargetName: "rogue@fabrikam.com", Outcome: "started", Detail: "e3"},
		{Time: at(3), Run: "r2", Action: "remove-members", Group: "gb", Target: "t9", TargetName: "rogue@fabrikam.com", Outcome: "ok", Detail: "e4"},
		{Time: at(4), Run: "r2", Action: "invite-user", Source: "u1", SourceName: "Adele Vance", Target: "t1", TargetName: "adele@contoso.com", Outcome: "ok", Detail: "e5"},
		{Time: at(5), Run: "r3", Trigger: "schedule", Action: "create-group", Group: "gc", GroupName: "Finance", Source: "gc", SourceName: "Finance", Target: "tg", TargetName: "Finance", Outcome: "ok", Detail: "e6"},
	}
	if err := s.AppendAudit(ctx, entries...); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		q    engine.AuditQuery
		want string
	}{
		{"all", engine.AuditQuery{}, "[e1 e2 e3 e4 e5 e6]"},
		{"user by source id", engine.AuditQuery{User: "u1"}, "[e1 e5]"},
		{"user by target id", engine.AuditQuery{User: "t9"}, "[e3 e4]"},
		{"user by mail, any case", engine.AuditQuery{User: "Adele@CONTOSO.com"}, "[e1 e5]"},
		{"user by display name", engine.AuditQuery{User: "adele vance"}, "[e1 e5]"},
		{"user unknown", engine.AuditQuery{User: "nobody@contoso.com"}, "[]"},
		{"action", engine.AuditQuery{Action: "remove-members"}, "[e3 e4]"},
		{"outcome", engine.AuditQuery{Outcome: "ok"}, "[e1 e4 e5 e6]"},
		{"action and outcome", engine.AuditQuery{Action: "add-members", Outcome: "ok"}, "[e1]"},
		{"group and user", engine.AuditQuery{Group: "ga", User: "u2"}, "[e2]"},
		{"until is exclusive", engine.AuditQuery{Until: at(3)}, "[e1 e2 e3]"},
		{"since and until", engine.AuditQuery{Since: at(1), Until: at(4)}, "[e2 e3 e4]"},
		{"empty window", engine.AuditQuery{Since: at(4), Until: at(4)}, "[]"},
		{"until before since", engine.AuditQuery{Since: at(4), Until: at(2)}, "[]"},
		{"until with limit: the newest before until", engine.AuditQuery{Until: at(4), Limit: 2}, "[e3 e4]"},
		{"outcome with limit", engine.AuditQuery{Outcome: "ok", Limit: 1}, "[e6]"},
		{"everything", engine.AuditQuery{Group: "ga", User: "adele@contoso.com", Action: "add-members", Outcome: "ok", Since: at(0), Until: at(1)}, "[e1]"},
	}
	for _, tt := range tests {
		got, err := s.Audit(ctx, tt.q)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		labels := []string{}
		for _, e := range got {
			labels = append(labels, e.Detail)
		}
		if got := fmt.Sprint(labels); got != tt.want {
			t.Errorf("%s: Audit(%+v) = %s, want %s", tt.name, tt.q, got, tt.want)
		}
	}
	// The new fields are stored and read back.
	got, _ := s.Audit(ctx, engine.AuditQuery{Action: "create-group"})
	want := entries[5]
	if len(got) != 1 || !got[0].Time.Equal(want.Time) {
		t.Fatalf("create-group entries read back: %+v, want %+v", got, want)
	}
	got[0].Time = want.Time
	if got[0] != want {
		t.Errorf("create-group entry read back as %+v, want %+v", got[0], want)
	}
}

func mustPut(t *testing.T, s engine.Store, kind engine.RecordKind, key string, version int64, data string) int64 {
	t.Helper()
	v, err := s.Put(t.Context(), kind, key, version, []byte(data))
	if err != nil {
		t.Fatalf("put %s/%s: %v", kind, key, err)
	}
	return v
}
