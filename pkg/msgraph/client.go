package msgraph

import (
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"slices"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	kiotaauth "github.com/microsoft/kiota-authentication-azure-go"
	khttp "github.com/microsoft/kiota-http-go"
	msgraphsdk "github.com/microsoftgraph/msgraph-sdk-go"
	msgraphcore "github.com/microsoftgraph/msgraph-sdk-go-core"

	"github.com/xtsync/xtsync/pkg/engine"
)

// defaultTimeout bounds one Graph attempt when the configured HTTP client
// sets no timeout (kiota's default client uses the same 100 s).
const defaultTimeout = 100 * time.Second

// Config is how to reach and sign in to one tenant's Microsoft Graph with an
// app registration's client secret.
type Config struct {
	// TenantID is the Entra tenant id (a GUID).
	TenantID string
	// ClientID is the app registration's application (client) id (a GUID).
	ClientID string
	// ClientSecret is the app registration's client secret value.
	ClientSecret string
	// Cloud is "global" (the default when empty), "usgov", "usgov-dod" or
	// "china"; it picks the Graph and sign-in hosts.
	Cloud string
	// GraphEndpoint overrides the cloud's Graph root, e.g.
	// https://127.0.0.1:4431 for the emulator (no /v1.0; https, or http on
	// loopback only).
	GraphEndpoint string
	// AuthorityHost overrides the cloud's Entra authority, e.g.
	// https://login.microsoftonline.com (https only).
	AuthorityHost string
	// HTTPClient, optional, carries custom transport settings such as a
	// private CA; its transport is used for both sign-in and Graph, and its
	// Timeout bounds each Graph attempt.
	HTTPClient *http.Client
	// Retry tunes the retries of throttled and unavailable answers; the
	// zero value takes the defaults.
	Retry RetryPolicy
	// Section is the configuration section the tenant comes from
	// ("source" or "target"), named in errors that say what to fix.
	Section string
	// Pace is the client-side rate limiter's budgets (writes, invitations,
	// reads), under Graph's throttling limits; the zero value takes the
	// defaults, NoPace() turns pacing off.
	Pace Pace
	// Observer, optional, is told of every request attempt and retry
	// (metrics), under Section's name.
	Observer Observer
}

// Observer is told of Graph requests (pkg/metrics.Set is one).
type Observer interface {
	// GraphRequest is one attempt and its answer's status (0: none).
	GraphRequest(tenant, method, route string, status int)
	// GraphRetry is one request sent again.
	GraphRetry(tenant string)
}

// Client is a signed-in Microsoft Graph client for one tenant: the
// msgraph-sdk-go service client over a request adapter whose HTTP pipeline
// is kiota's default middleware with our Retry in place of kiota's retry
// handler, paced by a Pacer before each attempt, and a Counter of the
// requests sent.
type Client struct {
	cred      *signIn
	sdk       *msgraphsdk.GraphServiceClient
	adapter   *msgraphsdk.GraphRequestAdapter
	counter   *Counter
	pacer     *Pacer
	endpoints Endpoints
}

// New checks cfg and builds a Client; no request is sent until the first
// call. log (discarded when nil) receives retry lines.
func New(cfg Config, log *slog.Logger) (*Client, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	ep, err := checkConfig(cfg)
	if err != nil {
		return nil, err
	}
	credOpts := &azidentity.ClientSecretCredentialOptions{
		ClientOptions: azcore.ClientOptions{
			Cloud: cloud.Configuration{ActiveDirectoryAuthorityHost: ep.Authority},
		},
		DisableInstanceDiscovery: !ep.InstanceDiscovery,
	}
	if cfg.HTTPClient != nil {
		credOpts.Transport = cfg.HTTPClient
	}
	cred, err := azidentity.NewClientSecretCredential(cfg.TenantID, cfg.ClientID, cfg.ClientSecret, credOpts)
	if err != nil {
		return nil, fmt.Errorf("msgraph: client secret credential: %w", err)
	}
	signed := &signIn{cred: cred, section: cfg.Section, authority: ep.Authority, tenantID: cfg.TenantID, clientID: cfg.ClientID}
	auth, err := kiotaauth.NewAzureIdentityAuthenticationProviderWithScopesAndValidHosts(signed, []string{ep.Scope}, []string{ep.GraphHost})
	if err != nil {
		return nil, fmt.Errorf("msgraph: authentication provider: %w", err)
	}

	var base http.RoundTripper = khttp.GetDefaultTransport()
	policy := cfg.Retry
	if policy.AttemptTimeout == 0 {
		policy.AttemptTimeout = defaultTimeout
	}
	if cfg.HTTPClient != nil {
		if cfg.HTTPClient.Transport != nil {
			base = cfg.HTTPClient.Transport
		}
		if cfg.HTTPClient.Timeout > 0 && cfg.Retry.AttemptTimeout == 0 {
			policy.AttemptTimeout = cfg.HTTPClient.Timeout
		}
	}
	counter := NewCounter(base)
	counter.observe(cfg.Section, cfg.Observer)
	hinted := &denied{next: counter, section: cfg.Section, clientID: cfg.ClientID, tenantID: cfg.TenantID}
	pacer := NewPacer(hinted, cfg.Pace)
	retry := NewRetry(hinted, policy, log)
	retry.pace = pacer
	retry.tenant, retry.obs = cfg.Section, cfg.Observer
	clientOpts := msgraphsdk.GetDefaultClientOptions()
	httpClient := &http.Client{
		Transport: khttp.NewCustomTransportWithParentTransport(retry, graphMiddlewares(&clientOpts)...),
		// kiota's redirect handler follows redirects itself.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	adapter, err := msgraphsdk.NewGraphRequestAdapterWithParseNodeFactoryAndSerializationWriterFactoryAndHttpClient(auth, nil, nil, httpClient)
	if err != nil {
		return nil, fmt.Errorf("msgraph: request adapter: %w", err)
	}
	// Before the service client is built: it copies the base URL into
	// every request builder.
	adapter.SetBaseUrl(ep.Graph + "/v1.0")
	return &Client{cred: signed, sdk: msgraphsdk.NewGraphServiceClient(adapter), adapter: adapter, counter: counter, pacer: pacer, endpoints: ep}, nil
}

// checkConfig reports every problem with cfg, naming the field, and
// resolves its endpoints.
func checkConfig(cfg Config) (Endpoints, error) {
	var errs []error
	if !engine.IsGUID(cfg.TenantID) {
		errs = append(errs, fmt.Errorf("tenant id (a %d-character value, not shown) is not a GUID (the Directory (tenant) ID of the app registration)", len(cfg.TenantID)))
	}
	if !engine.IsGUID(cfg.ClientID) {
		errs = append(errs, fmt.Errorf("client id (a %d-character value, not shown) is not a GUID (the Application (client) ID of the app registration)", len(cfg.ClientID)))
	}
	if cfg.ClientSecret == "" {
		errs = append(errs, errors.New("client secret is empty"))
	}
	ep, err := ResolveEndpoints(cfg)
	if err != nil {
		errs = append(errs, err)
	}
	for _, r := range []struct {
		name string
		v    float64
	}{{"pace write rate", cfg.Pace.WriteRate}, {"pace invitation rate", cfg.Pace.InvitationRate}, {"pace read rate", cfg.Pace.ReadRate}} {
		if math.IsNaN(r.v) || math.IsInf(r.v, 0) {
			errs = append(errs, fmt.Errorf("%s %v is not a finite number (0 for the default, negative for no pacing)", r.name, r.v))
		}
	}
	if len(errs) > 0 {
		return Endpoints{}, fmt.Errorf("msgraph: bad config: %w", errors.Join(errs...))
	}
	return ep, nil
}

// graphMiddlewares is msgraph-sdk-go's default middleware (its telemetry and
// URL-replace handlers, then kiota's defaults) without kiota's
// RetryHandler, which Retry replaces under the pipeline. kiota builds its
// defaults from a map, so the order is made fixed here.
func graphMiddlewares(opts *msgraphcore.GraphClientOptions) []khttp.Middleware {
	all := msgraphcore.GetDefaultMiddlewaresWithOptions(opts)
	out := slices.DeleteFunc(slices.Clone(all), func(m khttp.Middleware) bool {
		switch m.(type) {
		case *khttp.RetryHandler, khttp.RetryHandler:
			return true
		}
		return false
	})
	// Request bodies are sent uncompressed: they are small (at most 20
	// member references, a group or user PATCH), and kiota's handler
	// builds a new gzip writer (about 800 KB of deflate state) for each
	// one, most of an initial sync's allocation and much of its CPU.
	for i, m := range out {
		if _, ok := m.(*khttp.CompressionHandler); ok {
			out[i] = khttp.NewCompressionHandlerWithOptions(*khttp.NewCompressionOptionsReference(false))
		}
	}
	slices.SortStableFunc(out, func(a, b khttp.Middleware) int { return middlewareRank(a) - middlewareRank(b) })
	return out
}

// middlewareRank orders the middleware outermost first: headers are set
// before the request is redirected, compressed last so what is sent (and
// replayed by Retry) is the compressed body.
func middlewareRank(m khttp.Middleware) int {
	switch m.(type) {
	case *msgraphcore.GraphTelemetryHandler:
		return 0
	case *khttp.UrlReplaceHandler:
		return 1
	case *khttp.UserAgentHandler:
		return 2
	case *khttp.ParametersNameDecodingHandler:
		return 3
	case *khttp.HeadersInspectionHandler:
		return 4
	case *khttp.RedirectHandler:
		return 5
	case *khttp.CompressionHandler:
		return 6
	}
	return 7
}

// SDK is the msgraph-sdk-go service client.
func (c *Client) SDK() *msgraphsdk.GraphServiceClient { return c.sdk }

// Adapter is the request adapter the service client uses (for $batch and
// page iteration with msgraph-sdk-go-core).
func (c *Client) Adapter() *msgraphsdk.GraphRequestAdapter { return c.adapter }

// Counter counts the Graph requests sent, every retry included.
func (c *Client) Counter() *Counter { return c.counter }

// PaceStats are the pacer's counters: how long requests waited in it, the
// 429s received, and each paced class's current rate.
func (c *Client) PaceStats() PaceStats { return c.pacer.Stats() }

// Endpoints are the resolved Graph and sign-in endpoints.
func (c *Client) Endpoints() Endpoints { return c.endpoints }
