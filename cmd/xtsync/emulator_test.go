package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/xtsync/xtsync/internal/waitfor"
	"github.com/xtsync/xtsync/pkg/graphemu"
	"github.com/xtsync/xtsync/pkg/msgraph"
)

// writeFile writes content to a file in a test directory and returns its
// path.
func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestEmulatorSeedOutWritesAParsableSeed(t *testing.T) {
	path := filepath.Join(t.TempDir(), "seed.json")
	code, stdout, stderr := runCLI(t, "emulator", "--seed-out", path)
	if code != exitOK {
		t.Fatalf("exit code %d; stderr:\n%s", code, stderr)
	}
	if !strings.Contains(stdout, path) {
		t.Errorf("stdout does not name the file: %q", stdout)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	seed, err := graphemu.ParseSeed(b)
	if err != nil {
		t.Fatalf("ParseSeed: %v", err)
	}
	want := graphemu.SampleSeed()
	if len(seed.Tenants) != len(want.Tenants) {
		t.Fatalf("%d tenants, want %d", len(seed.Tenants), len(want.Tenants))
	}
	for i := range want.Tenants {
		if got, w := seed.Tenants[i], want.Tenants[i]; got.ID != w.ID || len(got.Users) != len(w.Users) || len(got.Groups) != len(w.Groups) {
			t.Errorf("tenant %d: %s with %d users and %d groups, want %s with %d and %d",
				i, got.ID, len(got.Users), len(got.Groups), w.ID, len(w.Users), len(w.Groups))
		}
	}
	em := graphemu.New(graphemu.Options{})
	defer em.Close()
	if err := em.Load(seed); err != nil {
		t.Fatalf("the written seed does not load: %v", err)
	}

	code, stdout, _ = runCLI(t, "emulator", "--seed-out", "-")
	if code != exitOK {
		t.Fatalf("--seed-out -: exit code %d", code)
	}
	if _, err := graphemu.ParseSeed([]byte(stdout)); err != nil {
		t.Fatalf("--seed-out -: %v", err)
	}
}

func TestEmulatorBadSeedNamesTheEntry(t *testing.T) {
	seed := graphemu.SampleSeed()
	g := &seed.Tenants[0].Groups[1]
	g.Members = append(g.Members, "nobody@contoso.onmicrosoft.com")
	bad := len(g.Members) - 1
	b, err := json.Marshal(seed)
	if err != nil {
		t.Fatal(err)
	}
	path := writeFile(t, "seed.json", string(b))
	caOut := filepath.Join(t.TempDir(), "ca.pem")
	code, _, stderr := runCLI(t, "emulator", "--listen", "127.0.0.1:0", "--ca-out", caOut, "--seed", path)
	if code != exitUsage {
		t.Fatalf("exit code %d, want %d; stderr:\n%s", code, exitUsage, stderr)
	}
	for _, want := range []string{"--seed", "tenants[0].groups[1].members[" + strconv.Itoa(bad) + "]", "nobody@contoso.onmicrosoft.com"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr does not name %q:\n%s", want, stderr)
		}
	}
	if _, err := os.Stat(caOut); err == nil {
		t.Errorf("a CA file was written for a seed that does not load")
	}

	code, _, stderr = runCLI(t, "emulator", "--listen", "127.0.0.1:0", "--ca-out", caOut, "--seed", writeFile(t, "x.json", `{"tenants":[{"id":"x"}]}`))
	if code != exitUsage || !strings.Contains(stderr, "tenants[0].id") {
		t.Errorf("bad tenant id: exit code %d, stderr:\n%s", code, stderr)
	}
	code, _, stderr = runCLI(t, "emulator", "--listen", "127.0.0.1:0", "--ca-out", caOut, "--seed", writeFile(t, "y.json", `{"tenants":[],"extra":1}`))
	if code != exitUsage || !strings.Contains(stderr, "extra") {
		t.Errorf("unknown field: exit code %d, stderr:\n%s", code, stderr)
	}
}

// TestEmulatorServesUntilCancelled runs `xtsync emulator` with a seed file
// and a faults file, signs in with the printed credentials over HTTPS
// trusting the written CA, reads groups, and stops it by cancelling.
func TestEmulatorServesUntilCancelled(t *testing.T) {
	dir := t.TempDir()
	seedPath := filepath.Join(dir, "seed.json")
	if code, _, stderr := runCLI(t, "emulator", "--seed-out", seedPath); code != exitOK {
		t.Fatalf("--seed-out: %s", stderr)
	}
	faults := writeFile(t, "faults.json", `{"pageSize": 3, "latency": "1ms"}`)
	caOut := filepath.Join(dir, "sub", "ca.pem")

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stdout, stderr syncBuffer
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"emulator", "--listen", "127.0.0.1:0", "--ca-out", caOut, "--seed", seedPath, "--faults", faults}, &stdout, &stderr)
	}()

	base := waitFor(t, &stdout, done, regexp.MustCompile(`Graph base URL:\s+(\S+)`))
	authority := waitFor(t, &stdout, done, regexp.MustCompile(`Sign-in authority:\s+(\S+)`))
	// The banner is written line by line: its last is the curl of /groups.
	waitFor(t, &stdout, done, regexp.MustCompile(`(\$select=id,displayName)`))
	out := stdout.String()
	for _, want := range []string{caOut, graphemu.SampleSourceTenant, graphemu.SampleSourceClientID, graphemu.SampleSourceSecret, graphemu.SampleTargetTenant, "curl"} {
		if !strings.Contains(out, want) {
			t.Errorf("the banner does not show %q:\n%s", want, out)
		}
	}
	pem, err := os.ReadFile(caOut)
	if err != nil {
		t.Fatalf("CA file: %v", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		t.Fatal("the CA file holds no certificate")
	}
	hc := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	defer hc.CloseIdleConnections()
	c, err := msgraph.New(msgraph.Config{
		TenantID: graphemu.SampleSourceTenant, ClientID: graphemu.SampleSourceClientID, ClientSecret: graphemu.SampleSourceSecret,
		GraphEndpoint: strings.TrimSuffix(base, "/v1.0"), AuthorityHost: authority, HTTPClient: hc,
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	page, err := c.SDK().Groups().Get(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(page.GetValue()) != 3 || page.GetOdataNextLink() == nil {
		t.Errorf("the pageSize fault is not applied: %d groups on the first page, nextLink %v", len(page.GetValue()), page.GetOdataNextLink())
	}
	tn, err := c.ReadTenant(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if want := len(graphemu.SampleSeed().Tenants[0].Groups); len(tn.Groups) != want {
		t.Errorf("%d groups, want %d", len(tn.Groups), want)
	}
	u, _ := url.Parse(authority)
	resp, err := hc.Get(u.String() + "/_emulator/tenants")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("control API: HTTP %d", resp.StatusCode)
	}

	cancel()
	select {
	case code := <-done:
		if code != exitOK {
			t.Errorf("exit code %d after cancel; stderr:\n%s", code, stderr.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the emulator did not stop after cancel")
	}
}

// waitFor waits (at most 30 s) until re matches the output and returns its
// first group; it fails if the command exits first, and logs the output when
// it fails.
func waitFor(t *testing.T, out *syncBuffer, done chan int, re *regexp.Regexp) string {
	t.Helper()
	var m []string
	defer func() {
		if m == nil {
			t.Logf("output:\n%s", out.String())
		}
	}()
	waitfor.WaitFor(t, 30*time.Second, re.String()+" in the output", func() bool {
		if m = re.FindStringSubmatch(out.String()); m != nil {
			return true
		}
		select {
		case code := <-done:
			t.Fatalf("the command exited with %d before printing %s", code, re)
		default:
		}
		return false
	})
	return m[1]
}
