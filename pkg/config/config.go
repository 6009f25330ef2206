// Package config reads xtsync's YAML configuration: ${VAR} references are
// expanded from the environment, unknown keys are errors, and every value is
// validated with an error that names its key.
package config

import (
	"bytes"
	"fmt"
	"net"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strings"
	"text/template"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/xtsync/xtsync/pkg/engine"
)

// Tenant is how to reach one tenant through Microsoft Graph.
type Tenant struct {
	TenantID      string `yaml:"tenant_id"`
	ClientID      string `yaml:"client_id"`
	ClientSecret  string `yaml:"client_secret"`
	Cloud         string `yaml:"cloud"`          // global (default), usgov, usgov-dod, china
	GraphEndpoint string `yaml:"graph_endpoint"` // overrides the cloud's Graph host
	AuthorityHost string `yaml:"authority_host"` // overrides the cloud's sign-in host
	// CAFile is a PEM bundle to trust in addition to the system roots (a
	// TLS-inspecting proxy, or the local Graph emulator).
	CAFile string `yaml:"ca_file"`
}

// Sync are the sync settings.
type Sync struct {
	UserType          string `yaml:"user_type"`
	NestedGroups      string `yaml:"nested_groups"`
	ProvisionMembers  *bool  `yaml:"provision_members"`
	DeprovisionUsers  string `yaml:"deprovision_users"`
	UnscopedGroups    string `yaml:"unscoped_groups"`
	DeletionThreshold *int   `yaml:"deletion_threshold"`
	GroupNameTemplate string `yaml:"group_name_template"`
	InviteRedirectURL string `yaml:"invite_redirect_url"`
}

// Scope lists the source groups to mirror.
type Scope struct {
	Groups []string `yaml:"groups"`
}

// State says where the embedded state lives.
type State struct {
	Path string `yaml:"path"`
}

// Server configures `xtsync serve`.
type Server struct {
	// Listen is where the webhook listens.
	Listen string `yaml:"listen"`
	// PublicURL is what Graph calls: PublicURL+"/notifications" and
	// PublicURL+"/lifecycle". https, or http on a loopback host (the
	// emulator).
	PublicURL string `yaml:"public_url"`
	// ReconcileInterval is how often the full reconcile runs.
	ReconcileInterval string `yaml:"reconcile_interval"`
	// Workers is how many queue workers apply changes.
	Workers int `yaml:"workers"`
	// AdminListen serves /status and /audit to local operator commands
	// (loopback only).
	AdminListen string `yaml:"admin_listen"`
}

// Config is the whole file.
type Config struct {
	Source Tenant `yaml:"source"`
	Target Tenant `yaml:"target"`
	Scope  Scope  `yaml:"scope"`
	Sync   Sync   `yaml:"sync"`
	State  State  `yaml:"state"`
	Server Server `yaml:"server"`
}

// Error is a configuration error naming the offending key.
type Error struct {
	Key string
	Msg string
}

func (e *Error) Error() string {
	if e.Key == "" {
		return "config: " + e.Msg
	}
	return "config: " + e.Key + ": " + e.Msg
}

func errKey(key, format string, args ...any) error {
	return &Error{Key: key, Msg: fmt.Sprintf(format, args...)}
}

// Load reads and validates the file at path, expanding ${VAR} from the
// process environment.
func Load(path string) (*Config, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, &Error{Msg: fmt.Sprintf("read %s: %v", path, err)}
	}
	return Parse(b, os.LookupEnv)
}

var varRE = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)\}`)

// Parse validates a configuration document; lookup resolves ${VAR}.
func Parse(b []byte, lookup func(string) (string, bool)) (*Config, error) {
	var missing []string
	expanded := varRE.ReplaceAllFunc(b, func(m []byte) []byte {
		name := string(m[2 : len(m)-1])
		v, ok := lookup(name)
		if !ok {
			missing = append(missing, name)
		}
		// Quote-safe: a value is inserted as is; YAML quoting is the
		// author's (write client_secret: "${SECRET}").
		return []byte(v)
	})
	if len(missing) > 0 {
		return nil, &Error{Msg: fmt.Sprintf("environment variable %s is not set (referenced as ${%s})", missing[0], missing[0])}
	}
	var c Config
	dec := yaml.NewDecoder(bytes.NewReader(expanded))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil {
		return nil, &Error{Msg: "parse: " + err.Error()}
	}
	c.defaults()
	if err := c.validate(); err != nil {
		return nil, err
	}
	return &c, nil
}

func (c *Config) defaults() {
	for _, t := range []*Tenant{&c.Source, &c.Target} {
		if t.Cloud == "" {
			t.Cloud = "global"
		}
	}
	s := &c.Sync
	if s.UserType == "" {
		s.UserType = "Member"
	}
	if s.NestedGroups == "" {
		s.NestedGroups = engine.NestedSkip
	}
	if s.ProvisionMembers == nil {
		v := true
		s.ProvisionMembers = &v
	}
	if s.DeprovisionUsers == "" {
		s.DeprovisionUsers = engine.DeprovisionDelete
	}
	if s.UnscopedGroups == "" {
		s.UnscopedGroups = engine.UnscopedDelete
	}
	if s.DeletionThreshold == nil {
		v := 500
		s.DeletionThreshold = &v
	}
	if s.GroupNameTemplate == "" {
		s.GroupNameTemplate = "{{.DisplayName}}"
	}
	if s.InviteRedirectURL == "" {
		s.InviteRedirectURL = "https://myapps.microsoft.com"
	}
	if c.State.Path == "" {
		c.State.Path = "./xtsync.db"
	}
	sv := &c.Server
	if sv.Listen == "" {
		sv.Listen = "127.0.0.1:8080"
	}
	if sv.ReconcileInterval == "" {
		sv.ReconcileInterval = "1h"
	}
	if sv.Workers == 0 {
		sv.Workers = 4
	}
	if sv.AdminListen == "" {
		sv.AdminListen = "127.0.0.1:8079"
	}
}

var guidRE = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

// IsGUID reports whether s is a GUID.
func IsGUID(s string) bool { return guidRE.MatchString(s) }

// Clouds are the accepted values of cloud.
var Clouds = []string{"global", "usgov", "usgov-dod", "china"}

func oneOf(key, v string, allowed ...string) error {
	if !slices.Contains(allowed, v) {
		return errKey(key, "%q is not one of %s", v, strings.Join(allowed, ", "))
	}
	return nil
}

func (t Tenant) validate(prefix string) error {
	if !IsGUID(t.TenantID) {
		return errKey(prefix+".tenant_id", "%q is not a GUID", t.TenantID)
	}
	if !IsGUID(t.ClientID) {
		return errKey(prefix+".client_id", "%q is not a GUID", t.ClientID)
	}
	if t.ClientSecret == "" {
		return errKey(prefix+".client_secret", "is empty (use ${VAR} to take it from the environment)")
	}
	if err := oneOf(prefix+".cloud", t.Cloud, Clouds...); err != nil {
		return err
	}
	for key, v := range map[string]string{prefix + ".graph_endpoint": t.GraphEndpoint, prefix + ".authority_host": t.AuthorityHost} {
		if v == "" {
			continue
		}
		u, err := url.Parse(v)
		if err != nil || u.Scheme != "https" || u.Host == "" {
			return errKey(key, "%q is not an https URL", v)
		}
	}
	if t.CAFile != "" {
		if _, err := os.Stat(t.CAFile); err != nil {
			return errKey(prefix+".ca_file", "%v", err)
		}
	}
	return nil
}

func (c *Config) validate() error {
	if err := c.Source.validate("source"); err != nil {
		return err
	}
	if err := c.Target.validate("target"); err != nil {
		return err
	}
	if c.Source.TenantID == c.Target.TenantID && c.Source.GraphEndpoint == c.Target.GraphEndpoint {
		return errKey("target.tenant_id", "is the source tenant; mirror into another tenant")
	}
	if len(c.Scope.Groups) == 0 {
		return errKey("scope.groups", "is empty: list the source group ids to mirror")
	}
	seen := map[string]bool{}
	for i, g := range c.Scope.Groups {
		key := fmt.Sprintf("scope.groups[%d]", i)
		if !IsGUID(g) {
			return errKey(key, "%q is not a GUID", g)
		}
		if seen[strings.ToLower(g)] {
			return errKey(key, "%s is listed twice", g)
		}
		seen[strings.ToLower(g)] = true
		c.Scope.Groups[i] = strings.ToLower(g)
	}
	s := c.Sync
	checks := []error{
		oneOf("sync.user_type", s.UserType, "Member", "Guest"),
		oneOf("sync.nested_groups", s.NestedGroups, engine.NestedSkip, engine.NestedFlatten),
		oneOf("sync.deprovision_users", s.DeprovisionUsers, engine.DeprovisionDelete, engine.DeprovisionDisable, engine.DeprovisionKeep),
		oneOf("sync.unscoped_groups", s.UnscopedGroups, engine.UnscopedDelete, engine.UnscopedKeep),
	}
	for _, err := range checks {
		if err != nil {
			return err
		}
	}
	if *s.DeletionThreshold <= 0 {
		return errKey("sync.deletion_threshold", "%d must be a positive number", *s.DeletionThreshold)
	}
	if _, err := c.nameTemplate(); err != nil {
		return err
	}
	if u, err := url.Parse(s.InviteRedirectURL); err != nil || u.Scheme != "https" {
		return errKey("sync.invite_redirect_url", "%q is not an https URL", s.InviteRedirectURL)
	}
	return c.Server.validate()
}

func (sv Server) validate() error {
	if _, _, err := net.SplitHostPort(sv.Listen); err != nil {
		return errKey("server.listen", "%q is not host:port", sv.Listen)
	}
	host, _, err := net.SplitHostPort(sv.AdminListen)
	if err != nil || !isLoopback(host) {
		return errKey("server.admin_listen", "%q must be a loopback host:port", sv.AdminListen)
	}
	if sv.PublicURL != "" {
		u, err := url.Parse(sv.PublicURL)
		if err != nil || u.Host == "" || u.RawQuery != "" || u.Fragment != "" || !(u.Scheme == "https" || (u.Scheme == "http" && isLoopback(u.Hostname()))) {
			return errKey("server.public_url", "%q is not an https URL (plain http only on a loopback host)", sv.PublicURL)
		}
	}
	if d, err := time.ParseDuration(sv.ReconcileInterval); err != nil || d < time.Minute {
		return errKey("server.reconcile_interval", "%q is not a duration of at least 1m", sv.ReconcileInterval)
	}
	if sv.Workers < 1 || sv.Workers > 64 {
		return errKey("server.workers", "%d is not between 1 and 64", sv.Workers)
	}
	return nil
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// RequireServer checks what `xtsync serve` needs beyond the defaults.
func (c *Config) RequireServer() error {
	if c.Server.PublicURL == "" {
		return errKey("server.public_url", "is required to serve: the https URL Graph calls (public_url + /notifications)")
	}
	return nil
}

// ReconcileEvery is the parsed server.reconcile_interval.
func (c *Config) ReconcileEvery() time.Duration {
	d, _ := time.ParseDuration(c.Server.ReconcileInterval) // validated by Parse
	return d
}

func (c *Config) nameTemplate() (*template.Template, error) {
	tmpl, err := template.New("group_name_template").Option("missingkey=error").Parse(c.Sync.GroupNameTemplate)
	if err != nil {
		return nil, errKey("sync.group_name_template", "%v", err)
	}
	var b bytes.Buffer
	if err := tmpl.Execute(&b, engine.Group{ID: "00000000-0000-0000-0000-000000000000", DisplayName: "Example"}); err != nil {
		return nil, errKey("sync.group_name_template", "%v (fields: .ID .DisplayName .Description .MailNickname)", err)
	}
	if strings.TrimSpace(b.String()) == "" {
		return nil, errKey("sync.group_name_template", "renders an empty name")
	}
	return tmpl, nil
}

// EngineOptions turns the sync and scope sections into engine options.
func (c *Config) EngineOptions() engine.Options {
	tmpl, _ := c.nameTemplate() // validated by Parse
	return engine.Options{
		SourceTenant:      c.Source.TenantID,
		Scope:             slices.Clone(c.Scope.Groups),
		UserType:          c.Sync.UserType,
		NestedGroups:      c.Sync.NestedGroups,
		ProvisionMembers:  *c.Sync.ProvisionMembers,
		DeprovisionUsers:  c.Sync.DeprovisionUsers,
		UnscopedGroups:    c.Sync.UnscopedGroups,
		DeletionThreshold: *c.Sync.DeletionThreshold,
		NameTemplate:      tmpl,
		InviteRedirectURL: c.Sync.InviteRedirectURL,
	}
}
