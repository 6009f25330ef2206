package webhook_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/xtsync/xtsync/pkg/engine"
	"github.com/xtsync/xtsync/pkg/webhook"
)

// Fixture ids: two source tenants and the target tenant, our
// subscriptions (two group ones, the users one of each source tenant, one
// without a clientState, the mirrors one of the target tenant), groups in
// and out of scope, mirrors (target groups) of groupA and groupB and a
// target group that is not one, users.
const (
	tenantA = "84bd8158-6d4d-4958-8b9f-9d6445542f95"
	tenantB = "0b1c7a4e-3f2d-4c5b-9a8e-7d6c5b4a3f2e"
	tenantT = "d4c3b2a1-9f8e-4d7c-a6b5-4c3d2e1f0a9b" // the target tenant

	subA     = "7f105c7d-2dc5-4530-97cd-4e7ae6534c07"
	subB     = "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d"
	subEmpty = "00000000-0000-4000-8000-000000000001" // a subscription with no clientState: matches nothing
	subUsers = "5c4b3a29-1807-4f6e-9d5c-4b3a29180706" // the users subscription of tenantA
	subUsrB  = "e1d2c3b4-a596-4877-8695-a4b3c2d1e0f9" // the users subscription of tenantB
	subM     = "a7b6c5d4-e3f2-4a1b-9c8d-7e6f5a4b3c2d" // the mirrors subscription of tenantT
	subM1    = "b8c7d6e5-f4a3-4b2c-8d1e-0f9a8b7c6d5e" // the subscription on mirrorB alone, naming groupB
	subMU    = "d0c9b8a7-f6e5-4d4c-8b3a-291807f6e5d4" // the mirrors subscription on tenantT's users

	secretA = "s3cr3t-client-state-A-4f9c2e"
	secretB = "s3cr3t-client-state-B-77aa01"
	secretU = "s3cr3t-client-state-U-5e11aa"
	secretV = "s3cr3t-client-state-V-90bd3c"
	secretM = "s3cr3t-client-state-M-2b7e41"
	secretW = "s3cr3t-client-state-W-61c0de"
	forged  = "forged-client-state-0badc0de"

	groupA   = "02bd9fd6-8f93-4758-87c3-1fb73740a315"
	groupB   = "6a5d2c1b-0e9f-4d8c-b7a6-958473625140"
	groupOut = "c0ffee00-1111-4222-8333-444455556666" // not synced

	mirrorA   = "1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d" // groupA's mirror
	mirrorB   = "f0e1d2c3-b4a5-4697-8877-665544332211" // groupB's mirror
	mirrorOut = "beefbeef-2222-4333-8444-555566667777" // a target group that is no mirror

	userA = "3f2e1d0c-9b8a-4766-a554-433221100ffe"
	userB = "8e7d6c5b-4a39-4281-b706-f5e4d3c2b1a0"
)

// fakeSubs is an in-memory SubscriptionLookup.
type fakeSubs map[string]engine.Subscription

func (f fakeSubs) Lookup(_ context.Context, id string) (engine.Subscription, bool) {
	s, ok := f[id]
	return s, ok
}

func newSubs() fakeSubs {
	return fakeSubs{
		subA:     {ClientState: secretA, TenantID: tenantA},
		subB:     {ClientState: secretB, TenantID: tenantB},
		subEmpty: {ClientState: "", TenantID: tenantA},
		subUsers: {ClientState: secretU, TenantID: tenantA, Resource: engine.UsersResource},
		subUsrB:  {ClientState: secretV, TenantID: tenantB, Resource: engine.UsersResource},
		subM:     {ClientState: secretM, TenantID: tenantT, Resource: engine.GroupsResource, Mirrors: true},
		subM1:    {ClientState: secretM, TenantID: tenantT, Resource: engine.GroupsResource + "/" + mirrorB, Mirrors: true, Source: groupB},
		subMU:    {ClientState: secretW, TenantID: tenantT, Resource: engine.UsersResource, Mirrors: true},
	}
}

// inScope says groupA and groupB are synced.
func inScope(_ context.Context, id string) bool { return id == groupA || id == groupB }

// mirrorOf knows the mirrors of groupA and groupB (Config.MirrorOf).
func mirrorOf(_ context.Context, target string) (string, bool) {
	source, ok := map[string]string{mirrorA: groupA, mirrorB: groupB}[target]
	return source, ok
}

// lifecycleCall is one recorded Sink.Lifecycle call.
type lifecycleCall struct{ Sub, Event string }

// recSink records what it receives and fails with err when set.
type recSink struct {
	mu      sync.Mutex
	err     error
	changed [][]string
	users   [][]string
	mirrors [][]string
	// targetUsers are the TargetUsersChanged calls.
	targetUsers [][]string
	lifecycle   []lifecycleCall
}

func (s *recSink) Changed(_ context.Context, ids []string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.changed = append(s.changed, slices.Clone(ids))
	return s.err
}

func (s *recSink) UsersChanged(_ context.Context, ids []string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.users = append(s.users, slices.Clone(ids))
	return s.err
}

func (s *recSink) MirrorsChanged(_ context.Context, ids []string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.mirrors = append(s.mirrors, slices.Clone(ids))
	return s.err
}

func (s *recSink) TargetUsersChanged(_ context.Context, ids []string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.targetUsers = append(s.targetUsers, slices.Clone(ids))
	return s.err
}

func (s *recSink) Lifecycle(_ context.Context, sub, event string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.lifecycle = append(s.lifecycle, lifecycleCall{sub, event})
	return s.err
}

func (s *recSink) calls() ([][]string, []lifecycleCall) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.changed), slices.Clone(s.lifecycle)
}

// userCalls returns the recorded Sink.UsersChanged calls.
func (s *recSink) userCalls() [][]string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.users)
}

// mirrorCalls returns the recorded Sink.MirrorsChanged calls.
func (s *recSink) mirrorCalls() [][]string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.mirrors)
}

func (s *recSink) targetUserCalls() [][]string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.targetUsers)
}

// logBuffer keeps what the handler logged, for assertions, and echoes each
// line to t.Log.
type logBuffer struct {
	t  testing.TB
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	l.b.Write(p)
	l.mu.Unlock()
	if l.t != nil {
		l.t.Helper()
		l.t.Log(strings.TrimRight(string(p), "\n"))
	}
	return len(p), nil
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// noSecrets fails t when a clientState reached the log.
func (l *logBuffer) noSecrets(t testing.TB) {
	t.Helper()
	logs := l.String()
	for _, s := range []string{secretA, secretB, secretU, secretV, secretM, secretW, forged} {
		if strings.Contains(logs, s) {
			t.Errorf("log holds clientState %q", s)
		}
	}
}

// fixture is a Handler with a fake SubscriptionLookup, a recording Sink and a
// captured log.
type fixture struct {
	h    *webhook.Handler
	sink *recSink
	logs *logBuffer
}

// newFixture builds a fixture logging to t.Log (nil t: log captured only).
func newFixture(tb testing.TB, logT testing.TB, maxBody int64) *fixture {
	tb.Helper()
	return newFixtureWith(tb, logT, func(c *webhook.Config) { c.MaxBody = maxBody })
}

// newFixtureWith is newFixture with edit applied to the configuration.
func newFixtureWith(tb testing.TB, logT testing.TB, edit func(*webhook.Config)) *fixture {
	tb.Helper()
	fx := &fixture{sink: &recSink{}, logs: &logBuffer{t: logT}}
	cfg := webhook.Config{
		Lookup:   newSubs(),
		InScope:  inScope,
		MirrorOf: mirrorOf,
		Sink:     fx.sink,
		Log:      slog.New(slog.NewTextHandler(fx.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	}
	if edit != nil {
		edit(&cfg)
	}
	h, err := webhook.New(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	fx.h = h
	return fx
}

// fakeClock is a settable clock for Config.Now.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{now: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
}

// Now returns the clock's time.
func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock on by d.
func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// serve runs one request through the handler.
func (fx *fixture) serve(r *http.Request) *httptest.ResponseRecorder {
	w := httptest.NewRecorder()
	fx.h.ServeHTTP(w, r)
	return w
}

// groupItem is a basic group change notification as Graph sends it.
func groupItem(sub, clientState, tenant, group string) map[string]any {
	return map[string]any{
		"changeType":  "updated",
		"clientState": clientState,
		"resource":    "Groups/" + group,
		"resourceData": map[string]any{
			"@odata.type":    "#Microsoft.Graph.Group",
			"@odata.id":      "Groups/" + group,
			"id":             group,
			"organizationId": tenant,
		},
		"subscriptionExpirationDateTime": "2026-12-01T00:00:00.0000000Z",
		"subscriptionId":                 sub,
		"tenantId":                       tenant,
	}
}

// goodItem is a valid notification for group from subscription subA.
func goodItem(group string) map[string]any { return groupItem(subA, secretA, tenantA, group) }

// goodMirror is a valid notification for the target group target from the
// mirrors subscription subM.
func goodMirror(target string) map[string]any { return groupItem(subM, secretM, tenantT, target) }

// userItem is a user change notification as Graph sends it.
func userItem(sub, clientState, tenant, user string) map[string]any {
	return map[string]any{
		"changeType":  "updated",
		"clientState": clientState,
		"resource":    "Users/" + user,
		"resourceData": map[string]any{
			"@odata.type":    "#Microsoft.Graph.User",
			"@odata.id":      "Users/" + user,
			"id":             user,
			"organizationId": tenant,
		},
		"subscriptionExpirationDateTime": "2026-12-01T00:00:00.0000000Z",
		"subscriptionId":                 sub,
		"tenantId":                       tenant,
	}
}

// goodUser is a valid notification for user from the users subscription.
func goodUser(user string) map[string]any { return userItem(subUsers, secretU, tenantA, user) }

// with returns a copy of item with key set to v; v == nil deletes key. A key
// "resourceData.x" sets inside resourceData.
func with(item map[string]any, key string, v any) map[string]any {
	out := map[string]any{}
	for k, x := range item {
		out[k] = x
	}
	if rest, ok := strings.CutPrefix(key, "resourceData."); ok {
		rd := map[string]any{}
		for k, x := range item["resourceData"].(map[string]any) {
			rd[k] = x
		}
		set(rd, rest, v)
		out["resourceData"] = rd
		return out
	}
	set(out, key, v)
	return out
}

func set(m map[string]any, k string, v any) {
	if v == nil {
		delete(m, k)
		return
	}
	m[k] = v
}

// lifecycleItem is a lifecycle notification as Graph sends it.
func lifecycleItem(sub, clientState, tenant, event string) map[string]any {
	return map[string]any{
		"subscriptionId":                 sub,
		"subscriptionExpirationDateTime": "2026-12-01T00:00:00.0000000Z",
		"tenantId":                       tenant,
		"clientState":                    clientState,
		"lifecycleEvent":                 event,
	}
}

// body is {"value":[items...]}.
func body(tb testing.TB, items ...any) []byte {
	tb.Helper()
	b, err := json.Marshal(map[string]any{"value": items})
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// post is a POST of b to target as application/json.
func post(target string, b []byte) *http.Request {
	return postAs(target, "application/json; charset=utf-8", b)
}

// postAs is a POST of b to target with a content type ("" for none).
func postAs(target, contentType string, b []byte) *http.Request {
	r := httptest.NewRequest(http.MethodPost, target, bytes.NewReader(b))
	if contentType != "" {
		r.Header.Set("Content-Type", contentType)
	}
	return r
}

// sample reads a Graph docs sample and sets the fields in set on each item
// of its "value" array.
func sample(tb testing.TB, name string, set map[string]any) []byte {
	tb.Helper()
	raw, err := os.ReadFile("testdata/graph-samples/" + name)
	if err != nil {
		tb.Fatal(err)
	}
	var env struct {
		Value []map[string]any `json:"value"`
	}
	if err := json.Unmarshal(raw, &env); err != nil {
		tb.Fatalf("%s: %v", name, err)
	}
	items := make([]any, len(env.Value))
	for i, it := range env.Value {
		for k, v := range set {
			it[k] = v
		}
		items[i] = it
	}
	return body(tb, items...)
}

// mustJSON marshals v.
func mustJSON(tb testing.TB, v any) []byte {
	tb.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}
