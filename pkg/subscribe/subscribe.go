// Package subscribe keeps xtsync's Microsoft Graph change-notification
// subscriptions on the source tenant alive: it creates them (one per scoped
// group while they fit the quota, else one tenant-wide /groups subscription
// the webhook filters by scope, and beside them one tenant-wide /users
// subscription whose changes the worker filters by the synced users), renews
// them well before they expire, recreates removed ones, and deletes them on
// request. Subscriptions, with their clientState secrets, are kept in the
// engine's state store, and so is an operator's unsubscribe: once off,
// the subscriptions stay off, in every process on the state, until an
// operator subscribes again.
//
// A second Manager, a mirrors manager (Config.Mirrors), does the same on
// the target tenant for the mirror groups, for instant drift repair: an
// edit of a mirror that xtsync did not make (a member added or removed by
// hand, a renamed group) is notified at once, and the mirror repaired then
// rather than at the next scheduled reconcile. Graph's quota of 100
// subscriptions per app per tenant applies to the target on its own, and
// the target needs no users subscription, so the mirrors are subscribed one
// by one while there are at most MirrorLimit of them, else with one
// tenant-wide /groups subscription, of whose notifications only the
// mirrors' matter. Both managers share one state store, each keeping to its
// own subscriptions (engine.Subscription.Mirrors tells them apart), and the
// operator's off switch is one for both.
package subscribe

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/xtsync/xtsync/pkg/engine"
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
	// the one on engine.UsersResource.
	tenantWide = 1
	// PerGroupLimit is the largest scope subscribed group by group (89):
	// PerGroupLimit group subscriptions plus the tenant-wide ones leave
	// the headroom free. A larger scope gets one GroupsResource
	// subscription instead.
	PerGroupLimit = Quota - headroom - tenantWide
	// MirrorLimit is the largest set of mirrors a mirrors manager
	// subscribes to group by group on the target tenant (89): with the
	// target's users subscription (the target users pass), MirrorLimit
	// group subscriptions leave the headroom of its own quota free. More
	// mirrors get one GroupsResource subscription instead.
	MirrorLimit = Quota - headroom - tenantWide
)

// changeType is what every subscription asks for.
const changeType = "updated,deleted"

// Config configures a Manager.
type Config struct {
	Graph engine.SubscriptionAPI
	Store engine.Store
	// TenantID is the tenant subscribed to: the source tenant, or the
	// target tenant for a mirrors manager.
	TenantID string
	// Scope are the source group ids; a mirrors manager ignores it.
	Scope []string
	// Mirrors, when set, makes the Manager a mirrors manager, subscribing
	// on the target tenant (TenantID) to the mirror groups it returns (the
	// target group ids, each with its source group's id) at every Ensure;
	// a mirrors manager makes no users subscription. A subscription on one
	// mirror records its source group (engine.Subscription.Source), so
	// that its notifications need no lookup.
	Mirrors func(ctx context.Context) (map[string]string, error)
	// PublicURL is what Graph calls: PublicURL+"/notifications" and
	// PublicURL+"/lifecycle".
	PublicURL string
	// RenewBefore renews a subscription once less than this remains; 3 days
	// when zero.
	RenewBefore time.Duration
	Clock       engine.Clock
	Log         *slog.Logger
}

// Manager keeps the subscriptions alive. It is safe for concurrent use. It
// sees and touches only the subscriptions of its own kind: those of the
// source tenant, or with Config.Mirrors those on the mirrors.
type Manager struct {
	cfg  Config
	mu   sync.Mutex
	subs map[string]stored // by id
	// off is the operator's unsubscribe, as last loaded or set.
	off bool
	// creating counts the creations in flight: Graph may notify on a new
	// subscription before its creation has answered (Unsure).
	creating int
	// ensuring serialises Ensure and Unsubscribe in the process (a claim
	// does it between processes).
	ensuring sync.Mutex
	// gen counts the changes of subs this process made (Load).
	gen int
}

// stored is a subscription with the version of its record.
type stored struct {
	engine.Subscription
	version int64
}

const recordPrefix = "subscription:"

// offKey is the record of an operator's unsubscribe (its presence).
const offKey = "subscriptions-off"

// New returns a manager; call Load before serving the webhook.
func New(cfg Config) (*Manager, error) {
	if cfg.Graph == nil || cfg.Store == nil || cfg.Clock == nil || cfg.Log == nil {
		return nil, errors.New("subscribe: graph, store, clock and log are required")
	}
	if cfg.RenewBefore == 0 {
		cfg.RenewBefore = 72 * time.Hour
	}
	cfg.PublicURL = strings.TrimRight(cfg.PublicURL, "/")
	return &Manager{cfg: cfg, subs: map[string]stored{}}, nil
}

// Load reads the stored subscriptions of the manager's kind and whether an
// operator turned the subscriptions off.
//
// A subscription this process saved or forgot while the records were read
// is kept as this process has it (the read may predate it).
func (m *Manager) Load(ctx context.Context) error {
	_, err := m.load(ctx)
	return err
}

// load is Load; it returns the ids of every subscription recorded, of
// both kinds.
func (m *Manager) load(ctx context.Context) (map[string]bool, error) {
	m.mu.Lock()
	gen := m.gen
	m.mu.Unlock()
	recs, err := records(ctx, m.cfg.Store)
	if err != nil {
		return nil, err
	}
	off, err := Off(ctx, m.cfg.Store)
	if err != nil {
		return nil, err
	}
	recorded := make(map[string]bool, len(recs))
	m.mu.Lock()
	defer m.mu.Unlock()
	m.off = off
	subs := make(map[string]stored, len(recs))
	for _, s := range recs {
		recorded[s.ID] = true
		if m.own(s.Subscription) {
			subs[s.ID] = s
		}
	}
	if m.gen != gen {
		maps.Copy(subs, m.subs)
	}
	m.subs = subs
	return recorded, nil
}

// mirrors reports whether m is a mirrors manager.
func (m *Manager) mirrors() bool { return m.cfg.Mirrors != nil }

// own reports whether a stored subscription is of m's kind: a mirrors one
// for a mirrors manager, else a source one, and on m's tenant when the
// record names one.
func (m *Manager) own(s engine.Subscription) bool {
	return s.Mirrors == m.mirrors() && (s.TenantID == "" || s.TenantID == m.cfg.TenantID)
}

// info logs at info level, marking a mirrors manager's messages.
func (m *Manager) info(msg string, args ...any) {
	if m.mirrors() {
		args = append(args, "mirrors", true)
	}
	m.cfg.Log.Info(msg, args...)
}

// warn logs at warn level, marking a mirrors manager's messages.
func (m *Manager) warn(msg string, args ...any) {
	if m.mirrors() {
		args = append(args, "mirrors", true)
	}
	m.cfg.Log.Warn(msg, args...)
}

// records reads the subscription records of a store.
func records(ctx context.Context, store engine.Store) ([]stored, error) {
	recs, err := store.List(ctx, engine.RecordMeta)
	if err != nil {
		return nil, fmt.Errorf("load subscriptions: %w", err)
	}
	var out []stored
	for _, r := range recs {
		if !strings.HasPrefix(r.Key, recordPrefix) {
			continue
		}
		s, err := decodeStored(r)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

// decodeStored reads a subscription record.
func decodeStored(r engine.Record) (stored, error) {
	var s engine.Subscription
	if err := json.Unmarshal(r.Data, &s); err != nil {
		return stored{}, fmt.Errorf("decode subscription %s: %w", r.Key, err)
	}
	return stored{s, r.Version}, nil
}

// Lookup returns a subscription xtsync made (the webhook's check), of the
// manager's kind only. It answers from memory: ctx is unused.
func (m *Manager) Lookup(_ context.Context, id string) (engine.Subscription, bool) {
	s, ok := m.get(id)
	return s.Subscription, ok
}

// Unsure reports whether an id Lookup does not know may be a subscription
// being created now: Graph validates the endpoint and may notify on it
// before its creation answers and is stored (webhook.UnsureLookup).
func (m *Manager) Unsure(_ context.Context, _ string) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.creating > 0
}

// List returns the known subscriptions of the manager's kind, soonest
// expiry first.
func (m *Manager) List() []engine.Subscription {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]engine.Subscription, 0, len(m.subs))
	for _, s := range m.subs {
		out = append(out, s.Subscription)
	}
	bySoonest(out)
	return out
}

// bySoonest sorts subscriptions soonest expiry first.
func bySoonest(subs []engine.Subscription) {
	slices.SortFunc(subs, func(a, b engine.Subscription) int { return a.Expires.Compare(b.Expires) })
}

// wanted are the resources to subscribe to: a mirrors manager's
// (mirrorsWanted), else the scope's (scopeWanted).
// A mirror's resource comes with its source group (sources).
func (m *Manager) wanted(ctx context.Context) (resources []string, sources map[string]string, err error) {
	if !m.mirrors() {
		return m.scopeWanted(), nil, nil
	}
	mirrors, err := m.cfg.Mirrors(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("list the mirrors: %w", err)
	}
	sources = make(map[string]string, len(mirrors))
	for t, src := range mirrors {
		sources[engine.GroupsResource+"/"+t] = src
	}
	return mirrorsWanted(slices.Collect(maps.Keys(mirrors))), sources, nil
}

// mirrorsWanted are the resources to subscribe to for the mirrors: the
// mirror groups one by one (sorted, each once) while there are at most
// MirrorLimit, else /groups; and /users beside them, for the users xtsync
// keeps in the target (nothing for no mirrors).
func mirrorsWanted(ids []string) []string {
	out := make([]string, 0, len(ids))
	for _, id := range ids {
		if id != "" {
			out = append(out, engine.GroupsResource+"/"+id)
		}
	}
	slices.Sort(out)
	out = slices.Compact(out)
	switch {
	case len(out) == 0:
		return nil
	case len(out) > MirrorLimit:
		return []string{engine.GroupsResource, engine.UsersResource}
	}
	return append(out, engine.UsersResource)
}

// scopeWanted are the resources to subscribe to for the scope: the scoped
// groups one by one while there are at most PerGroupLimit, else /groups;
// and /users beside them (nothing for an empty scope).
func (m *Manager) scopeWanted() []string {
	if len(m.cfg.Scope) == 0 {
		return nil
	}
	if len(m.cfg.Scope) > PerGroupLimit {
		return []string{engine.GroupsResource, engine.UsersResource}
	}
	out := make([]string, 0, len(m.cfg.Scope)+tenantWide)
	for _, id := range m.cfg.Scope {
		out = append(out, engine.GroupsResource+"/"+id)
	}
	slices.Sort(out)
	return append(out, engine.UsersResource)
}

// Ensure makes the subscriptions of the manager's kind match the scope (a
// mirrors manager's: the mirrors Config.Mirrors returns now): it creates
// the missing, renews those near expiry (or recreates them when Graph lost
// them), and deletes those no longer wanted (all of them while an operator
// has them off; a mirrors manager then does not ask for the mirrors). It
// returns the first error after trying everything; when the mirrors cannot
// be listed, it returns that and changes nothing.
//
// It starts from the subscriptions stored now (another process may have
// made or deleted some), squared with those Graph holds (sweep: one
// unrecorded is deleted, one Graph lost is made again), one Ensure at a
// time in the process, and creates one only under its resource's claim
// (claim.go): however many processes ensure at once, each resource gets
// one subscription.
func (m *Manager) Ensure(ctx context.Context) error {
	m.ensuring.Lock()
	defer m.ensuring.Unlock()
	recorded, err := m.load(ctx)
	if err != nil {
		return err
	}
	want := map[string]bool{}
	var wanted []string
	var sources map[string]string
	if !m.Off() {
		var err error
		if wanted, sources, err = m.wanted(ctx); err != nil {
			return err
		}
	}
	for _, r := range wanted {
		want[r] = true
	}
	errs := []error{m.sweep(ctx, recorded)}
	have := map[string]bool{}
	for _, s := range m.List() {
		switch {
		case !want[s.Resource] || have[s.Resource] || s.NotificationURL != m.cfg.PublicURL+"/notifications" || s.Source != sources[s.Resource]:
			errs = append(errs, m.remove(ctx, s.ID))
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
	for _, r := range wanted {
		if !have[r] {
			if err := m.create(ctx, r, sources[r]); err != nil {
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

// create subscribes to resource under its claim. When another process made
// the subscription meanwhile, it keeps that one; when another process is
// making it, it leaves it to that one.
func (m *Manager) create(ctx context.Context, resource, source string) error {
	version, made, err := m.claim(ctx, resource)
	switch {
	case errors.Is(err, errClaimed):
		m.info("subscription left to another process", "resource", resource)
		return nil
	case err != nil:
		return fmt.Errorf("subscribe to %s: %w", resource, err)
	case made != nil:
		m.mu.Lock()
		m.subs[made.ID] = *made
		m.gen++
		m.mu.Unlock()
		m.info("subscription kept", "subscription", made.ID, "resource", resource, "reason", "made by another process")
		return nil
	}
	s, err := m.subscribe(ctx, resource, source)
	if err != nil {
		m.unclaim(ctx, resource, version, "")
		return err
	}
	m.settle(ctx, resource, version, s.ID)
	return nil
}

// subscribe creates resource's subscription in Graph and records it.
func (m *Manager) subscribe(ctx context.Context, resource, source string) (engine.Subscription, error) {
	m.mu.Lock()
	m.creating++
	m.mu.Unlock()
	defer func() {
		m.mu.Lock()
		m.creating--
		m.mu.Unlock()
	}()
	s, err := m.cfg.Graph.Create(ctx, engine.Subscription{
		Resource: resource, ChangeType: changeType,
		NotificationURL: m.cfg.PublicURL + "/notifications", LifecycleURL: m.cfg.PublicURL + "/lifecycle",
		ClientState: newClientState(), TenantID: m.cfg.TenantID, Expires: m.expiry(),
		Mirrors: m.mirrors(),
	})
	if err != nil {
		if strings.Contains(err.Error(), "validation request failed") {
			// Graph could not reach xtsync at the URL it was given.
			err = fmt.Errorf("%w; Graph must reach server.public_url (%s) from the internet and get the handshake answered by xtsync serve: check the URL, its TLS certificate and the reverse proxy (xtsync check tries it)", err, m.cfg.PublicURL)
		}
		return engine.Subscription{}, fmt.Errorf("subscribe to %s: %w", resource, err)
	}
	s.Mirrors = m.mirrors() // kept as this manager's, whatever the API returned
	s.Source = source
	if err := m.save(ctx, stored{Subscription: s}); err != nil {
		return engine.Subscription{}, err
	}
	m.info("subscription created", "subscription", s.ID, "resource", resource, "expires", s.Expires)
	return s, nil
}

func (m *Manager) save(ctx context.Context, s stored) error {
	data, _ := json.Marshal(s.Subscription)
	v, err := m.cfg.Store.Put(ctx, engine.RecordMeta, recordPrefix+s.ID, s.version, data)
	if err != nil {
		return fmt.Errorf("save subscription %s: %w", s.ID, err)
	}
	s.version = v
	m.mu.Lock()
	m.subs[s.ID] = s
	m.gen++
	m.mu.Unlock()
	return nil
}

// forget deletes subscription s's record and releases its resource's claim.
func (m *Manager) forget(ctx context.Context, s stored) error {
	err := m.cfg.Store.Delete(ctx, engine.RecordMeta, recordPrefix+s.ID, s.version)
	if err != nil && !errors.Is(err, engine.ErrNotFound) {
		return fmt.Errorf("forget subscription %s: %w", s.ID, err)
	}
	m.mu.Lock()
	delete(m.subs, s.ID)
	m.gen++
	m.mu.Unlock()
	m.unclaim(ctx, s.Resource, 0, s.ID)
	return nil
}

func (m *Manager) remove(ctx context.Context, id string) error {
	s, ok := m.get(id)
	if !ok {
		return nil
	}
	if err := m.cfg.Graph.Delete(ctx, s.ID); err != nil && !errors.Is(err, engine.ErrNotFound) {
		return fmt.Errorf("delete subscription %s: %w", s.ID, err)
	}
	m.info("subscription deleted", "subscription", s.ID, "resource", s.Resource)
	return m.forget(ctx, s)
}

func (m *Manager) get(id string) (stored, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	s, ok := m.subs[id]
	return s, ok
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
	m.info("subscription renewed", "subscription", id, "expires", exp)
	return m.save(ctx, s)
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
	if m.Off() {
		return nil
	}
	return m.create(ctx, s.Resource, s.Source)
}

// Off reports whether an operator turned the subscriptions off.
func (m *Manager) Off() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.off
}

// Unsubscribe turns the subscriptions off (recorded first, so that no
// Ensure in this or another process makes them again) and deletes every
// subscription of the manager's kind. The switch is one for both kinds: a
// caller with both managers unsubscribes on both. It returns how many it
// deleted.
func (m *Manager) Unsubscribe(ctx context.Context) (int, error) {
	m.ensuring.Lock()
	defer m.ensuring.Unlock()
	if err := m.setOff(ctx, true); err != nil {
		return 0, err
	}
	if err := m.Load(ctx); err != nil { // those other processes made too
		return 0, err
	}
	n := 0
	var errs []error
	for _, s := range m.List() {
		err := m.remove(ctx, s.ID)
		if err == nil {
			n++
		}
		errs = append(errs, err)
	}
	m.info("subscriptions off", "deleted", n)
	return n, errors.Join(errs...)
}

// Subscribe turns the subscriptions (of both kinds) on again after
// Unsubscribe and makes those of the manager's kind (Ensure).
func (m *Manager) Subscribe(ctx context.Context) error {
	if err := m.setOff(ctx, false); err != nil {
		return err
	}
	m.info("subscriptions on")
	return m.Ensure(ctx)
}

// setOff records whether the subscriptions are off.
func (m *Manager) setOff(ctx context.Context, off bool) error {
	rec, err := m.cfg.Store.Get(ctx, engine.RecordMeta, offKey)
	switch {
	case errors.Is(err, engine.ErrNotFound):
		if off {
			_, err = m.cfg.Store.Put(ctx, engine.RecordMeta, offKey, 0, []byte(`{"off":true}`))
		} else {
			err = nil
		}
	case err == nil && !off:
		err = m.cfg.Store.Delete(ctx, engine.RecordMeta, offKey, rec.Version)
		if errors.Is(err, engine.ErrNotFound) {
			err = nil
		}
	}
	if err != nil && !errors.Is(err, engine.ErrConflict) { // a conflict: another process set the same
		return fmt.Errorf("record subscriptions %s: %w", onOff(off), err)
	}
	m.mu.Lock()
	m.off = off
	m.mu.Unlock()
	return nil
}

func onOff(off bool) string {
	if off {
		return "off"
	}
	return "on"
}

// Off reports whether an operator turned the subscriptions of a store's
// state off (xtsync unsubscribe).
func Off(ctx context.Context, store engine.Store) (bool, error) {
	_, err := store.Get(ctx, engine.RecordMeta, offKey)
	switch {
	case errors.Is(err, engine.ErrNotFound):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("load subscriptions off: %w", err)
	}
	return true, nil
}

// Stored lists the subscriptions recorded in a store, of both kinds
// (source and mirrors), without a manager (for status reports while
// nothing runs), soonest expiry first.
func Stored(ctx context.Context, store engine.Store) ([]engine.Subscription, error) {
	recs, err := records(ctx, store)
	if err != nil {
		return nil, err
	}
	out := make([]engine.Subscription, len(recs))
	for i, s := range recs {
		out[i] = s.Subscription
	}
	bySoonest(out)
	return out, nil
}
