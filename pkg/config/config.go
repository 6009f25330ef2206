// Package config reads xtsync's YAML configuration: one YAML document whose
// ${VAR} references are expanded from the environment inside values (never
// into the YAML text), whose unknown keys are errors, and whose every value
// is validated with an error that names its key. Errors never repeat a
// value that could be a secret.
package config

import (
	"bytes"
	"fmt"
	"math"
	"net"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strings"
	"text/template"
	"time"

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
	// WriteRate paces the writes to this tenant, per second (default 18,
	// under Graph's 20 per app per tenant); WriteBurst is how many may go
	// at once after a quiet spell (default 100).
	WriteRate  *float64 `yaml:"write_rate"`
	WriteBurst *int     `yaml:"write_burst"`
	// InvitationRate paces POST /invitations, per second (default 28,
	// under Graph's 150 per 5 s per tenant for all apps).
	InvitationRate *float64 `yaml:"invitation_rate"`
	// ReadRate paces the reads, in Graph's resource units per second
	// (default 300, under Graph's 350 for the smallest tenants).
	ReadRate *float64 `yaml:"read_rate"`
}

// The default pace of a tenant's Graph client, under Graph's throttling
// limits (https://learn.microsoft.com/graph/throttling-limits): 20 writes
// per second per app per tenant, 150 invitations per 5 s per tenant, 350
// resource units of reads per second for the smallest tenants.
const (
	DefaultWriteRate      = 18
	DefaultWriteBurst     = 3000
	DefaultInvitationRate = 28
	DefaultReadRate       = 300
)

// ShareQuota divides each tenant's pace (its configured rates, or the
// defaults) among n processes that call Graph at once with this
// configuration (the AWS functions; serve is one process). n below 2
// changes nothing.
func (c *Config) ShareQuota(n int) {
	if n < 2 {
		return
	}
	share := func(v *float64, def float64) *float64 {
		x := def
		if v != nil {
			x = *v
		}
		x /= float64(n)
		return &x
	}
	for _, t := range []*Tenant{&c.Source, &c.Target} {
		t.WriteRate = share(t.WriteRate, DefaultWriteRate)
		t.InvitationRate = share(t.InvitationRate, DefaultInvitationRate)
		t.ReadRate = share(t.ReadRate, DefaultReadRate)
		burst := DefaultWriteBurst
		if t.WriteBurst != nil {
			burst = *t.WriteBurst
		}
		burst = max(1, burst/n)
		t.WriteBurst = &burst
	}
}

// Sync are the sync settings.
type Sync struct {
	UserType         string `yaml:"user_type"`
	NestedGroups     string `yaml:"nested_groups"`
	ProvisionMembers *bool  `yaml:"provision_members"`
	DeprovisionUsers string `yaml:"deprovision_users"`
	UnscopedGroups   string `yaml:"unscoped_groups"`
	// DeletionThreshold is how many member removals, user deletes and
	// disables, and group deletes (a group counts as the members it held)
	// DeletionWindow may hold before the deletion guard stops them.
	DeletionThreshold *int `yaml:"deletion_threshold"`
	// DeletionWindow is the rolling window DeletionThreshold counts over,
	// a Go duration between 1m and 168h (default 1h).
	DeletionWindow    string `yaml:"deletion_window"`
	GroupNameTemplate string `yaml:"group_name_template"`
	InviteRedirectURL string `yaml:"invite_redirect_url"`
	// LinkAttribute is the target users' onPremisesExtensionAttributes
	// property holding xtsync's link marker: extensionAttribute1 …
	// extensionAttribute15 (default extensionAttribute15).
	LinkAttribute string `yaml:"link_attribute"`
	// UserAttributes are the user properties copied from a source user to
	// the target users xtsync created and kept equal (default: all of
	// engine.UserAttributes; [] maps none).
	UserAttributes []string `yaml:"user_attributes"`
}

// Scope lists the source groups to mirror.
type Scope struct {
	Groups []string `yaml:"groups"`
}

// State says where the embedded state lives.
type State struct {
	// Path is the embedded state (bbolt) of this machine.
	Path string `yaml:"path"`
	// DynamoDBTable, instead, is the AWS deployment's state table: the
	// operator commands read it (status, audit, explain, dry runs), with
	// the credentials and endpoint of the AWS environment (AWS_PROFILE,
	// AWS_REGION, AWS_ENDPOINT_URL_DYNAMODB ...) and Region when set.
	DynamoDBTable string `yaml:"dynamodb_table"`
	Region        string `yaml:"region"`
	// QueueURL is the AWS deployment's work queue (the stack's QueueUrl
	// output): xtsync sync --group sends the group's shard there, for the
	// workers to sync.
	QueueURL string `yaml:"queue_url"`
	// ReconcileFunction is the AWS deployment's reconcile function (name
	// or ARN): xtsync approve --yes invokes it with the approval.
	ReconcileFunction string `yaml:"reconcile_function"`
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
	// AdminListen serves /status and /audit to local operator commands,
	// and the web console. On a host that is not loopback, serve starts
	// only with XTSYNC_ADMIN_TOKEN set, and then requires it on every
	// request.
	AdminListen string `yaml:"admin_listen"`
	// WatchMirrors subscribes to the target's changes of the mirrors too,
	// so that what others change in them is put back within seconds
	// (default true; false leaves that to the reconcile).
	WatchMirrors *bool `yaml:"watch_mirrors"`
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

// Error formats the error as "config: <key>: <message>".
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

// Parse validates a configuration document; lookup resolves ${VAR}.
//
// The document must be a single YAML document. ${VAR} is expanded inside
// scalar values only, after parsing: an environment value is the literal
// value of the key that references it (any characters, newlines included)
// and can never add keys or structure; keys are never expanded. A whole
// ${VAR} in a number or boolean field is parsed as that field's type.
func Parse(b []byte, lookup func(string) (string, bool)) (*Config, error) {
	var c Config
	if err := decodeDocument(b, lookup, &c); err != nil {
		return nil, err
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
	if s.DeletionWindow == "" {
		s.DeletionWindow = "1h"
	}
	if s.UserAttributes == nil {
		s.UserAttributes = engine.DefaultUserAttributes()
	}
	if s.LinkAttribute == "" {
		s.LinkAttribute = "extensionAttribute15"
	}
	if s.GroupNameTemplate == "" {
		s.GroupNameTemplate = "{{.DisplayName}}"
	}
	if s.InviteRedirectURL == "" {
		s.InviteRedirectURL = "https://myapps.microsoft.com"
	}
	if c.State.Path == "" && c.State.DynamoDBTable == "" {
		c.State.Path = "./xtsync.db"
	}
	sv := &c.Server
	if sv.WatchMirrors == nil {
		v := true
		sv.WatchMirrors = &v
	}
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

// linkAttributeRE matches extensionAttribute1 … extensionAttribute15 in any
// case.
var linkAttributeRE = regexp.MustCompile(`(?i)^extensionattribute([1-9]|1[0-5])$`)

// Clouds are the accepted values of cloud.
var Clouds = []string{"global", "usgov", "usgov-dod", "china"}

// oneOf checks v is one of allowed; the error describes v rather than
// repeating it (a misplaced secret must not reach a log).
func oneOf(key, v string, allowed ...string) error {
	if slices.Contains(allowed, v) {
		return nil
	}
	for _, a := range allowed {
		if strings.EqualFold(a, v) {
			return errKey(key, "is not one of %s: values are case-sensitive, write %s", strings.Join(allowed, ", "), a)
		}
	}
	return errKey(key, "is not one of %s (%s)", strings.Join(allowed, ", "), describe(v))
}

// validate checks one tenant and lowercases its ids (GUIDs compare
// case-insensitively; everything downstream compares them as strings).
func (t *Tenant) validate(prefix string) error {
	if !engine.IsGUID(t.TenantID) {
		return errKey(prefix+".tenant_id", "%s", notGUID(t.TenantID, "the Directory (tenant) ID"))
	}
	t.TenantID = strings.ToLower(t.TenantID)
	if !engine.IsGUID(t.ClientID) {
		return errKey(prefix+".client_id", "%s", notGUID(t.ClientID, "the app registration's Application (client) ID"))
	}
	t.ClientID = strings.ToLower(t.ClientID)
	if t.ClientSecret == "" {
		return errKey(prefix+".client_secret", "is empty (use ${VAR} to take it from the environment)")
	}
	if err := oneOf(prefix+".cloud", t.Cloud, Clouds...); err != nil {
		return err
	}
	for _, f := range []struct{ key, v string }{{prefix + ".graph_endpoint", t.GraphEndpoint}, {prefix + ".authority_host", t.AuthorityHost}} {
		if f.v == "" {
			continue
		}
		u, err := url.Parse(f.v)
		if err != nil || u.Scheme != "https" || u.Host == "" {
			return errKey(f.key, "%s is not an https URL", urlSubject(f.v))
		}
	}
	if t.CAFile != "" {
		if _, err := os.Stat(t.CAFile); err != nil {
			return errKey(prefix+".ca_file", "%s cannot be read: %s", t.CAFile, pathCause(err))
		}
	}
	return t.validatePace(prefix)
}

// validatePace checks the pacing keys: each, when set, a positive number.
func (t *Tenant) validatePace(prefix string) error {
	rates := []struct {
		key, what string
		v         *float64
	}{
		{"write_rate", "writes per second (Graph allows 20 per app per tenant; default 18)", t.WriteRate},
		{"invitation_rate", "invitations per second (Graph allows 150 per 5 s per tenant; default 28)", t.InvitationRate},
		{"read_rate", "resource units per second (Graph allows 350 to 800 per app per tenant, by tenant size; default 300)", t.ReadRate},
	}
	for _, r := range rates {
		if r.v == nil {
			continue
		}
		if v := *r.v; !(v > 0) || math.IsInf(v, 0) {
			return errKey(prefix+"."+r.key, "%v is not a positive number: write the %s, or leave the key out for the default", v, r.what)
		}
	}
	if t.WriteBurst != nil && *t.WriteBurst <= 0 {
		return errKey(prefix+".write_burst", "%d is not a positive whole number: write how many writes may go at once after a quiet spell, or leave the key out for the default (3000)", *t.WriteBurst)
	}
	return nil
}

// sameGraph reports whether two graph_endpoint values name the same Graph:
// scheme and host compare case-insensitively, a default port and a trailing
// slash do not count.
func sameGraph(a, b string) bool {
	return graphKey(a) == graphKey(b)
}

func graphKey(v string) string {
	u, err := url.Parse(v)
	if err != nil || v == "" {
		return strings.TrimRight(v, "/")
	}
	host := strings.ToLower(u.Host)
	if u.Port() == "443" && strings.EqualFold(u.Scheme, "https") {
		host = strings.ToLower(u.Hostname())
	}
	k := strings.ToLower(u.Scheme) + "://" + host + strings.TrimRight(u.EscapedPath(), "/")
	if u.RawQuery != "" {
		k += "?" + u.RawQuery
	}
	return k
}

func (c *Config) validate() error {
	if err := c.Source.validate("source"); err != nil {
		return err
	}
	if err := c.Target.validate("target"); err != nil {
		return err
	}
	if c.Source.TenantID == c.Target.TenantID && sameGraph(c.Source.GraphEndpoint, c.Target.GraphEndpoint) {
		return errKey("target.tenant_id", "is the source tenant; mirror into another tenant")
	}
	if len(c.Scope.Groups) == 0 {
		return errKey("scope.groups", "is empty: list the source group ids to mirror")
	}
	if c.State.DynamoDBTable != "" && c.State.Path != "" {
		return errKey("state.dynamodb_table", "and state.path are both set: the state lives in one place (dynamodb_table for the AWS deployment's, path for this machine's)")
	}
	seen := map[string]int{}
	for i, g := range c.Scope.Groups {
		key := fmt.Sprintf("scope.groups[%d]", i)
		if !engine.IsGUID(g) {
			return errKey(key, "%s", notGUID(g, "a source group's Object ID"))
		}
		g = strings.ToLower(g)
		if j, dup := seen[g]; dup {
			return errKey(key, "%s is listed twice (also scope.groups[%d])", g, j)
		}
		seen[g] = i
		c.Scope.Groups[i] = g
	}
	s := &c.Sync
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
	if _, err := durationBetween("sync.deletion_window", s.DeletionWindow, time.Minute, 168*time.Hour); err != nil {
		return err
	}
	seenAttr := map[string]bool{}
	for i, a := range s.UserAttributes {
		key := fmt.Sprintf("sync.user_attributes[%d]", i)
		if !engine.IsUserAttribute(a) {
			return errKey(key, "%s is not a user property xtsync can keep in step (one of %s)", describe(a), strings.Join(engine.UserAttributes(), ", "))
		}
		if seenAttr[a] {
			return errKey(key, "%s is listed twice", a)
		}
		seenAttr[a] = true
	}
	m := linkAttributeRE.FindStringSubmatch(s.LinkAttribute)
	if m == nil {
		return errKey("sync.link_attribute", "is not one of extensionAttribute1 … extensionAttribute15 (%s): the target users' onPremisesExtensionAttributes property xtsync may use for its link marker", describe(s.LinkAttribute))
	}
	s.LinkAttribute = "extensionAttribute" + m[1]
	if _, err := c.nameTemplate(); err != nil {
		return err
	}
	if u, err := url.Parse(s.InviteRedirectURL); err != nil || u.Scheme != "https" {
		return errKey("sync.invite_redirect_url", "%s is not an https URL", urlSubject(s.InviteRedirectURL))
	}
	return c.Server.validate()
}

// durationBetween parses a Go duration at key and checks its range.
func durationBetween(key, v string, lo, hi time.Duration) (time.Duration, error) {
	d, err := time.ParseDuration(v)
	if err != nil {
		return 0, errKey(key, "is not a duration such as 90m or 2h (%s)", describe(v))
	}
	if d < lo || (hi > 0 && d > hi) {
		if hi > 0 {
			return 0, errKey(key, "%s is not between %s and %s", shortDuration(d), shortDuration(lo), shortDuration(hi))
		}
		return 0, errKey(key, "%s is shorter than %s", shortDuration(d), shortDuration(lo))
	}
	return d, nil
}

// shortDuration prints 1m and 168h rather than 1m0s and 168h0m0s.
func shortDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = s[:len(s)-2]
	}
	if strings.HasSuffix(s, "h0m") {
		s = s[:len(s)-2]
	}
	return s
}

func (sv Server) validate() error {
	if _, _, err := net.SplitHostPort(sv.Listen); err != nil {
		return errKey("server.listen", "is not host:port such as 127.0.0.1:8080 (%s)", describe(sv.Listen))
	}
	// A host that is not loopback needs the admin token (serve checks
	// XTSYNC_ADMIN_TOKEN when it starts).
	if host, _, err := net.SplitHostPort(sv.AdminListen); err != nil || !hostName(host) {
		return errKey("server.admin_listen", "is not host:port such as 127.0.0.1:8079 (%s)", describe(sv.AdminListen))
	}
	if sv.PublicURL != "" {
		u, err := url.Parse(sv.PublicURL)
		if err != nil || u.Host == "" || u.RawQuery != "" || u.Fragment != "" || !(u.Scheme == "https" || (u.Scheme == "http" && isLoopback(u.Hostname()))) {
			return errKey("server.public_url", "%s is not an https URL without a query or fragment (plain http only on a loopback host)", urlSubject(sv.PublicURL))
		}
	}
	if _, err := durationBetween("server.reconcile_interval", sv.ReconcileInterval, time.Minute, 0); err != nil {
		return err
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

// DeletionWindow is the parsed sync.deletion_window.
func (c *Config) DeletionWindow() time.Duration {
	d, _ := time.ParseDuration(c.Sync.DeletionWindow) // validated by Parse
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
		DeletionWindow:    c.DeletionWindow(),
		LinkAttribute:     c.Sync.LinkAttribute,
		UserAttributes:    slices.Clone(c.Sync.UserAttributes),
		NameTemplate:      tmpl,
		InviteRedirectURL: c.Sync.InviteRedirectURL,
	}
}

// hostName reports whether host is empty, an IP address or a DNS name.
func hostName(host string) bool {
	if net.ParseIP(host) != nil {
		return true
	}
	for _, r := range host {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '.') {
			return false
		}
	}
	return true
}
