package main

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/xtsync/xtsync/pkg/graphemu"
)

// demoReport is what `xtsync demo` prints.
type demoReport struct {
	emulatorURL string
	source      tenantView
	target      tenantView
	sourceStats graphemu.Stats
	targetStats graphemu.Stats
}

func printDemoReport(w io.Writer, r demoReport) {
	fmt.Fprintln(w, "xtsync demo")
	fmt.Fprintln(w, "===========")
	fmt.Fprintln(w, "It starts the local Graph emulator with two sample tenants, signs in to each with")
	fmt.Fprintln(w, "client credentials over HTTPS and reads them; then the sync engine mirrors the")
	fmt.Fprintln(w, "source's groups into the target and answers a story of changes.")
	fmt.Fprintf(w, "\nEmulator: %s (Graph at /v1.0, sign-in at /{tenant}/oauth2/v2.0/token)\n", r.emulatorURL)

	printTenant(w, "Source", r.source)
	printTenant(w, "Target", r.target)
	if len(r.target.Groups) == 0 && r.target.Members+r.target.Guests == 0 {
		fmt.Fprintln(w, "  Empty: this is where the sync engine creates the mirrored groups.")
	}

	fmt.Fprintln(w, "\nGraph requests made to read the tenants (counted by the emulator per route):")
	printStats(w, r.source.Name, r.sourceStats)
	printStats(w, r.target.Name, r.targetStats)
	fmt.Fprintln(w, "  (sign-in token requests are not Graph calls and are not counted)")

}

func printTenant(w io.Writer, role string, t tenantView) {
	fmt.Fprintf(w, "\n%s tenant: %s (%s, id %s)\n", role, t.Name, t.Domain, t.ID)
	fmt.Fprintf(w, "  %s (%d members, %s), %s\n", plural(t.Members+t.Guests, "user"), t.Members, plural(t.Guests, "guest"), plural(len(t.Groups), "group"))
	if len(t.Groups) == 0 {
		return
	}
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "  GROUP\tKIND\tMEMBERS\tNESTED GROUPS\tGUESTS")
	for _, g := range t.Groups {
		nested := "-"
		if len(g.Nested) > 0 {
			nested = strings.Join(g.Nested, ", ")
		}
		fmt.Fprintf(tw, "  %s\t%s\t%d\t%s\t%d\n", g.Name, g.Kind, g.Members, nested, g.Guests)
	}
	_ = tw.Flush()
}

func printStats(w io.Writer, tenant string, s graphemu.Stats) {
	fmt.Fprintf(w, "  %s\n", tenant)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, route := range slices.Sorted(maps.Keys(s.Routes)) {
		fmt.Fprintf(tw, "    %s\t%4d\n", route, s.Routes[route])
	}
	fmt.Fprintf(tw, "    total\t%4d\n", s.Ops())
	_ = tw.Flush()
	if s.Throttled > 0 || s.ServerErrors > 0 {
		fmt.Fprintf(w, "    (%d throttled, %d server errors)\n", s.Throttled, s.ServerErrors)
	}
}

// plural writes n and noun, with an s unless n is 1.
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
