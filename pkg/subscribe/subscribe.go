// Package subscribe keeps xtsync's Microsoft Graph change-notification
// subscriptions on the source tenant alive: it creates them (one per scoped
// group while they fit the quota, else one tenant-wide /groups subscription
// the webhook filters by scope, and beside them one tenant-wide /users
// subscription whose changes the worker filters by the synced users), renews
// them well before they expire, recreates removed ones, and deletes them on
// request. Subscriptions, with their clientState secrets, are kept in the
// engine's state store.
package subscribe

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/xtsync/xtsync/pkg/engine"
	"github.com/xtsync/xtsync/pkg/webhook"
)

// Graph limits for group and user subscriptions, and how xtsync spends the
// quota (the one place of that arithmetic).
const (
	// MaxLifetime is the longest a group or user subscription may live
	// (both 41,760 minutes).
	MaxLifetime = 41760 * time.Minute
	// Quota is how many subscriptions Graph allows per app per tenant.
	Quota = 100
	// headroom is the part of the quota kept free for recreating.
	headroom = 10
	// tenantWide counts the subscriptions made whatever the scope's size:
	// the one on UsersResource.
	tenantWide = 1
	// PerGroupLimit is the largest scope subscribed group by group (89):
	// PerGroupLimit group subscriptions plus the tenant-wide ones leave
	// the headroom free. A larger scope gets one GroupsResource
	// subscription instead.
	PerGroupLimit = Quota - headroom - tenantWide
)

// Resources xtsync subscribes to besides /groups/{id}.
const (
	// GroupsResource is the tenant-wide group subscription's resource.
	GroupsResource = "/groups"
	// UsersResource is the users subscription's resource: every user of
	// the tenant, changeType updated,deleted.
	UsersResource = "/users"
)

// changeType is what every subscription asks for.
const changeType = "updated,deleted"

// Subscription is one Graph subscription.
type Subscription struct {
	ID              string    `json:"id"`
	Resource        string    `json:"resource"`
	ChangeType      string    `json:"changeType"`
	NotificationURL string    `json:"notificationUrl"`
	LifecycleURL    string    `json:"lifecycleNotificationUrl"`
	ClientState     string    `json:"clientState"`
	TenantID        string    `json:"tenantId"`
	Expires         time.Time `json:"expires"`
	version         int64
}

// hook is what the webhook checks the subscription's notifications against.
func (s *Subscription) hook() webhook.Subscription {
	return webhook.Subscription{ClientState: s.ClientState, TenantID: s.TenantID, Users: s.Resource == UsersResource}
}

// Graph creates, renews and deletes subscriptions.
type Graph interface {
	// Create creates a subscription (Graph validates the endpoints first).
	Create(ctx context.Context, s Subscription) (Subscription, error)
	// Renew moves a subscription's expiry; engine.ErrNotFound when Graph no
	// longer has it.
	Renew(ctx context.Context, id string, expires time.Time) error
	// Delete removes a subscription; engine.ErrNotFound when already gone.
	Delete(ctx context.Context, id string) error
}

// Config configures a Manager.
type Config struct {
	Graph    Graph
	Store    engine.Store
	TenantID string   // the source tenant
	Scope    []string // source group ids
	// PublicURL is what Graph calls: PublicURL+"/notifications" and
	// PublicURL+"/lifecycle".
	PublicURL string
	// RenewBefore renews a subscription once less than this remains; 3 days
	// when zero.
	RenewBefore time.Duration
	Clock       engine.Clock
	Log         *slog.Logger
}

// Manager keeps the subscriptions alive. It is safe for concurrent use.
type Manager struct {
	cfg  Config
	mu   sync.Mutex
	subs map[string]*Subscription // by id
}

const recordPrefix = "subscription:"

// New returns a manager; call Load before serving the webhook.
func New(cfg Config) (*Manager, error) {
	if cfg.Graph == nil || cfg.Store == nil || cfg.Clock == nil || cfg.Log == nil {
		return nil, errors.New("subscribe: graph, store, clock and log are required")
	}
	if cfg.RenewBefore == 0 {
		cfg.RenewBefore = 72 * time.Hour
	}
	cfg.PublicURL = strings.TrimRight(cfg.PublicURL, "/")
	return &Manager{cfg: cfg, subs: map[string]*Subscription{}}, nil
}

// Load reads the stored subscriptions.
func (m *Manager) Load(ctx context.Context) error {
	recs, err := m.cfg.Store.List(ctx, engine.RecordMeta)
	if err != nil {
		return fmt.Errorf("load subscriptions: %w", err)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.subs = map[string]*Subscription{}
	for _, r := range recs {
		if !strings.HasPrefix(r.Key, recordPrefix) {
			continue
		}
		var s Subscription
		if err := json.Unmarshal(r.Data, &s); err != nil {
			return fmt.Errorf("decode subscription %s: %w", r.Key, err)
		}
		s.version = r.Version
		m.subs[s.ID] = &s
	}
	return nil
}

var _ webhook.Subscriptions = (*Manager)(nil)

// Lookup returns the clientState, the tenant and the kind of a subscription
// xtsync made (the webhook's check). It answers from memory: ctx is unused.
func (m *Manager) Lookup(_ context.Context, id string) (webhook.Subscription, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	s, found := m.subs[id]
	if !found {
		return webhook.Subscription{}, false
	}
	return s.hook(), true
}

// List returns the known subscriptions, soonest expiry first.
func (m *Manager) List() []Subscription {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]Subscription, 0, len(m.subs))
	for _, s := range m.subs {
		out = append(out, *s)
	}
	slices.SortFunc(out, func(a, b Subscription) int { return a.Expires.Compare(b.Expires) })
	return out
}

// wanted are the resources to subscribe to for the scope: the scoped
// groups one by one while there are at most PerGroupLimit, else /groups;
// and /users beside them (nothing for an empty scope).
func (m *Manager) wanted() []string {
	if len(m.cfg.Scope) == 0 {
		return nil
	}
	if len(m.cfg.Scope) > PerGroupLimit {
		return []string{GroupsResource, UsersResource}
	}
	out := make([]string, 0, len(m.cfg.Scope)+tenantWide)
	for _, id := range m.cfg.Scope {
		out = append(out, GroupsResource+"/"+id)
	}
	slices.Sort(out)
	return append(out, UsersResource)
}

// Ensure makes the subscriptions match the scope: it creates the missing,
// renews those near expiry (or recreates them when Graph lost them), and
// deletes those no longer wanted. It returns the first error after trying
// everything.
func (m *Manager) Ensure(ctx context.Context) error {
	want := map[string]bool{}
	for _, r := range m.wanted() {
		want[r] = true
	}
	var errs []error
	have := map[string]bool{}
	for _, s := range m.List() {
		switch {
		case !want[s.Resource] || have[s.Resource] || s.NotificationURL != m.cfg.PublicURL+"/notifications":
			errs = append(errs, m.remove(ctx, s))
		case s.Expires.Sub(m.cfg.Clock.Now()) < m.cfg.RenewBefore:
			if err := m.Renew(ctx, s.ID); err != nil {
				errs = append(errs, err)
				continue
			}
			have[s.Resource] = true
		default:
			have[s.Resource] = true
		}
	}
	for _, r := range m.wanted() {
		if !have[r] {
			if _, err := m.create(ctx, r); err != nil {
				errs = append(errs, err)
			}
		}
	}
	return errors.Join(errs...)
}

func newClientState() string {
	var b [32]byte
	_, _ = rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

func (m *Manager) expiry() time.Time {
	return m.cfg.Clock.Now().Add(MaxLifetime - 5*time.Minute)
}

func (m *Manager) create(ctx context.Context, resource string) (Subscription, error) {
	s, err := m.cfg.Graph.Create(ctx, Subscription{
		Resource: resource, ChangeType: changeType,
		NotificationURL: m.cfg.PublicURL + "/notifications", LifecycleURL: m.cfg.PublicURL + "/lifecycle",
		ClientState: newClientState(), TenantID: m.cfg.TenantID, Expires: m.expiry(),
	})
	if err != nil {
		return Subscription{}, fmt.Errorf("subscribe to %s: %w", resource, err)
	}
	if err := m.save(ctx, &s); err != nil {
		return Subscription{}, err
	}
	m.cfg.Log.Info("subscription created", "subscription", s.ID, "resource", resource, "expires", s.Expires)
	return s, nil
}

func (m *Manager) save(ctx context.Context, s *Subscription) error {
	data, _ := json.Marshal(s)
	v, err := m.cfg.Store.Put(ctx, engine.RecordMeta, recordPrefix+s.ID, s.version, data)
	if err != nil {
		return fmt.Errorf("save subscription %s: %w", s.ID, err)
	}
	s.version = v
	m.mu.Lock()
	m.subs[s.ID] = s
	m.mu.Unlock()
	return nil
}

func (m *Manager) forget(ctx context.Context, s Subscription) error {
	err := m.cfg.Store.Delete(ctx, engine.RecordMeta, recordPrefix+s.ID, s.version)
	if err != nil && !errors.Is(err, engine.ErrNotFound) {
		return fmt.Errorf("forget subscription %s: %w", s.ID, err)
	}
	m.mu.Lock()
	delete(m.subs, s.ID)
	m.mu.Unlock()
	return nil
}

func (m *Manager) remove(ctx context.Context, s Subscription) error {
	if err := m.cfg.Graph.Delete(ctx, s.ID); err != nil && !errors.Is(err, engine.ErrNotFound) {
		return fmt.Errorf("delete subscription %s: %w", s.ID, err)
	}
	m.cfg.Log.Info("subscription deleted", "subscription", s.ID, "resource", s.Resource)
	return m.forget(ctx, s)
}

func (m *Manager) get(id string) (Subscription, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	s, ok := m.subs[id]
	if !ok {
		return Subscription{}, false
	}
	return *s, true
}

// Renew extends a subscription to the maximum lifetime; one Graph no longer
// has is recreated.
func (m *Manager) Renew(ctx context.Context, id string) error {
	s, ok := m.get(id)
	if !ok {
		return fmt.Errorf("renew subscription %s: %w", id, engine.ErrNotFound)
	}
	exp := m.expiry()
	err := m.cfg.Graph.Renew(ctx, id, exp)
	if errors.Is(err, engine.ErrNotFound) {
		return m.Recreate(ctx, id)
	}
	if err != nil {
		return fmt.Errorf("renew subscription %s: %w", id, err)
	}
	s.Expires = exp
	m.cfg.Log.Info("subscription renewed", "subscription", id, "expires", exp)
	return m.save(ctx, &s)
}

// Recreate replaces a subscription Graph removed with a new one for the
// same resource.
func (m *Manager) Recreate(ctx context.Context, id string) error {
	s, ok := m.get(id)
	if !ok {
		return fmt.Errorf("recreate subscription %s: %w", id, engine.ErrNotFound)
	}
	if err := m.forget(ctx, s); err != nil {
		return err
	}
	_ = m.cfg.Graph.Delete(ctx, id) // gone already, most likely
	_, err := m.create(ctx, s.Resource)
	return err
}

// Unsubscribe deletes every subscription xtsync made.
func (m *Manager) Unsubscribe(ctx context.Context) error {
	var errs []error
	for _, s := range m.List() {
		errs = append(errs, m.remove(ctx, s))
	}
	return errors.Join(errs...)
}

// Stored lists the subscriptions recorded in a store, without a manager
// (for status reports while nothing runs).
func Stored(ctx context.Context, store engine.Store) ([]Subscription, error) {
	recs, err := store.List(ctx, engine.RecordMeta)
	if err != nil {
		return nil, fmt.Errorf("load subscriptions: %w", err)
	}
	var out []Subscription
	for _, r := range recs {
		if !strings.HasPrefix(r.Key, recordPrefix) {
			continue
		}
		var s Subscription
		if err := json.Unmarshal(r.Data, &s); err != nil {
			return nil, fmt.Errorf("decode subscription %s: %w", r.Key, err)
		}
		out = append(out, s)
	}
	slices.SortFunc(out, func(a, b Subscription) int { return a.Expires.Compare(b.Expires) })
	return out, nil
}
