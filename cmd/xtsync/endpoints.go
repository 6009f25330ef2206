package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/xtsync/xtsync/pkg/graphemu"
)

// printEndpoints tells how to reach a running emulator: Graph base URL,
// sign-in authority, CA file, each tenant's identity and app credentials,
// and an example curl session.
func printEndpoints(w io.Writer, em *graphemu.Emulator, caPath string, seed graphemu.Seed) {
	fmt.Fprintf(w, "Graph emulator (local, for tests and demos; not Microsoft's service)\n")
	fmt.Fprintf(w, "  Graph base URL:    %s\n", em.GraphURL())
	fmt.Fprintf(w, "  Sign-in authority: %s  (token endpoint: %s/{tenant}/oauth2/v2.0/token)\n", em.URL(), em.URL())
	fmt.Fprintf(w, "  Control API:       %s/_emulator/  (no authentication: loopback only)\n", em.URL())
	fmt.Fprintf(w, "  CA certificate:    %s  (trust it to reach the emulator over HTTPS)\n", caPath)
	fmt.Fprintf(w, "\nTenants (the app credentials are the emulator's own, valid nowhere else):\n")
	for _, t := range seed.Tenants {
		name := t.DisplayName
		if name == "" {
			name = t.Domain
		}
		fmt.Fprintf(w, "  %s\n", name)
		fmt.Fprintf(w, "    tenant id:     %s\n", strings.ToLower(t.ID))
		fmt.Fprintf(w, "    domain:        %s\n", t.Domain)
		if len(t.Apps) == 0 {
			fmt.Fprintf(w, "    app:           none (add one to the seed to sign in)\n")
		}
		for _, a := range t.Apps {
			fmt.Fprintf(w, "    client id:     %s\n", a.ClientID)
			fmt.Fprintf(w, "    client secret: %s\n", a.Secret)
		}
	}
	if t, a, found := firstApp(seed); found {
		fmt.Fprintf(w, "\nTry it (%s):\n", t.Domain)
		fmt.Fprintf(w, "  TOKEN=$(curl -s --cacert %s \\\n", shellQuote(caPath))
		fmt.Fprintf(w, "    -d grant_type=client_credentials -d client_id=%s -d client_secret=%s \\\n", shellQuote(a.ClientID), shellQuote(a.Secret))
		fmt.Fprintf(w, "    -d scope=https://graph.microsoft.com/.default \\\n")
		fmt.Fprintf(w, "    %s/%s/oauth2/v2.0/token | sed -E 's/.*\"access_token\":\"([^\"]+)\".*/\\1/')\n", em.URL(), strings.ToLower(t.ID))
		fmt.Fprintf(w, "  curl -s --cacert %s -H \"Authorization: Bearer $TOKEN\" '%s/groups?$select=id,displayName'\n", shellQuote(caPath), em.GraphURL())
	}
}

// firstApp finds the first tenant of the seed with an app registration.
func firstApp(seed graphemu.Seed) (graphemu.TenantSeed, graphemu.App, bool) {
	for _, t := range seed.Tenants {
		if len(t.Apps) > 0 {
			return t, t.Apps[0], true
		}
	}
	return graphemu.TenantSeed{}, graphemu.App{}, false
}

// shellQuote quotes s for a POSIX shell when it holds anything but plain
// characters.
func shellQuote(s string) string {
	plain := s != ""
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./:=@%+,", r)) {
			plain = false
			break
		}
	}
	if plain {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
