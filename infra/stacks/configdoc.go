package stacks

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2/awsssm"
	"go.yaml.in/yaml/v3"

	"github.com/xtsync/xtsync/pkg/config"
)

// The variables the functions define from Secrets Manager; the configuration
// names them for the client secrets, which never enter the template.
const (
	SourceSecretVar = "XTSYNC_SOURCE_CLIENT_SECRET"
	TargetSecretVar = "XTSYNC_TARGET_CLIENT_SECRET"
)

// SSM String parameter size limits: standard tier 4 KB, advanced 8 KB.
const (
	standardParameterMax = 4096
	advancedParameterMax = 8192
)

// CheckConfigDocument validates the YAML the stack stores in SSM the way the
// functions will load it, and refuses a document that would put a Graph
// client secret into the template: each tenant's client_secret must be
// exactly "${XTSYNC_SOURCE_CLIENT_SECRET}" / "${XTSYNC_TARGET_CLIENT_SECRET}".
func CheckConfigDocument(doc []byte) error {
	if len(doc) > advancedParameterMax {
		return fmt.Errorf("the configuration is %d bytes; an SSM parameter holds at most %d", len(doc), advancedParameterMax)
	}
	marks := map[string]string{
		SourceSecretVar: "synth-check-source-secret",
		TargetSecretVar: "synth-check-target-secret",
	}
	lookup := func(name string) (string, bool) {
		v, ok := marks[name]
		return v, ok
	}
	cfg, err := config.Parse(doc, lookup)
	if err != nil {
		return fmt.Errorf("%w (the functions define only ${%s} and ${%s})", err, SourceSecretVar, TargetSecretVar)
	}
	for _, t := range []struct {
		key, got, want, name string
	}{
		{"source.client_secret", cfg.Source.ClientSecret, marks[SourceSecretVar], SourceSecretVar},
		{"target.client_secret", cfg.Target.ClientSecret, marks[TargetSecretVar], TargetSecretVar},
	} {
		if t.got != t.want {
			return fmt.Errorf("config: %s must be \"${%s}\" (the secret lives in Secrets Manager, not in the template)", t.key, t.name)
		}
	}
	for key, v := range map[string]string{"source.ca_file": cfg.Source.CAFile, "target.ca_file": cfg.Target.CAFile} {
		if v != "" {
			return fmt.Errorf("config: %s: %q is a local file the functions do not have", key, v)
		}
	}
	tmpl, err := NewConfigTemplate(doc)
	if err != nil {
		return err
	}
	if n := len(tmpl.Render(publicURLMarker) + endpointAllowance); n > advancedParameterMax {
		return fmt.Errorf("the configuration with the webhook URL is about %d bytes; an SSM parameter holds at most %d", n, advancedParameterMax)
	}
	return nil
}

// endpointAllowance is room for the API endpoint in place of the marker
// (https://<10>.execute-api.<region>.amazonaws.com[.cn]).
const endpointAllowance = "                                                                "

// publicURLMarker stands for the webhook's URL, which exists only once the
// API does, in the document the stack stores.
const publicURLMarker = "https://xtsync-webhook-url.invalid"

// ConfigTemplate is the stored configuration around the webhook URL:
// Head + <the HTTP API's endpoint> + Tail when the stack fills in
// server.public_url, or Head alone when the document sets it (a custom
// domain in front of the API).
type ConfigTemplate struct {
	Head, Tail string
	// FillsPublicURL says the stack supplies server.public_url.
	FillsPublicURL bool
}

// NewConfigTemplate prepares a checked document for the parameter: without
// server.public_url, the stack's API endpoint goes there, so the
// subscriptions Graph is given point at this deployment's webhook.
func NewConfigTemplate(doc []byte) (ConfigTemplate, error) {
	var root yaml.Node
	if err := yaml.Unmarshal(doc, &root); err != nil {
		return ConfigTemplate{}, fmt.Errorf("config: parse: %w", err)
	}
	if root.Kind != yaml.DocumentNode || len(root.Content) != 1 || root.Content[0].Kind != yaml.MappingNode {
		return ConfigTemplate{}, fmt.Errorf("config: not a YAML mapping")
	}
	top := root.Content[0]
	server := mappingValue(top, "server")
	if server == nil {
		server = &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
		top.Content = append(top.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: "server"}, server)
	}
	if server.Kind != yaml.MappingNode {
		return ConfigTemplate{}, fmt.Errorf("config: server: not a mapping")
	}
	switch u := mappingValue(server, "public_url"); {
	case u != nil && u.Value != "":
		return ConfigTemplate{Head: string(doc)}, nil
	case u != nil:
		u.Value, u.Tag, u.Style = publicURLMarker, "!!str", 0
	default:
		server.Content = append(server.Content,
			&yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: "public_url"},
			&yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: publicURLMarker, LineComment: "the webhook's HTTP API, filled in by the stack"})
	}
	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(&root); err != nil {
		return ConfigTemplate{}, fmt.Errorf("config: %w", err)
	}
	if err := enc.Close(); err != nil {
		return ConfigTemplate{}, fmt.Errorf("config: %w", err)
	}
	head, tail, ok := strings.Cut(b.String(), publicURLMarker)
	if !ok || strings.Contains(tail, publicURLMarker) {
		return ConfigTemplate{}, fmt.Errorf("config: cannot place server.public_url")
	}
	return ConfigTemplate{Head: head, Tail: tail, FillsPublicURL: true}, nil
}

// Render is the document with url as the webhook's URL.
func (t ConfigTemplate) Render(url string) string {
	if !t.FillsPublicURL {
		return t.Head
	}
	return t.Head + url + t.Tail
}

// Digest identifies the document (16 hex digits of its SHA-256).
func (t ConfigTemplate) Digest() string {
	sum := sha256.Sum256([]byte(t.Render(publicURLMarker)))
	return hex.EncodeToString(sum[:8])
}

// mappingValue returns the value of key in a YAML mapping, or nil.
func mappingValue(m *yaml.Node, key string) *yaml.Node {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	return nil
}

// parameterTier picks the cheapest SSM tier that holds the document.
func parameterTier(doc string) awsssm.ParameterTier {
	if len(doc) > standardParameterMax {
		return awsssm.ParameterTier_ADVANCED
	}
	return awsssm.ParameterTier_STANDARD
}
