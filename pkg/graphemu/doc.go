// Package graphemu is a local Microsoft Graph: an HTTPS server holding
// several Entra tenants, with the OAuth2 client-credentials sign-in that
// azidentity accepts and the v1.0 subset xtsync needs (users, groups,
// members, delta, invitations, deleted items, $batch, subscriptions and
// change notifications), answering with Graph's own shapes, paging and error
// bodies. Faults (throttling, 5xx, latency, replication delay, small pages,
// lossy notifications) are off by default and set per tenant.
//
// Tests use the Go API (New, Start, the admin mutations, Counts); the CLI uses
// the control API under /_emulator/.
package graphemu
