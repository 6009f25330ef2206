package msgraph

import (
	"fmt"
	"log/slog"

	"github.com/xtsync/xtsync/pkg/config"
	"github.com/xtsync/xtsync/pkg/engine"
	"github.com/xtsync/xtsync/pkg/metrics"
)

// ForTenant signs in to one configured tenant (its CA file trusted too),
// paced by the tenant's write_rate, write_burst, invitation_rate and
// read_rate (the defaults when unset).
func ForTenant(section string, t config.Tenant, log *slog.Logger, obs Observer) (*Client, error) {
	hc, err := HTTPClientWithCA(t.CAFile)
	if err != nil {
		return nil, err
	}
	return New(Config{
		Section:  section,
		TenantID: t.TenantID, ClientID: t.ClientID, ClientSecret: t.ClientSecret,
		Cloud: t.Cloud, GraphEndpoint: t.GraphEndpoint, AuthorityHost: t.AuthorityHost, HTTPClient: hc,
		Pace: tenantPace(t), Observer: obs,
	}, log.With("tenant", section))
}

// tenantPace is a configured tenant's pacing; unset keys take the defaults.
func tenantPace(t config.Tenant) Pace {
	var p Pace
	if t.WriteRate != nil {
		p.WriteRate = *t.WriteRate
	}
	if t.WriteBurst != nil {
		p.WriteBurst = *t.WriteBurst
	}
	if t.InvitationRate != nil {
		p.InvitationRate = *t.InvitationRate
	}
	if t.ReadRate != nil {
		p.ReadRate = *t.ReadRate
	}
	return p
}

// Ports are the engine's and the subscription managers' Graph ports for a
// configuration: the source and target adapters, the source's
// subscriptions and, with server.watch_mirrors, the target's group delta
// and subscriptions. Mains that sync pass it to the wiring, which itself
// does not import this package (the webhook function must not link the
// SDK).
func Ports(c *config.Config, log *slog.Logger, m *metrics.Set) (engine.Graph, error) {
	var obs Observer // not a nil *metrics.Set in an interface
	if m != nil {
		obs = m
	}
	src, err := ForTenant("source", c.Source, log, obs)
	if err != nil {
		return engine.Graph{}, fmt.Errorf("source: %w", err)
	}
	dst, err := ForTenant("target", c.Target, log, obs)
	if err != nil {
		return engine.Graph{}, fmt.Errorf("target: %w", err)
	}
	return Graph(c, src, dst), nil
}

// Graph is Ports over the two tenants' clients.
func Graph(c *config.Config, src, dst *Client) engine.Graph {
	schema := SchemaOf(c.EngineOptions())
	g := engine.Graph{Source: NewSource(src, schema), Target: NewTarget(dst, schema), Subscriptions: NewSubscriptionAPI(src)}
	if c.Server.WatchMirrors != nil && *c.Server.WatchMirrors {
		watch := NewSource(dst, schema)
		g.Mirrors, g.MirrorSubscriptions, g.TargetUsers = watch, NewSubscriptionAPI(dst), watch
	}
	return g
}
