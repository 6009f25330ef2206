package config_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/xtsync/xtsync/pkg/config"
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
		{"public admin", "scope:", "server: {admin_listen: \"0.0.0.0:9\"}\nscope:", "server.admin_listen"},
		{"bad listen", "scope:", "server: {listen: \"8080\"}\nscope:", "server.listen"},
		{"same tenant", "tenant_id: c4e8a1d7-5b2f-4e9c-8a3d-7f1b6c0e9d42", "tenant_id: 6f1c2b9e-3d4a-4c8e-9b1f-2a7d5e8c0b31", "target.tenant_id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc := strings.Replace(good, tt.old, tt.new, 1)
			if doc == good {
				t.Fatalf("test edit %q did not apply", tt.old)
			}
			_, err := config.Parse([]byte(doc), env(secrets))
			var ce *config.Error
			if !errors.As(err, &ce) {
				t.Fatalf("got %v, want a *config.Error", err)
			}
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
