package webhook_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

// FuzzNotification feeds arbitrary bodies to /notifications and /lifecycle:
// the handler must not panic, must answer one of the statuses Graph's
// protocol allows, and may hand the sink only checked, in-scope,
// lowercase group ids, lowercase user ids from a users subscription, the
// source groups of known mirrors from a mirrors subscription and known
// lifecycle events of our subscriptions.
func FuzzNotification(f *testing.F) {
	good := goodItem(groupA)
	seeds := [][]byte{
		body(f, good),
		body(f, goodItem(groupB), good, good),
		body(f, with(good, "clientState", forged), good, goodItem(groupOut)),
		body(f, with(good, "resource", "Groups/../../x"), with(good, "resource", "GROUPS/"+strings.ToUpper(groupB))),
		body(f, lifecycleItem(subA, secretA, tenantA, "reauthorizationRequired"), lifecycleItem(subB, secretB, tenantB, "missed")),
		body(f, goodUser(userA), goodUser(userB), good, with(goodUser(userA), "resource", "Groups/"+groupA), with(good, "resource", "Users/"+userA)),
		body(f, with(goodUser(userA), "resource", "USERS/"+strings.ToUpper(userB)), with(goodUser(userA), "clientState", secretA), userItem(subUsrB, secretV, tenantB, userB)),
		body(f, lifecycleItem(subUsers, secretU, tenantA, "subscriptionRemoved")),
		body(f, goodMirror(mirrorA), goodMirror(mirrorB), goodMirror(mirrorOut), with(goodMirror(mirrorA), "clientState", secretA), with(goodMirror(mirrorB), "tenantId", tenantA), goodItem(mirrorA)),
		body(f, with(goodMirror(mirrorA), "resource", "GROUPS/"+strings.ToUpper(mirrorA)), with(goodMirror(mirrorB), "resource", "Users/"+mirrorB), good, goodUser(userA)),
		sample(f, "change-notification-webhook-message.json", nil),
		sample(f, "lifecycle-notification.json", map[string]any{"subscriptionId": subA, "clientState": secretA, "tenantId": tenantA, "lifecycleEvent": "missed"}),
		[]byte(`{"value":[1,null,"x",{},[],{"resourceData":"x"}]}`),
		[]byte(`{"value":[`),
		[]byte(`{"value":[]}`),
		[]byte(``),
		padded(f, 4097, good),
	}
	for i, s := range seeds {
		f.Add(uint8(i), s)
	}
	f.Fuzz(func(t *testing.T, route uint8, b []byte) {
		fx := newFixture(t, nil, 4096)
		path := "/notifications"
		if route%2 == 1 {
			path = "/lifecycle"
		}
		w := fx.serve(post(path, b))
		switch w.Code {
		case 202, 400, 413, 415, 503:
		default:
			t.Fatalf("status %d", w.Code)
		}
		changed, lifecycle := fx.sink.calls()
		for _, call := range changed {
			if len(call) == 0 || !slices.IsSorted(call) || len(slices.Compact(slices.Clone(call))) != len(call) {
				t.Errorf("Sink.Changed(%q): want sorted distinct ids", call)
			}
			for _, id := range call {
				if !inScope(t.Context(), id) {
					t.Errorf("Sink.Changed got %q: not an in-scope lowercase GUID", id)
				}
			}
		}
		users := fx.sink.userCalls()
		for _, call := range users {
			if len(call) == 0 || !slices.IsSorted(call) || len(slices.Compact(slices.Clone(call))) != len(call) {
				t.Errorf("Sink.UsersChanged(%q): want sorted distinct ids", call)
			}
			for _, id := range call {
				if len(id) != 36 || strings.ToLower(id) != id {
					t.Errorf("Sink.UsersChanged got %q: not a lowercase GUID", id)
				}
			}
		}
		mirrors := fx.sink.mirrorCalls()
		for _, call := range mirrors {
			if len(call) == 0 || !slices.IsSorted(call) || len(slices.Compact(slices.Clone(call))) != len(call) {
				t.Errorf("Sink.MirrorsChanged(%q): want sorted distinct ids", call)
			}
			for _, id := range call {
				if id != groupA && id != groupB {
					t.Errorf("Sink.MirrorsChanged got %q: not the source group of a mirror", id)
				}
			}
		}
		for _, call := range lifecycle {
			if call.Sub != subA && call.Sub != subB && call.Sub != subUsers && call.Sub != subUsrB && call.Sub != subM {
				t.Errorf("Sink.Lifecycle got subscription %q", call.Sub)
			}
			if call.Event != "reauthorizationRequired" && call.Event != "subscriptionRemoved" && call.Event != "missed" {
				t.Errorf("Sink.Lifecycle got event %q", call.Event)
			}
		}
		st := fx.h.Stats()
		if w.Code != 202 {
			if len(changed)+len(users)+len(mirrors)+len(lifecycle) != 0 {
				t.Errorf("status %d but the sink was called", w.Code)
			}
			return
		}
		// Every item of an accepted body is either acted on, coalesced
		// with an earlier one or rejected.
		var env struct{ Value []json.RawMessage }
		if err := json.Unmarshal(b, &env); err != nil {
			t.Fatalf("202 for a body json rejects: %v", err)
		}
		var rejected int64
		for _, n := range st.Rejected {
			rejected += n
		}
		if got := st.Accepted + st.Lifecycle + st.LifecycleCoalesced + rejected; got != int64(len(env.Value)) {
			t.Errorf("%d items accepted+rejected, body holds %d", got, len(env.Value))
		}
		if !slices.ContainsFunc([]string{secretA, secretB, secretU, secretV, secretM}, func(s string) bool { return strings.Contains(string(b), s) }) {
			fx.logs.noSecrets(t)
		}
	})
}

// FuzzValidationToken: any token is echoed exactly as text/plain, or
// refused with 400 when it is empty, too long, not UTF-8 or holds a control
// character.
func FuzzValidationToken(f *testing.F) {
	for _, s := range []string{"abc", "a b+c&d=e", "<script>", "Zürich ✓", "a\x00b", "\xff", "", strings.Repeat("x", 1025)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, token string) {
		fx := newFixture(t, nil, 0)
		w := fx.serve(validationReq("/notifications", url.Values{"validationToken": {token}}.Encode()))
		acceptable := token != "" && len(token) <= 1024 && utf8.ValidString(token) && !strings.ContainsFunc(token, unicode.IsControl)
		switch {
		case acceptable && w.Code == http.StatusOK:
			if got := w.Body.String(); got != token {
				t.Errorf("body %q, want %q", got, token)
			}
			if got := w.Header().Get("Content-Type"); got != "text/plain; charset=utf-8" {
				t.Errorf("Content-Type %q", got)
			}
		case !acceptable && w.Code == http.StatusBadRequest:
		default:
			t.Errorf("token %q: status %d", token, w.Code)
		}
		if changed, lifecycle := fx.sink.calls(); len(changed)+len(lifecycle)+len(fx.sink.userCalls())+len(fx.sink.mirrorCalls()) != 0 {
			t.Error("sink called by a validation request")
		}
	})
}
