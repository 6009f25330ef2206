package msgraph_test

import (
	"strings"
	"testing"

	"github.com/xtsync/xtsync/pkg/msgraph"
)

func TestResolveEndpointsClouds(t *testing.T) {
	for _, tc := range []struct{ cloud, graph, authority string }{
		{"", "https://graph.microsoft.com", "https://login.microsoftonline.com/"},
		{"global", "https://graph.microsoft.com", "https://login.microsoftonline.com/"},
		{"usgov", "https://graph.microsoft.us", "https://login.microsoftonline.us/"},
		{"USGov-DoD", "https://dod-graph.microsoft.us", "https://login.microsoftonline.us/"},
		{"china", "https://microsoftgraph.chinacloudapi.cn", "https://login.chinacloudapi.cn/"},
	} {
		ep, err := msgraph.ResolveEndpoints(msgraph.Config{Cloud: tc.cloud})
		if err != nil {
			t.Fatalf("cloud %q: %v", tc.cloud, err)
		}
		if ep.Graph != tc.graph || ep.Authority != tc.authority || !ep.InstanceDiscovery || ep.Scope != tc.graph+"/.default" {
			t.Errorf("cloud %q: %+v, want graph %s authority %s with instance discovery", tc.cloud, ep, tc.graph, tc.authority)
		}
		if "https://"+ep.GraphHost != tc.graph {
			t.Errorf("cloud %q: GraphHost %q", tc.cloud, ep.GraphHost)
		}
	}
}

func TestResolveEndpointsOverrides(t *testing.T) {
	ep, err := msgraph.ResolveEndpoints(msgraph.Config{Cloud: "usgov", GraphEndpoint: "https://127.0.0.1:4431/", AuthorityHost: "https://127.0.0.1:4431"})
	if err != nil {
		t.Fatal(err)
	}
	if ep.Graph != "https://127.0.0.1:4431" || ep.GraphHost != "127.0.0.1" || ep.Authority != "https://127.0.0.1:4431/" || ep.InstanceDiscovery {
		t.Errorf("overrides: %+v", ep)
	}
	if ep.Scope != "https://graph.microsoft.us/.default" {
		t.Errorf("scope %q: the token is still for the cloud's Graph", ep.Scope)
	}
	ep, err = msgraph.ResolveEndpoints(msgraph.Config{GraphEndpoint: "http://localhost:8080"})
	if err != nil || ep.Graph != "http://localhost:8080" || !ep.InstanceDiscovery {
		t.Errorf("plain http on loopback: %+v, %v", ep, err)
	}
}

func TestNewRejectsBadConfig(t *testing.T) {
	good := msgraph.Config{TenantID: "6f1c2b9e-3d4a-4c8e-9b1f-2a7d5e8c0b31", ClientID: "0b7e4a52-8c1d-4f3a-a6e2-5d9c1b7f3e20", ClientSecret: "s"}
	if _, err := msgraph.New(good, nil); err != nil {
		t.Fatalf("good config: %v", err)
	}
	for _, tc := range []struct {
		name  string
		edit  func(*msgraph.Config)
		wants []string
	}{
		{"tenant", func(c *msgraph.Config) { c.TenantID = "contoso.onmicrosoft.com" }, []string{"tenant id", "not a GUID"}},
		{"client", func(c *msgraph.Config) { c.ClientID = "" }, []string{"client id", "not a GUID"}},
		{"secret", func(c *msgraph.Config) { c.ClientSecret = "" }, []string{"client secret is empty"}},
		{"cloud", func(c *msgraph.Config) { c.Cloud = "germany" }, []string{`cloud "germany" is unknown`, "usgov-dod"}},
		{"http", func(c *msgraph.Config) { c.GraphEndpoint = "http://graph.example.com" }, []string{"graph endpoint", "loopback"}},
		{"version", func(c *msgraph.Config) { c.GraphEndpoint = "https://graph.microsoft.com/v1.0" }, []string{"graph endpoint", "without a path"}},
		{"relative", func(c *msgraph.Config) { c.GraphEndpoint = "graph.microsoft.com" }, []string{"graph endpoint", "absolute URL"}},
		{"authority", func(c *msgraph.Config) { c.AuthorityHost = "http://127.0.0.1:4431" }, []string{"authority host", "https"}},
		{"several", func(c *msgraph.Config) { c.TenantID, c.ClientID = "x", "y" }, []string{"tenant id", "client id"}},
	} {
		cfg := good
		tc.edit(&cfg)
		_, err := msgraph.New(cfg, nil)
		if err == nil {
			t.Errorf("%s: accepted %+v", tc.name, cfg)
			continue
		}
		for _, w := range tc.wants {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: error %q does not mention %q", tc.name, err, w)
			}
		}
	}
}
