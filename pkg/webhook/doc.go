// Package webhook is xtsync's public Microsoft Graph change-notification
// endpoint: a plain net/http handler, served by `xtsync serve` and, unchanged,
// by the webhook Lambda.
//
// The Handler routes on a path's last segment, so it serves whatever prefix
// its endpoint has (serve's public_url path, an API stage, a custom domain's
// base path):
//
//	POST /notifications  change notifications (and their validation request)
//	POST /lifecycle      lifecycle notifications (and their validation request)
//	GET  /healthz        200 "ok"
//
// A POST carrying ?validationToken= is Graph validating the URL: the handler
// echoes the decoded token as text/plain. Every notification item is checked
// against the subscriptions xtsync created (Config.Lookup): known
// subscription, clientState compared in constant time, tenant, change type,
// and a resource of the subscription's kind: `Groups/{guid}` within the sync
// scope for a group subscription, `Users/{guid}` for the users subscription
// (no scope check: the worker knows which users are synced), and
// `Groups/{guid}` naming a mirror (Config.MirrorOf) for a mirrors
// subscription, one on the target tenant (engine.Subscription.Mirrors). Items
// that fail are dropped, logged as security events and counted by reason,
// but the request is still answered 202 so a forger learns nothing. Items
// that pass are handed to the Sink in one call per request and kind
// (Changed for source groups, UsersChanged for users, MirrorsChanged for
// mirrors, named by their source groups). The handler does no network or
// disk work of its own: the Sink only enqueues.
//
// Memory and concurrency are bounded: a body is decoded as it is read, item
// by item, never held whole, up to MaxBody bytes and MaxItems items (413
// beyond, nothing acted on); at most MaxConcurrent requests, admitted for
// MaxBufferedBytes of body in total, are read at once, and one more is
// answered 503 with Retry-After at once, unread, so that Graph retries it
// later. Validation requests are never refused for load. Lifecycle events
// are coalesced: each of reauthorizationRequired, subscriptionRemoved and
// missed reaches the Sink at most once per subscription per
// LifecycleCoalesce window; replays inside it are acknowledged and counted.
package webhook
