package app

import (
	"context"
	"errors"
	"slices"

	"github.com/xtsync/xtsync/pkg/engine"
	"github.com/xtsync/xtsync/pkg/subscribe"
	"github.com/xtsync/xtsync/pkg/webhook"
)

var (
	_ SubscriptionManager  = (*Subscriptions)(nil)
	_ webhook.UnsureLookup = (*Subscriptions)(nil)
)

// Subscriptions are a deployment's two subscription managers as one: the
// source's (its scoped groups and users) and, when the mirrors are watched
// (server.watch_mirrors), the target's (the mirrors). Every operation
// goes to both; the webhook's lookup knows the subscriptions of both.
type Subscriptions struct {
	Source *subscribe.Manager
	// Mirrors is nil when the mirrors are not watched.
	Mirrors *subscribe.Manager
}

// all are the managers there are.
func (s *Subscriptions) all() []*subscribe.Manager {
	if s.Mirrors == nil {
		return []*subscribe.Manager{s.Source}
	}
	return []*subscribe.Manager{s.Source, s.Mirrors}
}

// owner is the manager that made subscription id (nil: neither).
func (s *Subscriptions) owner(ctx context.Context, id string) *subscribe.Manager {
	for _, m := range s.all() {
		if _, ok := m.Lookup(ctx, id); ok {
			return m
		}
	}
	return nil
}

// Load reads both managers' subscriptions and the off switch.
func (s *Subscriptions) Load(ctx context.Context) error {
	var errs []error
	for _, m := range s.all() {
		errs = append(errs, m.Load(ctx))
	}
	return errors.Join(errs...)
}

// Ensure makes both managers' subscriptions match what they watch.
func (s *Subscriptions) Ensure(ctx context.Context) error {
	var errs []error
	for _, m := range s.all() {
		errs = append(errs, m.Ensure(ctx))
	}
	return errors.Join(errs...)
}

// EnsureMirrors makes the target's subscriptions match the mirrors there
// are now (after a run that created or restored some); nothing when the
// mirrors are not watched.
func (s *Subscriptions) EnsureMirrors(ctx context.Context) error {
	if s.Mirrors == nil {
		return nil
	}
	return s.Mirrors.Ensure(ctx)
}

// Renew renews subscription id with the manager that made it.
func (s *Subscriptions) Renew(ctx context.Context, id string) error {
	if m := s.owner(ctx, id); m != nil {
		return m.Renew(ctx, id)
	}
	return s.Source.Renew(ctx, id) // its not-found answer
}

// Recreate recreates removed subscription id with the manager that made
// it.
func (s *Subscriptions) Recreate(ctx context.Context, id string) error {
	if m := s.owner(ctx, id); m != nil {
		return m.Recreate(ctx, id)
	}
	return s.Source.Recreate(ctx, id)
}

// Lookup returns a subscription either manager made (the webhook's
// check).
func (s *Subscriptions) Lookup(ctx context.Context, id string) (engine.Subscription, bool) {
	for _, m := range s.all() {
		if sub, ok := m.Lookup(ctx, id); ok {
			return sub, true
		}
	}
	return engine.Subscription{}, false
}

// Unsure reports whether an unknown id may be a subscription either
// manager is creating now (webhook.UnsureLookup).
func (s *Subscriptions) Unsure(ctx context.Context, id string) bool {
	for _, m := range s.all() {
		if m.Unsure(ctx, id) {
			return true
		}
	}
	return false
}

// List returns both managers' subscriptions, soonest expiry first.
func (s *Subscriptions) List() []engine.Subscription {
	var out []engine.Subscription
	for _, m := range s.all() {
		out = append(out, m.List()...)
	}
	slices.SortStableFunc(out, func(a, b engine.Subscription) int { return a.Expires.Compare(b.Expires) })
	return out
}

// Off reports whether an operator turned the subscriptions off.
func (s *Subscriptions) Off() bool { return s.Source.Off() }

// Unsubscribe turns the subscriptions off (both managers) and deletes
// them; it returns how many it deleted.
func (s *Subscriptions) Unsubscribe(ctx context.Context) (int, error) {
	total := 0
	var errs []error
	for _, m := range s.all() {
		n, err := m.Unsubscribe(ctx)
		total += n
		errs = append(errs, err)
	}
	return total, errors.Join(errs...)
}

// Subscribe turns the subscriptions on and creates them now.
func (s *Subscriptions) Subscribe(ctx context.Context) error {
	var errs []error
	for _, m := range s.all() {
		errs = append(errs, m.Subscribe(ctx))
	}
	return errors.Join(errs...)
}
