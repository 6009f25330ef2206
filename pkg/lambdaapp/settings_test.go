package lambdaapp

import (
	"context"
	"strings"
	"testing"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestReadSettings(t *testing.T) {
	good := map[string]string{EnvConfig: "x", EnvTable: "t", EnvQueueURL: "https://sqs.eu-west-1.amazonaws.com/1/xtsync.fifo"}
	if _, err := ReadSettings(env(good)); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		set  map[string]string
		want string
	}{
		{"no config", map[string]string{EnvConfig: ""}, EnvConfigParameter},
		{"both configs", map[string]string{EnvConfigParameter: "/x"}, EnvConfigParameter},
		{"no table", map[string]string{EnvTable: ""}, EnvTable},
		{"standard queue", map[string]string{EnvQueueURL: "https://sqs/1/xtsync"}, "FIFO"},
		{"bad secret arn", map[string]string{EnvSourceSecretARN: "my-secret"}, EnvSourceSecretARN},
		{"quota share not a number", map[string]string{EnvQuotaShare: "six"}, EnvQuotaShare},
		{"quota share zero", map[string]string{EnvQuotaShare: "0"}, EnvQuotaShare},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := map[string]string{}
			for k, v := range good {
				m[k] = v
			}
			for k, v := range tt.set {
				m[k] = v
			}
			_, err := ReadSettings(env(m))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got %v, want an error naming %s", err, tt.want)
			}
		})
	}
}

const cfgYAML = `source: {tenant_id: 6f1c2b9e-3d4a-4c8e-9b1f-2a7d5e8c0b31, client_id: 0b7e4a52-8c1d-4f3a-a6e2-5d9c1b7f3e20, client_secret: "${XTSYNC_SOURCE_CLIENT_SECRET}"}
target: {tenant_id: c4e8a1d7-5b2f-4e9c-8a3d-7f1b6c0e9d42, client_id: 9a3f6d1c-2e7b-4b8a-b5c4-1e8d7a2f6c53, client_secret: "${XTSYNC_TARGET_CLIENT_SECRET}"}
scope: {groups: [aaaaaaaa-1111-4111-8111-111111111111]}
`

func TestLoadConfigInline(t *testing.T) {
	ctx := context.Background()
	s := Settings{Config: cfgYAML, Secrets: map[string]string{SourceSecretVar: "src-secret", TargetSecretVar: "dst-secret"}}
	c, err := LoadConfig(ctx, s, nil, nil, true)
	if err != nil {
		t.Fatal(err)
	}
	if c.Source.ClientSecret != "src-secret" || c.Target.ClientSecret != "dst-secret" {
		t.Errorf("secrets not resolved: %q %q", c.Source.ClientSecret, c.Target.ClientSecret)
	}
	// The webhook loads no secret at all.
	c, err = LoadConfig(ctx, Settings{Config: cfgYAML}, nil, nil, false)
	if err != nil || c.Source.ClientSecret == "src-secret" {
		t.Fatalf("webhook config: %v %q", err, c.Source.ClientSecret)
	}
	// A function that needs secrets and has none fails naming the variable.
	if _, err := LoadConfig(ctx, Settings{Config: cfgYAML}, nil, nil, true); err == nil || !strings.Contains(err.Error(), "XTSYNC_SOURCE_CLIENT_SECRET") {
		t.Fatalf("missing secret: %v", err)
	}
}
