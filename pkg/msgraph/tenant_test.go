package msgraph_test

import (
	"testing"

	"github.com/xtsync/xtsync/pkg/engine"
	"github.com/xtsync/xtsync/pkg/graphemu"
)

// TestReadTenant reads the sample source tenant whole: the organization,
// 58 members and a guest, and the eleven groups with their direct members,
// one request per page and per member list.
func TestReadTenant(t *testing.T) {
	t.Parallel()
	em := startEmulator(t)
	c := newClient(t, sourceConfig(em))
	tn, err := c.ReadTenant(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if tn.ID != graphemu.SampleSourceTenant || tn.Name != "Contoso" || tn.Domain != graphemu.SampleSourceDomain {
		t.Errorf("organization %q %q %q, want %s Contoso %s", tn.ID, tn.Name, tn.Domain, graphemu.SampleSourceTenant, graphemu.SampleSourceDomain)
	}
	guests := 0
	for _, u := range tn.Users {
		if u.UserType == "Guest" {
			guests++
		}
	}
	if len(tn.Users) != 59 || guests != 1 {
		t.Errorf("%d users, %d guests, want 59 and 1", len(tn.Users), guests)
	}
	byName := map[string]int{}
	nested := map[string][]string{}
	for _, g := range tn.Groups {
		byName[g.DisplayName] = len(g.Members)
		for _, m := range g.Members {
			if m.Type == engine.TypeGroup {
				nested[g.DisplayName] = append(nested[g.DisplayName], m.DisplayName)
			}
		}
	}
	if len(tn.Groups) != 11 || byName["Engineering"] != 16 || byName["Platform Team"] != 4 {
		t.Errorf("groups %v, want 11 with Engineering 16 and Platform Team 4 members", byName)
	}
	if len(nested) != 1 || len(nested["Platform Team"]) != 1 || nested["Platform Team"][0] != "SRE" {
		t.Errorf("nested groups %v, want SRE in Platform Team only", nested)
	}
	routes := em.Stats(graphemu.SampleSourceTenant).Routes
	if routes["GET /organization"] != 1 || routes["GET /users"] != 1 || routes["GET /groups"] != 1 || routes["GET /groups/{id}/members"] != 11 {
		t.Errorf("routes %v, want one organization, users and groups read, and 11 member lists", routes)
	}
}
