package config_test

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/xtsync/xtsync/pkg/config"
	"github.com/xtsync/xtsync/pkg/engine"
)

const good = `
source:
  tenant_id: 6f1c2b9e-3d4a-4c8e-9b1f-2a7d5e8c0b31
  client_id: 0b7e4a52-8c1d-4f3a-a6e2-5d9c1b7f3e20
  client_secret: "${SRC_SECRET}"
target:
  tenant_id: c4e8a1d7-5b2f-4e9c-8a3d-7f1b6c0e9d42
  client_id: 9a3f6d1c-2e7b-4b8a-b5c4-1e8d7a2f6c53
  client_secret: "${DST_SECRET}"
  cloud: usgov
scope:
  groups: [AAAAAAAA-1111-4111-8111-111111111111]
`

// configError returns err as the *config.Error it must be.
func configError(t *testing.T, err error) *config.Error {
	t.Helper()
	var ce *config.Error
	if !errors.As(err, &ce) {
		t.Fatalf("got %v, want a *config.Error", err)
	}
	return ce
}

// wantError checks that err is a *config.Error of key whose text contains
// text.
func wantError(t *testing.T, err error, key, text string) {
	t.Helper()
	ce := configError(t, err)
	if got, want := ce.Key, key; got != want {
		t.Errorf("key: got %q (%v), want %q", got, err, want)
	}
	if got, want := err.Error(), text; !strings.Contains(got, want) {
		t.Errorf("error: got %q, want it to contain %q", got, want)
	}
}

// edited is the good document with old replaced by new; the test fails if
// the edit does not apply.
func edited(t *testing.T, old, new string) string {
	t.Helper()
	doc := strings.Replace(good, old, new, 1)
	if doc == good {
		t.Fatalf("test edit %q did not apply", old)
	}
	return doc
}

func env(vars map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := vars[k]; return v, ok }
}

var secrets = map[string]string{"SRC_SECRET": "s3cr$t", "DST_SECRET": "other"}

func TestParseDefaultsAndExpansion(t *testing.T) {
	c, err := config.Parse([]byte(good), env(secrets))
	if err != nil {
		t.Fatal(err)
	}
	if c.Source.ClientSecret != "s3cr$t" || c.Target.ClientSecret != "other" {
		t.Errorf("secrets not expanded: %q %q", c.Source.ClientSecret, c.Target.ClientSecret)
	}
	o := c.EngineOptions()
	if o.UserType != "Member" || o.NestedGroups != "skip" || !o.ProvisionMembers || o.DeprovisionUsers != "delete" || o.UnscopedGroups != "delete" || o.DeletionThreshold != 500 {
		t.Errorf("defaults: %+v", o)
	}
	if got, want := o.Scope[0], "aaaaaaaa-1111-4111-8111-111111111111"; got != want {
		t.Errorf("scope ids are lowercased: got %s want %s", got, want)
	}
	if c.Source.Cloud != "global" || c.Target.Cloud != "usgov" || c.State.Path != "./xtsync.db" {
		t.Errorf("cloud/state defaults: %+v %+v", c.Source, c.State)
	}
}

func TestParseErrorsNameTheKey(t *testing.T) {
	tests := []struct {
		name, old, new, wantKey string
	}{
		{"bad tenant", "tenant_id: 6f1c2b9e-3d4a-4c8e-9b1f-2a7d5e8c0b31", "tenant_id: contoso", "source.tenant_id"},
		{"bad client", "client_id: 9a3f6d1c-2e7b-4b8a-b5c4-1e8d7a2f6c53", "client_id: 123", "target.client_id"},
		{"bad group", "AAAAAAAA-1111-4111-8111-111111111111]", "AAAAAAAA-1111-4111-8111-111111111111, nope]", "scope.groups[1]"},
		{"dup group", "AAAAAAAA-1111-4111-8111-111111111111]", "AAAAAAAA-1111-4111-8111-111111111111, aaaaaaaa-1111-4111-8111-111111111111]", "scope.groups[1]"},
		{"empty scope", "groups: [AAAAAAAA-1111-4111-8111-111111111111]", "groups: []", "scope.groups"},
		{"bad cloud", "cloud: usgov", "cloud: mars", "target.cloud"},
		{"http endpoint", "cloud: usgov", "graph_endpoint: http://graph.example", "target.graph_endpoint"},
		{"bad user type", "scope:", "sync: {user_type: Admin}\nscope:", "sync.user_type"},
		{"bad nested", "scope:", "sync: {nested_groups: expand}\nscope:", "sync.nested_groups"},
		{"bad deprovision", "scope:", "sync: {deprovision_users: purge}\nscope:", "sync.deprovision_users"},
		{"bad unscoped", "scope:", "sync: {unscoped_groups: archive}\nscope:", "sync.unscoped_groups"},
		{"zero threshold", "scope:", "sync: {deletion_threshold: 0}\nscope:", "sync.deletion_threshold"},
		{"negative threshold", "scope:", "sync: {deletion_threshold: -5}\nscope:", "sync.deletion_threshold"},
		{"bad template", "scope:", "sync: {group_name_template: \"{{.Nope}}\"}\nscope:", "sync.group_name_template"},
		{"unclosed template", "scope:", "sync: {group_name_template: \"{{.DisplayName\"}\nscope:", "sync.group_name_template"},
		{"empty secret", `client_secret: "${DST_SECRET}"`, `client_secret: ""`, "target.client_secret"},
		{"bad public url", "scope:", "server: {public_url: \"http://hooks.example.com/x\"}\nscope:", "server.public_url"},
		{"short interval", "scope:", "server: {reconcile_interval: 5s}\nscope:", "server.reconcile_interval"},
		{"bad interval", "scope:", "server: {reconcile_interval: hourly}\nscope:", "server.reconcile_interval"},
		{"zero workers", "scope:", "server: {workers: -1}\nscope:", "server.workers"},
		{"bad admin", "scope:", "server: {admin_listen: \"8079\"}\nscope:", "server.admin_listen"},
		{"bad listen", "scope:", "server: {listen: \"8080\"}\nscope:", "server.listen"},
		{"same tenant", "tenant_id: c4e8a1d7-5b2f-4e9c-8a3d-7f1b6c0e9d42", "tenant_id: 6f1c2b9e-3d4a-4c8e-9b1f-2a7d5e8c0b31", "target.tenant_id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc := edited(t, tt.old, tt.new)
			_, err := config.Parse([]byte(doc), env(secrets))
			ce := configError(t, err)
			if ce.Key != tt.wantKey {
				t.Fatalf("key: got %q (%v), want %q", ce.Key, err, tt.wantKey)
			}
		})
	}
}

func TestParseRejectsUnknownKeysAndMissingVars(t *testing.T) {
	if _, err := config.Parse([]byte(good+"\nsnyc: {}\n"), env(secrets)); err == nil || !strings.Contains(err.Error(), "snyc") {
		t.Errorf("unknown key: %v", err)
	}
	_, err := config.Parse([]byte(good), env(map[string]string{"SRC_SECRET": "x"}))
	if err == nil || !strings.Contains(err.Error(), "DST_SECRET") {
		t.Errorf("missing variable: %v", err)
	}
	if strings.Contains(err.Error(), "x") && strings.Contains(err.Error(), "SRC_SECRET") {
		t.Errorf("error mentions another secret: %v", err)
	}
}

func TestGUIDsCompareCaseInsensitively(t *testing.T) {
	const src = "tenant_id: 6f1c2b9e-3d4a-4c8e-9b1f-2a7d5e8c0b31"
	const dst = "tenant_id: c4e8a1d7-5b2f-4e9c-8a3d-7f1b6c0e9d42"
	tests := []struct {
		name    string
		edits   []string // old, new pairs
		wantKey string   // "" when the document is valid
	}{
		{"same tenant, other case", []string{dst, "tenant_id: 6F1C2B9E-3D4A-4C8E-9B1F-2A7D5E8C0B31"}, "target.tenant_id"},
		{"same tenant, mixed case both sides", []string{src, "tenant_id: 6F1c2B9e-3D4a-4C8e-9B1f-2A7d5E8c0B31", dst, "tenant_id: 6f1C2b9E-3d4A-4c8E-9b1F-2a7D5e8C0b31"}, "target.tenant_id"},
		{"same tenant, same endpoint modulo case and slash", []string{dst, "tenant_id: 6F1C2B9E-3D4A-4C8E-9B1F-2A7D5E8C0B31\n  graph_endpoint: HTTPS://Graph.Example.COM/", "client_id: 0b7e", "graph_endpoint: https://graph.example.com\n  client_id: 0b7e"}, "target.tenant_id"},
		{"same tenant, default https port", []string{dst, "tenant_id: 6f1c2b9e-3d4a-4c8e-9b1f-2a7d5e8c0b31\n  graph_endpoint: https://graph.example.com:443/", "client_id: 0b7e", "graph_endpoint: https://graph.example.com\n  client_id: 0b7e"}, "target.tenant_id"},
		{"same tenant, other Graph", []string{dst, "tenant_id: 6F1C2B9E-3D4A-4C8E-9B1F-2A7D5E8C0B31\n  graph_endpoint: https://emulator-b.example", "client_id: 0b7e", "graph_endpoint: https://emulator-a.example\n  client_id: 0b7e"}, ""},
		{"other tenants in upper case", []string{src, "tenant_id: 6F1C2B9E-3D4A-4C8E-9B1F-2A7D5E8C0B31", dst, "tenant_id: C4E8A1D7-5B2F-4E9C-8A3D-7F1B6C0E9D42"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc := good
			for i := 0; i < len(tt.edits); i += 2 {
				next := strings.Replace(doc, tt.edits[i], tt.edits[i+1], 1)
				if next == doc {
					t.Fatalf("test edit %q did not apply", tt.edits[i])
				}
				doc = next
			}
			c, err := config.Parse([]byte(doc), env(secrets))
			gotKey := ""
			var ce *config.Error
			if errors.As(err, &ce) {
				gotKey = ce.Key
			} else if err != nil {
				t.Fatalf("got %v, want a *config.Error", err)
			}
			if got, want := gotKey, tt.wantKey; got != want {
				t.Fatalf("error key: got %q (%v), want %q", got, err, want)
			}
			if err != nil {
				return
			}
			for _, id := range []string{c.Source.TenantID, c.Source.ClientID, c.Target.TenantID, c.Target.ClientID} {
				if got, want := id, strings.ToLower(id); got != want {
					t.Errorf("id not lowercased: got %s, want %s", got, want)
				}
			}
			if got, want := c.EngineOptions().SourceTenant, "6f1c2b9e-3d4a-4c8e-9b1f-2a7d5e8c0b31"; got != want {
				t.Errorf("SourceTenant: got %s, want %s", got, want)
			}
		})
	}
}

func TestNewSyncKeys(t *testing.T) {
	tests := []struct {
		name, sync  string
		wantAttr    string
		wantWindow  time.Duration
		wantErrKey  string
		wantErrText string
	}{
		{"defaults", "", "extensionAttribute15", time.Hour, "", ""},
		{"attribute lower case", "link_attribute: extensionattribute3", "extensionAttribute3", time.Hour, "", ""},
		{"attribute upper case", "link_attribute: EXTENSIONATTRIBUTE15", "extensionAttribute15", time.Hour, "", ""},
		{"attribute 1", "link_attribute: extensionAttribute1", "extensionAttribute1", time.Hour, "", ""},
		{"attribute 0", "link_attribute: extensionAttribute0", "", 0, "sync.link_attribute", "extensionAttribute1 … extensionAttribute15"},
		{"attribute 16", "link_attribute: extensionAttribute16", "", 0, "sync.link_attribute", "extensionAttribute15"},
		{"attribute leading zero", "link_attribute: extensionAttribute01", "", 0, "sync.link_attribute", "extensionAttribute1"},
		{"other attribute", "link_attribute: employeeId", "", 0, "sync.link_attribute", "extensionAttribute1"},
		{"window 90m", "deletion_window: 90m", "extensionAttribute15", 90 * time.Minute, "", ""},
		{"window minimum", "deletion_window: 1m", "extensionAttribute15", time.Minute, "", ""},
		{"window maximum", "deletion_window: 168h", "extensionAttribute15", 168 * time.Hour, "", ""},
		{"window too short", "deletion_window: 59s", "", 0, "sync.deletion_window", "between 1m and 168h"},
		{"window too long", "deletion_window: 169h", "", 0, "sync.deletion_window", "between 1m and 168h"},
		{"window negative", "deletion_window: -1h", "", 0, "sync.deletion_window", "between 1m and 168h"},
		{"window not a duration", "deletion_window: hourly", "", 0, "sync.deletion_window", "is not a duration"},
		{"window without unit", "deletion_window: 60", "", 0, "sync.deletion_window", "is not a duration"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc := good
			if tt.sync != "" {
				doc = strings.Replace(good, "scope:", "sync: {"+tt.sync+"}\nscope:", 1)
			}
			c, err := config.Parse([]byte(doc), env(secrets))
			if tt.wantErrKey != "" {
				wantError(t, err, tt.wantErrKey, tt.wantErrText)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			o := c.EngineOptions()
			if got, want := o.LinkAttribute, tt.wantAttr; got != want {
				t.Errorf("LinkAttribute: got %q, want %q", got, want)
			}
			if got, want := c.Sync.LinkAttribute, tt.wantAttr; got != want {
				t.Errorf("sync.link_attribute: got %q, want %q", got, want)
			}
			if got, want := o.DeletionWindow, tt.wantWindow; got != want {
				t.Errorf("DeletionWindow: got %v, want %v", got, want)
			}
		})
	}
}

func TestUnknownAndRepeatedKeys(t *testing.T) {
	tests := []struct {
		name, old, new, wantKey, wantText string
	}{
		{"unknown top-level key", "scope:", "snyc: {}\nscope:", "snyc", "source, target, scope, sync, state, server"},
		{"unknown nested key", "cloud: usgov", "cloud: usgov\n  tenantid: x", "target.tenantid", "is not a known key"},
		{"wrong case", "cloud: usgov", "Cloud: china", "target.Cloud", "Did you mean cloud?"},
		{"dash for underscore", "scope:", "sync: {deletion-threshold: 5}\nscope:", "sync.deletion-threshold", "Did you mean deletion_threshold?"},
		{"repeated key", "cloud: usgov", "cloud: usgov\n  cloud: china", "target.cloud", "is set twice (lines 10 and 11)"},
		{"unexpanded key", "scope:", "${KEY}: 1\nscope:", "${KEY}", "is not a known key"},
		{"merge key", "cloud: usgov", "<<: {cloud: china}", "target.<<", "merge keys are not supported"},
		{"mapping where a value belongs", "cloud: usgov", "cloud: {name: usgov}", "target.cloud", "is a mapping; want a text value"},
		{"value where a mapping belongs", "scope:\n  groups: [AAAAAAAA-1111-4111-8111-111111111111]", "scope: all", "scope", "is a single value; want a mapping"},
		{"value where a list belongs", "groups: [AAAAAAAA-1111-4111-8111-111111111111]", "groups: AAAAAAAA-1111-4111-8111-111111111111", "scope.groups", "want a list"},
		{"not a number", "scope:", "sync: {deletion_threshold: many}\nscope:", "sync.deletion_threshold", "is not a whole number"},
		{"a fraction", "scope:", "sync: {deletion_threshold: 1.5}\nscope:", "sync.deletion_threshold", "is not a whole number (it reads as a number with a fraction"},
		{"quoted number", "scope:", "server: {workers: \"4\"}\nscope:", "server.workers", "is not a whole number (it reads as quoted text"},
		{"not a boolean", "scope:", "sync: {provision_members: maybe}\nscope:", "sync.provision_members", "is not true or false"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc := edited(t, tt.old, tt.new)
			_, err := config.Parse([]byte(doc), env(secrets))
			wantError(t, err, tt.wantKey, tt.wantText)
		})
	}
}

func TestUserAttributes(t *testing.T) {
	tests := []struct {
		name, sync string
		want       []string
		wantErrKey string
	}{
		{"default: every mappable attribute", "", engine.DefaultUserAttributes(), ""},
		{"a subset", "user_attributes: [jobTitle, department]", []string{"jobTitle", "department"}, ""},
		{"none", "user_attributes: []", []string{}, ""},
		{"unknown property", "user_attributes: [jobTitle, shoeSize]", nil, "sync.user_attributes[1]"},
		{"unwritable property", "user_attributes: [userPrincipalName]", nil, "sync.user_attributes[0]"},
		{"listed twice", "user_attributes: [surname, surname]", nil, "sync.user_attributes[1]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc := good
			if tt.sync != "" {
				doc = strings.Replace(good, "scope:", "sync: {"+tt.sync+"}\nscope:", 1)
			}
			c, err := config.Parse([]byte(doc), env(secrets))
			if tt.wantErrKey != "" {
				var ce *config.Error
				if !errors.As(err, &ce) || ce.Key != tt.wantErrKey {
					t.Fatalf("got %v, want an error naming %s", err, tt.wantErrKey)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := c.EngineOptions().UserAttributes; !slices.Equal(got, tt.want) {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestPaceKeys(t *testing.T) {
	f := func(v float64) *float64 { return &v }
	n := func(v int) *int { return &v }
	tests := []struct {
		name, keys                      string // added under target:
		wantWrite, wantInvite, wantRead *float64
		wantBurst                       *int
		wantErrKey, wantErrText         string
	}{
		{name: "unset: the defaults"},
		{name: "all set", keys: "write_rate: 10\n  write_burst: 40\n  invitation_rate: 12.5\n  read_rate: 150",
			wantWrite: f(10), wantBurst: n(40), wantInvite: f(12.5), wantRead: f(150)},
		{name: "a fraction", keys: "write_rate: 2.5", wantWrite: f(2.5)},
		{name: "from the environment", keys: "read_rate: ${READ_RATE}", wantRead: f(200)},
		{name: "zero rate", keys: "write_rate: 0", wantErrKey: "target.write_rate", wantErrText: "is not a positive number: write the writes per second"},
		{name: "negative rate", keys: "invitation_rate: -1", wantErrKey: "target.invitation_rate", wantErrText: "invitations per second"},
		{name: "not a number", keys: "read_rate: .nan", wantErrKey: "target.read_rate", wantErrText: "resource units per second"},
		{name: "infinite", keys: "read_rate: .inf", wantErrKey: "target.read_rate", wantErrText: "is not a positive number"},
		{name: "text", keys: "write_rate: fast", wantErrKey: "target.write_rate", wantErrText: "is not a number"},
		{name: "zero burst", keys: "write_burst: 0", wantErrKey: "target.write_burst", wantErrText: "is not a positive whole number"},
		{name: "fractional burst", keys: "write_burst: 2.5", wantErrKey: "target.write_burst", wantErrText: "is not a whole number"},
		{name: "misspelt", keys: "write-rate: 5", wantErrKey: "target.write-rate", wantErrText: "Did you mean write_rate?"},
	}
	vars := map[string]string{"SRC_SECRET": "a", "DST_SECRET": "b", "READ_RATE": "200"}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc := good
			if tt.keys != "" {
				doc = edited(t, "  cloud: usgov\n", "  cloud: usgov\n  "+tt.keys+"\n")
			}
			c, err := config.Parse([]byte(doc), env(vars))
			if tt.wantErrKey != "" {
				wantError(t, err, tt.wantErrKey, tt.wantErrText)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range []struct {
				key       string
				got, want *float64
			}{{"write_rate", c.Target.WriteRate, tt.wantWrite}, {"invitation_rate", c.Target.InvitationRate, tt.wantInvite}, {"read_rate", c.Target.ReadRate, tt.wantRead}} {
				if (p.got == nil) != (p.want == nil) || (p.got != nil && *p.got != *p.want) {
					t.Errorf("target.%s: got %v, want %v", p.key, deref(p.got), deref(p.want))
				}
			}
			if got, want := c.Target.WriteBurst, tt.wantBurst; (got == nil) != (want == nil) || (got != nil && *got != *want) {
				t.Errorf("target.write_burst: got %v, want %v", deref(got), deref(want))
			}
			if s := c.Source; s.WriteRate != nil || s.WriteBurst != nil || s.InvitationRate != nil || s.ReadRate != nil {
				t.Errorf("source pacing set by target keys: %+v", s)
			}
		})
	}
}

func deref[T any](p *T) any {
	if p == nil {
		return "unset"
	}
	return *p
}
