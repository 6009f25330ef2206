package graphemu

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"sync"
	"time"
)

// Options configure an Emulator. The zero value is usable.
type Options struct {
	// Now is the clock; time.Now when nil.
	Now func() time.Time
	// Logger receives request and delivery logs; discarded when nil.
	Logger *slog.Logger
	// Seed makes generated ids and faults deterministic.
	Seed uint64
	// NotifyClient delivers change notifications and validation requests;
	// a client with a 10 s timeout when nil.
	NotifyClient *http.Client
	// NotifyRetryBase is the first delay before a failed notification is
	// redelivered (doubling each time); 1 s when zero.
	NotifyRetryBase time.Duration
	// NotifyRetryWindow is how long failed notifications are retried
	// (Graph: 4 h).
	NotifyRetryWindow time.Duration
	// ReauthBefore is how long before a subscription expires the lifecycle
	// reauthorizationRequired event is sent; 1 h when zero.
	ReauthBefore time.Duration
	// LifecycleTick is how often subscriptions are checked for expiry and
	// reauthorization; 1 s when zero.
	LifecycleTick time.Duration
	// NotifyTimeout is how long a notification endpoint may take before the
	// delivery counts as failed and is retried (Graph: 3 s).
	NotifyTimeout time.Duration
	// AllowHTTPNotifications lets subscriptions use plain-http notification
	// URLs on loopback hosts (Graph itself requires https).
	AllowHTTPNotifications bool
}

// ErrNotFound is returned by the Go API for an unknown tenant or object.
var ErrNotFound = errors.New("not found")

// Emulator is a local Microsoft Graph holding several tenants.
type Emulator struct {
	opts Options
	now  func() time.Time
	log  *slog.Logger

	mu       sync.Mutex
	rng      *rand.Rand
	tenants  map[string]*Tenant
	domains  map[string]string // domain -> tenant id
	tokens   map[string]token
	snaps    map[string]*deltaSnap
	out      outbox
	closed   bool
	unrouted map[string]int

	ca      *CA
	srv     *http.Server
	baseURL string
	wg      sync.WaitGroup
	stop    context.CancelFunc
	ctx     context.Context
}

// New returns an empty emulator; add tenants with AddTenant or Seed.
func New(opts Options) *Emulator {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.NotifyClient == nil {
		opts.NotifyClient = &http.Client{Timeout: 10 * time.Second}
	}
	if opts.NotifyRetryBase == 0 {
		opts.NotifyRetryBase = time.Second
	}
	if opts.NotifyRetryWindow == 0 {
		opts.NotifyRetryWindow = 4 * time.Hour
	}
	if opts.ReauthBefore == 0 {
		opts.ReauthBefore = time.Hour
	}
	if opts.NotifyTimeout == 0 {
		opts.NotifyTimeout = 3 * time.Second
	}
	if opts.LifecycleTick == 0 {
		opts.LifecycleTick = time.Second
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Emulator{
		opts:     opts,
		now:      opts.Now,
		log:      opts.Logger,
		rng:      rand.New(rand.NewPCG(opts.Seed, opts.Seed^0x9e3779b97f4a7c15)),
		tenants:  map[string]*Tenant{},
		domains:  map[string]string{},
		tokens:   map[string]token{},
		snaps:    map[string]*deltaSnap{},
		out:      outbox{wake: make(chan struct{}, 1)},
		unrouted: map[string]int{},
		ctx:      ctx,
		stop:     cancel,
	}
}

// Start serves the emulator over HTTPS on addr ("127.0.0.1:0" picks a free
// port) with a freshly generated CA, and starts notification delivery.
func (e *Emulator) Start(addr string) error {
	ca, err := NewCA(e.now())
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listen %s: %w", addr, err)
	}
	e.ca = ca
	e.baseURL = "https://" + ln.Addr().String()
	e.srv = &http.Server{
		Handler:           e.Handler(),
		TLSConfig:         ca.ServerTLSConfig(),
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          slog.NewLogLogger(e.log.Handler(), slog.LevelDebug),
	}
	e.wg.Add(1)
	go func() {
		defer e.wg.Done()
		if err := e.srv.ServeTLS(ln, "", ""); err != nil && !errors.Is(err, http.ErrServerClosed) {
			e.log.Error("emulator serve", "err", err)
		}
	}()
	e.startBackground()
	return nil
}

// startBackground runs notification delivery and the subscription
// lifecycle checker until Close.
func (e *Emulator) startBackground() {
	e.wg.Add(2)
	go func() { defer e.wg.Done(); e.deliverLoop() }()
	go func() { defer e.wg.Done(); e.lifecycleLoop() }()
}

// URL is the emulator's base URL, e.g. https://127.0.0.1:4431. Graph lives
// under URL()+"/v1.0", sign-in under URL()+"/{tenant}/oauth2/v2.0/token".
func (e *Emulator) URL() string { return e.baseURL }

// GraphURL is the Graph v1.0 base URL.
func (e *Emulator) GraphURL() string { return e.baseURL + "/v1.0" }

// CA is the certificate authority the emulator's certificate chains to;
// nil before Start.
func (e *Emulator) CA() *CA { return e.ca }

// HTTPClient returns a client that trusts the emulator's CA.
func (e *Emulator) HTTPClient() *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = e.ca.ClientTLSConfig()
	tr.MaxIdleConnsPerHost = 64
	return &http.Client{Transport: tr, Timeout: 60 * time.Second}
}

// Close stops the server and background delivery.
func (e *Emulator) Close() error {
	e.mu.Lock()
	e.closed = true
	e.mu.Unlock()
	e.stop()
	var err error
	if e.srv != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		err = e.srv.Shutdown(ctx)
	}
	e.wg.Wait()
	return err
}

// newID returns a random GUID from the emulator's seeded generator. Call with
// e.mu held.
func (e *Emulator) newID() string {
	var b [16]byte
	for i := 0; i < 16; i += 8 {
		v := e.rng.Uint64()
		for j := 0; j < 8; j++ {
			b[i+j] = byte(v >> (8 * j))
		}
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// tenant resolves a tenant by id or domain. Call with e.mu held.
func (e *Emulator) tenant(idOrDomain string) (*Tenant, bool) {
	if t, ok := e.tenants[idOrDomain]; ok {
		return t, true
	}
	if id, ok := e.domains[lower(idOrDomain)]; ok {
		return e.tenants[id], true
	}
	return nil, false
}

// record notes a change to group g in t, for delta and notifications. Call
// with e.mu held.
func (e *Emulator) record(t *Tenant, group string, kind changeKind, member string) {
	t.seq++
	t.changes = append(t.changes, change{seq: t.seq, group: group, kind: kind, member: member, at: e.now()})
	changeType := "updated"
	if kind == chPurged {
		changeType = "deleted"
	}
	e.queueNotifications(t, collGroups, group, changeType)
}

// recordUser notes a change to user u in t, for user delta and user change
// notifications: creation, property changes, soft delete and restore are
// notified as updated, a permanent delete as deleted
// (https://learn.microsoft.com/en-us/graph/change-notifications-overview:
// "Creation and soft-deletion of users also trigger the updated
// changeType"; https://learn.microsoft.com/en-us/graph/api/resources/subscription:
// "Use deleted to receive notifications when user or group is permanently
// deleted"). A property change with no property changed records nothing.
// Call with e.mu held.
func (e *Emulator) recordUser(t *Tenant, user string, kind userChangeKind, props []string) {
	if kind == uchProps && len(props) == 0 {
		return
	}
	t.seq++
	t.userChanges = append(t.userChanges, userChange{seq: t.seq, user: user, kind: kind, props: props, at: e.now()})
	changeType := "updated"
	if kind == uchPurged {
		changeType = "deleted"
	}
	e.queueNotifications(t, collUsers, user, changeType)
}
