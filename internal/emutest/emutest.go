// Package emutest starts the Graph emulator with the sample tenants for
// tests that talk to it as a user of xtsync would (a config file naming its
// URL and CA file).
package emutest

import (
	"path/filepath"
	"slices"
	"testing"

	"github.com/xtsync/xtsync/pkg/graphemu"
)

// StartSample starts an emulator holding the sample seed on a free loopback
// port, closed when the test ends, and writes its CA to a file in a
// temporary directory; it returns the emulator and the CA file's path.
func StartSample(t testing.TB, opts graphemu.Options) (*graphemu.Emulator, string) {
	t.Helper()
	em := graphemu.New(opts)
	if err := em.Load(graphemu.SampleSeed()); err != nil {
		t.Fatal(err)
	}
	if err := em.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { em.Close() })
	ca := filepath.Join(t.TempDir(), "ca.pem")
	if err := em.CA().WriteFile(ca); err != nil {
		t.Fatal(err)
	}
	return em, ca
}

// MembersOutside returns the members of the sample source group that
// xtsync syncs (members, not guests, with a mail address) and that are not
// in the group other, in member order; it fails the test when there are
// fewer than n.
func MembersOutside(t testing.TB, em *graphemu.Emulator, group, other string, n int) []string {
	t.Helper()
	g, _ := em.Group(graphemu.SampleSourceTenant, group)
	o, _ := em.Group(graphemu.SampleSourceTenant, other)
	var out []string
	for _, id := range g.Members {
		if u, ok := em.User(graphemu.SampleSourceTenant, id); ok && u.UserType != "Guest" && u.Mail != "" && !slices.Contains(o.Members, id) {
			out = append(out, id)
		}
	}
	if len(out) < n {
		t.Fatalf("%d synced members of %s outside %s, want %d", len(out), g.DisplayName, o.DisplayName, n)
	}
	return out
}
