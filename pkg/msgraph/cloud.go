package msgraph

import (
	"fmt"
	"net"
	"net/url"
	"strings"
)

// Cloud is a Microsoft cloud: where its Graph API and its Entra sign-in live.
type Cloud struct {
	// Name is how configuration names the cloud: "global", "usgov",
	// "usgov-dod" or "china".
	Name string
	// GraphHost is the Microsoft Graph host, e.g. graph.microsoft.com.
	GraphHost string
	// LoginHost is the Entra ID authority host, e.g. login.microsoftonline.com.
	LoginHost string
}

// Clouds lists the national clouds xtsync knows, the global cloud first.
func Clouds() []Cloud {
	return []Cloud{
		{Name: "global", GraphHost: "graph.microsoft.com", LoginHost: "login.microsoftonline.com"},
		{Name: "usgov", GraphHost: "graph.microsoft.us", LoginHost: "login.microsoftonline.us"},
		{Name: "usgov-dod", GraphHost: "dod-graph.microsoft.us", LoginHost: "login.microsoftonline.us"},
		{Name: "china", GraphHost: "microsoftgraph.chinacloudapi.cn", LoginHost: "login.chinacloudapi.cn"},
	}
}

// LookupCloud finds a cloud by name, case-insensitively; the empty name is
// the global cloud.
func LookupCloud(name string) (Cloud, bool) {
	if name == "" {
		name = "global"
	}
	for _, c := range Clouds() {
		if strings.EqualFold(c.Name, name) {
			return c, true
		}
	}
	return Cloud{}, false
}

// wellKnownAuthority reports whether host is a public Entra authority, for
// which azidentity's instance discovery works. Any other authority (a
// private cloud, a local emulator) needs DisableInstanceDiscovery.
func wellKnownAuthority(host string) bool {
	host = strings.ToLower(host)
	for _, c := range Clouds() {
		if host == c.LoginHost {
			return true
		}
	}
	return host == "login.microsoft.com" || host == "login.windows.net"
}

// Endpoints are where a Config's Graph calls and sign-ins go.
type Endpoints struct {
	// Cloud is the configured cloud (global when unset).
	Cloud Cloud
	// Graph is the Graph root without the version, e.g.
	// https://graph.microsoft.com; requests go to Graph+"/v1.0".
	Graph string
	// GraphHost is Graph's host name without port: the only host the
	// authentication provider sends tokens to.
	GraphHost string
	// Authority is the authority host URL with a trailing slash, e.g.
	// https://login.microsoftonline.com/, as azidentity takes it.
	Authority string
	// Scope is the token scope: the cloud's Graph resource + "/.default".
	Scope string
	// InstanceDiscovery is false when the authority is not a well-known
	// Entra host (azidentity's DisableInstanceDiscovery is its negation).
	InstanceDiscovery bool
}

// ResolveEndpoints resolves a Config to its Graph endpoint and authority
// host: the cloud's defaults unless GraphEndpoint or AuthorityHost override
// them. An override must be an https root URL (no path, query or user
// info); GraphEndpoint may use plain http on a loopback host.
func ResolveEndpoints(cfg Config) (Endpoints, error) {
	c, found := LookupCloud(cfg.Cloud)
	if !found {
		names := make([]string, 0, 4)
		for _, k := range Clouds() {
			names = append(names, k.Name)
		}
		return Endpoints{}, fmt.Errorf("cloud %q is unknown: use one of %s", cfg.Cloud, strings.Join(names, ", "))
	}
	ep := Endpoints{Cloud: c, Graph: "https://" + c.GraphHost, GraphHost: c.GraphHost, Authority: "https://" + c.LoginHost + "/", Scope: "https://" + c.GraphHost + "/.default"}
	if cfg.GraphEndpoint != "" {
		u, err := rootURL("graph endpoint", cfg.GraphEndpoint, true)
		if err != nil {
			return Endpoints{}, err
		}
		ep.Graph, ep.GraphHost = u.Scheme+"://"+u.Host, strings.ToLower(u.Hostname())
	}
	if cfg.AuthorityHost != "" {
		u, err := rootURL("authority host", cfg.AuthorityHost, false)
		if err != nil {
			return Endpoints{}, err
		}
		ep.Authority = u.Scheme + "://" + u.Host + "/"
	}
	au, _ := url.Parse(ep.Authority)
	ep.InstanceDiscovery = wellKnownAuthority(au.Hostname())
	return ep, nil
}

// rootURL checks an endpoint override: an absolute https URL with no path
// (a trailing slash is fine); plain http only on loopback when allowHTTP.
func rootURL(field, raw string, allowHTTP bool) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("%s %q is not a URL: %w", field, raw, err)
	}
	if u.Host == "" || u.Hostname() == "" {
		return nil, fmt.Errorf("%s %q: want an absolute URL such as https://host", field, raw)
	}
	switch {
	case u.Scheme == "https":
	case u.Scheme == "http" && allowHTTP && isLoopback(u.Hostname()):
	case u.Scheme == "http" && allowHTTP:
		return nil, fmt.Errorf("%s %q: plain http is only allowed on a loopback host; use https", field, raw)
	default:
		return nil, fmt.Errorf("%s %q: scheme must be https", field, raw)
	}
	if u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("%s %q: must not carry user info, a query or a fragment", field, raw)
	}
	if p := strings.TrimRight(u.Path, "/"); p != "" {
		return nil, fmt.Errorf("%s %q: give the root URL without a path (the client adds /v1.0 itself), not %q", field, raw, u.Path)
	}
	return u, nil
}

// isLoopback reports whether host is localhost or a loopback IP.
func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
