package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/xtsync/xtsync/pkg/config"
	"github.com/xtsync/xtsync/pkg/engine"
	"github.com/xtsync/xtsync/pkg/msgraph"
)

const checkAbout = `Check tries the configuration as a run would, and writes nothing: it signs
in to both tenants, reads the Microsoft Graph application permissions each
app was granted (from its access token) against those xtsync needs, reads
every group of scope.groups from the source (it must exist and be a
security group), lists the mirrors in the target, and, when
server.public_url is set, sends it Graph's validation handshake (xtsync
serve must be running there). One line per check; a failed one says what
to fix. Exit status: 0 every check passed, 1 one failed, 2 bad flags or
configuration.`

// checker writes one line per check and counts the failures.
type checker struct {
	w      io.Writer
	failed int
}

func (c *checker) ok(format string, args ...any) {
	fmt.Fprintf(c.w, "ok    "+format+"\n", args...)
}

func (c *checker) fail(format string, args ...any) {
	c.failed++
	fmt.Fprintf(c.w, "FAIL  "+format+"\n", args...)
}

func (c *checker) note(format string, args ...any) {
	fmt.Fprintf(c.w, "note  "+format+"\n", args...)
}

// runCheck is `xtsync check`.
func runCheck(ctx context.Context, e env, args []string) error {
	fs := newFlagSet(e, "check", "--config FILE", checkAbout)
	cfgPath := fs.configFlag()
	cfg, err := fs.parseConfig(args, cfgPath)
	if err != nil {
		return err
	}
	c := &checker{w: e.stdout}
	c.ok("configuration %s", *cfgPath)
	clients := map[string]*msgraph.Client{}
	for _, side := range []struct {
		section string
		tenant  config.Tenant
	}{{"source", cfg.Source}, {"target", cfg.Target}} {
		cl, err := msgraph.ForTenant(side.section, side.tenant, e.log, nil)
		if err != nil {
			c.fail("%s: %v", side.section, err)
			continue
		}
		if checkPermissions(ctx, c, side.section, side.tenant, cl) {
			clients[side.section] = cl
		}
	}
	schema := msgraph.SchemaOf(cfg.EngineOptions())
	if cl := clients["source"]; cl != nil {
		checkScope(ctx, c, cfg, msgraph.NewSource(cl, schema))
	}
	if cl := clients["target"]; cl != nil {
		if mirrors, err := msgraph.NewTarget(cl, schema).Mirrors(ctx); err != nil {
			c.fail("target: list the mirrors: %v", err)
		} else {
			c.ok("target: %d mirror(s) listed", len(mirrors))
		}
	}
	if cfg.Server.PublicURL != "" {
		checkHandshake(ctx, c, cfg.Server.PublicURL)
	}
	if c.failed > 0 {
		return fmt.Errorf("%d check(s) failed", c.failed)
	}
	return nil
}

// checkPermissions signs in and compares the granted permissions with the
// required ones; it reports whether the sign-in worked.
func checkPermissions(ctx context.Context, c *checker, section string, t config.Tenant, cl *msgraph.Client) bool {
	granted, err := cl.GrantedPermissions(ctx)
	if err != nil {
		c.fail("%s: sign-in: %v", section, err)
		return false
	}
	c.ok("%s: signed in to tenant %s as app %s", section, t.TenantID, t.ClientID)
	has := func(p string) bool {
		return slices.ContainsFunc(granted, func(g string) bool { return strings.EqualFold(g, p) })
	}
	for _, r := range msgraph.RequiredPermissions(section) {
		by := ""
		if !has(r.Name) {
			for _, o := range r.Or {
				if has(o) {
					by = o
					break
				}
			}
			if by == "" {
				c.fail("%s: permission %s not granted (%s): add it to app %s (API permissions, Microsoft Graph, application permission) and grant admin consent; docs/deploy.md, %s tenant", section, r.Name, r.Why, t.ClientID, section)
				continue
			}
		}
		if by != "" {
			c.ok("%s: permission %s (covered by %s)", section, r.Name, by)
		} else {
			c.ok("%s: permission %s", section, r.Name)
		}
	}
	return true
}

// checkScope reads every scoped group from the source.
func checkScope(ctx context.Context, c *checker, cfg *config.Config, src engine.Source) {
	ids := cfg.Scope.Groups
	if len(ids) == 0 {
		c.note("scope.groups is empty: nothing would be synced")
		return
	}
	groups, err := src.Groups(ctx, ids)
	if err != nil {
		c.fail("source: read the groups of scope.groups: %v", err)
		return
	}
	for _, id := range ids {
		g, found := groups[id]
		switch {
		case !found:
			c.fail("scope.groups: group %s not found in the source tenant %s: fix the id (the group's Object ID in the Entra admin center) or remove it", id, cfg.Source.TenantID)
		case !g.Kind().Syncable():
			c.fail("scope.groups: %s (%s) is a %s, which xtsync does not mirror (Exchange owns its members): remove it from scope.groups", g.DisplayName, id, g.Kind())
		default:
			c.ok("scope.groups: %s (%s), %s group", g.DisplayName, id, g.Kind())
		}
	}
}

// checkHandshake sends publicURL's notification endpoint Graph's
// validation request and checks that the token comes back as sent.
func checkHandshake(ctx context.Context, c *checker, publicURL string) {
	var raw [8]byte
	_, _ = rand.Read(raw[:])
	token := "xtsync-check-" + hex.EncodeToString(raw[:])
	u := strings.TrimSuffix(publicURL, "/") + "/notifications?validationToken=" + url.QueryEscape(token)
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, u, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		hint := "xtsync serve must be running and reachable there, as Graph reaches it"
		var ue *url.Error
		if errors.As(err, &ue) && strings.Contains(ue.Error(), "certificate") {
			hint = "its TLS certificate must be valid for Graph (a public CA)"
		}
		c.fail("server.public_url: %s did not answer the validation handshake (%v): %s", publicURL, err, hint)
		return
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1024))
	if resp.StatusCode != http.StatusOK || string(body) != token {
		c.fail("server.public_url: %s answered the validation handshake with %d, not the token: it must route to xtsync serve's server.listen (the path included)", publicURL, resp.StatusCode)
		return
	}
	c.ok("server.public_url: %s answers Graph's validation handshake", publicURL)
}
