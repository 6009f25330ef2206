package msgraph_test

import (
	"maps"
	"net/http"
	"testing"

	"github.com/xtsync/xtsync/pkg/msgraph"
)

func TestRouteTemplate(t *testing.T) {
	const g, u = "6f1c2b9e-3d4a-4c8e-9b1f-2a7d5e8c0b31", "0B7E4A52-8C1D-4F3A-A6E2-5D9C1B7F3E20"
	for in, want := range map[string]string{
		"/v1.0/groups":                                       "/groups",
		"/v1.0/groups/" + g:                                  "/groups/{id}",
		"/v1.0/groups/" + g + "/members":                     "/groups/{id}/members",
		"/v1.0/groups/" + g + "/members/" + u + "/$ref":      "/groups/{id}/members/{id}/$ref",
		"/v1.0/groups/delta()":                               "/groups/delta",
		"/v1.0/groups/microsoft.graph.delta()":               "/groups/delta",
		"/v1.0/$batch":                                       "/$batch",
		"/v1.0/users/adele@contoso.onmicrosoft.com":          "/users/{id}",
		"/beta/directory/deletedItems/" + g + "/restore":     "/directory/deletedItems/{id}/restore",
		"/v1.0/directory/deletedItems/microsoft.graph.group": "/directory/deletedItems/microsoft.graph.group",
		"/v1.0/": "/",
	} {
		if got := msgraph.RouteTemplate(in); got != want {
			t.Errorf("RouteTemplate(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestCounter(t *testing.T) {
	c := msgraph.NewCounter(&script{})
	for _, path := range []string{"/v1.0/groups", "/v1.0/groups", "/v1.0/groups/6f1c2b9e-3d4a-4c8e-9b1f-2a7d5e8c0b31"} {
		req, _ := http.NewRequestWithContext(t.Context(), "GET", "https://graph.microsoft.com"+path, nil)
		if _, err := c.RoundTrip(req); err != nil {
			t.Fatal(err)
		}
	}
	want := map[string]int{"GET /groups": 2, "GET /groups/{id}": 1}
	if got := c.Snapshot(); !maps.Equal(got, want) || c.Total() != 3 {
		t.Errorf("snapshot %v total %d, want %v", got, c.Total(), want)
	}
	if got := c.Reset(); !maps.Equal(got, want) || c.Total() != 0 || len(c.Snapshot()) != 0 {
		t.Errorf("reset returned %v, left %v", got, c.Snapshot())
	}
}
