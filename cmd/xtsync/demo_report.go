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
	fmt.Fprintln(w, "The sync engine is not built yet: this demo copies nothing. It starts the local")
	fmt.Fprintln(w, "Graph emulator with two sample tenants, signs in to each with client credentials")
	fmt.Fprintln(w, "over HTTPS, and reads them as the engine will.")
	fmt.Fprintf(w, "\nEmulator: %s (Graph at /v1.0, sign-in at /{tenant}/oauth2/v2.0/token)\n", r.emulatorURL)

	printTenant(w, "Source", r.source)
	printTenant(w, "Target", r.target)
	if len(r.target.Groups) == 0 && r.target.Members+r.target.Guests == 0 {
		fmt.Fprintln(w, "  Empty: this is where the sync engine will create the mirrored groups.")
	}

	fmt.Fprintln(w, "\nGraph requests made by this demo (counted by the emulator per route):")
	printStats(w, r.source.Name, r.sourceStats)
	printStats(w, r.target.Name, r.targetStats)
	fmt.Fprintln(w, "  (sign-in token requests are not Graph calls and are not counted)")

	fmt.Fprintln(w, "\nNot built yet: the sync engine, `xtsync serve` / `xtsync reconcile`, the AWS")
	fmt.Fprintln(w, "functions and the CDK app. Run `xtsync emulator` to keep an emulator up for your")
	fmt.Fprintln(w, "own requests (docs/emulator.md).")
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
