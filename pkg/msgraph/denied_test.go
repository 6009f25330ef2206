package msgraph_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/xtsync/xtsync/pkg/engine"
	"github.com/xtsync/xtsync/pkg/graphemu"
	"github.com/xtsync/xtsync/pkg/msgraph"
)

// TestDeniedNamesThePermission: a target app without User.Invite.All, and
// without Group.ReadWrite.All, is refused by Graph with a bare "Insufficient
// privileges"; the error the operator reads names the permission to grant,
// the configuration section, the app and the tenant, for a request and for
// a $batch item alike.
func TestDeniedNamesThePermission(t *testing.T) {
	em := startEmulator(t)
	const id, secret = "6e2d3c4b-5a6f-4b7c-8d9e-0f1a2b3c4d5e", "limited-secret"
	tenant := graphemu.SampleTargetTenant
	if err := em.AddApp(tenant, graphemu.App{ClientID: id, Secret: secret, Permissions: []string{"User.Read.All", "GroupMember.Read.All"}}); err != nil {
		t.Fatal(err)
	}
	c := newClient(t, msgraph.Config{
		Section: "target", TenantID: tenant, ClientID: id, ClientSecret: secret,
		GraphEndpoint: em.URL(), AuthorityHost: em.URL(), HTTPClient: em.HTTPClient(),
	})
	dst := msgraph.NewTarget(c, msgraph.SchemaOf(engine.Options{}))
	ctx := context.Background()

	_, err := dst.Invite(ctx, engine.Invitation{Email: "someone@partner.example", DisplayName: "Someone", UserType: "Guest", RedirectURL: "https://myapps.microsoft.com"})
	for _, want := range []string{"Insufficient privileges", "User.Invite.All", "target.client_id", id, tenant, "docs/deploy.md"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("invite: %v; want it to name %q", err, want)
		}
	}

	// Removals go in a $batch: each denied item names the permission.
	targetGroup, err := em.CreateGroup(tenant, graphemu.Group{DisplayName: "Mirror", MailNickname: "mirror", SecurityEnabled: true})
	if err != nil {
		t.Fatal(err)
	}
	u, err := em.CreateUser(tenant, graphemu.User{DisplayName: "Member", UserPrincipalName: "member@fabrikam.example", Mail: "member@fabrikam.example"})
	if err != nil {
		t.Fatal(err)
	}
	if err := em.AddMember(tenant, targetGroup.ID, u.ID); err != nil {
		t.Fatal(err)
	}
	failed, err := dst.RemoveMembers(ctx, targetGroup.ID, []string{u.ID})
	got := err
	if got == nil {
		got = failed[u.ID]
	}
	if got == nil || !strings.Contains(got.Error(), "Group.ReadWrite.All") || !strings.Contains(got.Error(), "target.client_id") {
		t.Errorf("remove members: %v, %v; want the error to name Group.ReadWrite.All and target.client_id", failed, err)
	}
}

func TestNeededPermission(t *testing.T) {
	tests := []struct{ section, method, route, want string }{
		{"source", "GET", "/groups/{id}/members", "Group.Read.All"},
		{"source", "GET", "/groups/delta", "Group.Read.All"},
		{"source", "GET", "/users", "User.Read.All"},
		{"target", "GET", "/groups", "Group.ReadWrite.All"},
		{"target", "POST", "/groups", "Group.ReadWrite.All"},
		{"target", "DELETE", "/groups/{id}/members/{id}/$ref", "Group.ReadWrite.All"},
		{"target", "POST", "/directory/deletedItems/{id}/restore", "Group.ReadWrite.All"},
		{"target", "POST", "/invitations", "User.Invite.All"},
		{"target", "PATCH", "/users/{id}", "User.ReadWrite.All"},
		{"target", "GET", "/users", "User.Read.All"},
	}
	for _, tt := range tests {
		if got := msgraph.NeededPermission(tt.section, tt.method, tt.route); got != tt.want {
			t.Errorf("%s %s %s: got %q, want %q", tt.section, tt.method, tt.route, got, tt.want)
		}
		if !slices.ContainsFunc(msgraph.RequiredPermissions(tt.section), func(r msgraph.Required) bool { return r.Name == tt.want }) {
			t.Errorf("%s: %s is not among the %s app's required permissions", tt.route, tt.want, tt.section)
		}
	}
}

// TestRefusedTokenNamesTheKeys: a Graph that refuses the token (401
// InvalidAuthenticationToken) is told with the keys to check.
func TestRefusedTokenNamesTheKeys(t *testing.T) {
	em := startEmulator(t)
	graph := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = w.Write([]byte(`{"error":{"code":"InvalidAuthenticationToken","message":"Access token validation failure. Invalid audience."}}`))
	}))
	t.Cleanup(graph.Close)
	cfg := sourceConfig(em)
	cfg.Section = "source"
	cfg.GraphEndpoint = graph.URL
	c := newClient(t, cfg)
	_, err := msgraph.NewSource(c, msgraph.SchemaOf(engine.Options{})).Groups(context.Background(), []string{"3f0a3c1e-6d2b-4f7a-9a51-0c8e2b7d4a10"})
	for _, want := range []string{"Invalid audience", "source.cloud", "source.graph_endpoint", "clock"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v: want it to name %q", err, want)
		}
	}
}
