//go:build linux

package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/xtsync/xtsync/pkg/engine"
	"github.com/xtsync/xtsync/pkg/graphemu"
)

// BenchmarkReconcileRSS measures xtsync's own peak resident set size in an
// initial sync of 200 groups x 500 members (10,000 users in the pool: the
// world of BenchmarkInitialSync in pkg/engine/e2e) into the empty target.
//
// The xtsync binary is built into a temporary directory. `xtsync emulator
// --seed F` serves the world from a child process and `xtsync reconcile
// --config F` runs as another, so neither the emulator's memory nor the
// benchmark's is in the figure. The Graph pace is raised out of the way (the
// emulator does not throttle), as in the in-process benchmark.
//
// Metrics: MiB-peak-rss is the reconcile's ru_maxrss (KiB on Linux).
// Linux starts a child's ru_maxrss at the high-water RSS of the process it
// was started from (os/exec uses vfork, and execve records the shared
// address space's high-water mark), so the benchmark shrinks itself and
// resets its own high-water mark (/proc/self/clear_refs) before each start,
// and fails if it was still as large as the figure. MiB-hwm is the child's
// own VmHWM, sampled every 10 ms until it exits (a cross-check: it misses
// only a peak in the last 10 ms); MiB-anon@peak and MiB-file@peak split the
// highest sampled VmRSS into anonymous memory (Go heap, stacks, runtime)
// and file-backed pages (the binary's code and data, the state file's
// mmap). wall-s is the reconcile's wall time, cpu-s its user+system time.
//
// Sub-benchmarks run the reconcile with the default GC and with GOGC and
// GOMEMLIMIT variants; XTSYNC_RSS_ENV adds one more ("K=V K=V", e.g.
// "GOGC=50 GOMEMLIMIT=100MiB"). XTSYNC_RSS_KEEP=dir keeps each run's stdout,
// stderr and config there (GODEBUG=gctrace=1 in XTSYNC_RSS_ENV then leaves
// the GC trace in the stderr file). Linux only.
//
//	CGO_ENABLED=0 go test ./cmd/xtsync -run XXX -bench ReconcileRSS -benchtime 1x -count 2
func BenchmarkReconcileRSS(b *testing.B) {
	bin := buildXtsync(b)
	variants := [][]string{
		nil,
		{"GOGC=50"},
		{"GOMEMLIMIT=120MiB"},
	}
	if extra := strings.Fields(os.Getenv("XTSYNC_RSS_ENV")); len(extra) > 0 {
		variants = append(variants, extra)
	}
	for _, v := range variants {
		name := "gc=default"
		if len(v) > 0 {
			name = strings.Join(v, ",")
		}
		b.Run(name, func(b *testing.B) {
			for i := range b.N {
				r := reconcileRSSOnce(b, bin, 200, 500, 10000, v, fmt.Sprintf("%s-%d", name, i))
				b.ReportMetric(float64(r.maxRSSKiB)/1024, "MiB-peak-rss")
				b.ReportMetric(float64(r.hwmKiB)/1024, "MiB-hwm")
				b.ReportMetric(float64(r.atPeak.anonKiB)/1024, "MiB-anon@peak")
				b.ReportMetric(float64(r.atPeak.fileKiB)/1024, "MiB-file@peak")
				b.ReportMetric(r.wall.Seconds(), "wall-s")
				b.ReportMetric((r.user + r.sys).Seconds(), "cpu-s")
				b.ReportMetric(float64(r.ops), "graph-ops")
			}
		})
	}
}

type rssResult struct {
	maxRSSKiB       int64    // ru_maxrss
	hwmKiB          int64    // last sampled VmHWM
	atPeak          rssStats // the sample with the highest VmRSS
	wall, user, sys time.Duration
	ops             int
}

// buildXtsync builds this package's binary (CGO_ENABLED=0) into a temporary
// directory.
func buildXtsync(b *testing.B) string {
	b.Helper()
	goTool, err := exec.LookPath("go")
	if err != nil {
		b.Skipf("no go tool to build xtsync: %v", err)
	}
	bin := filepath.Join(b.TempDir(), "xtsync")
	cmd := exec.Command(goTool, "build", "-o", bin, ".")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		b.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// rssSeed is the sample's two tenants with a generated source: groups
// security groups of members users each, drawn from a pool of pool users
// (the generator, and so the world, of scaleSeed in pkg/engine/e2e). The
// groups get fixed ids, which the configuration's scope names.
func rssSeed(groups, members, pool int) (graphemu.Seed, []string) {
	seed := graphemu.SampleSeed()
	s := &seed.Tenants[0]
	s.Users, s.Groups = nil, nil
	rng := rand.New(rand.NewPCG(uint64(groups), uint64(members)))
	for i := range pool {
		s.Users = append(s.Users, graphemu.User{
			UserPrincipalName: fmt.Sprintf("u%05d@%s", i, graphemu.SampleSourceDomain), Mail: fmt.Sprintf("u%05d@contoso.com", i),
			DisplayName: fmt.Sprintf("User %d", i), UserType: "Member", AccountEnabled: true,
		})
	}
	var ids []string
	for g := range groups {
		nick := fmt.Sprintf("g%04d", g)
		id := fmt.Sprintf("5eed0000-0000-4000-8000-%012x", g)
		ids = append(ids, id)
		var ms []string
		for _, i := range rng.Perm(pool)[:members] {
			ms = append(ms, s.Users[i].UserPrincipalName)
		}
		s.Groups = append(s.Groups, graphemu.GroupSeed{ID: id, DisplayName: "Group " + nick, MailNickname: nick, SecurityEnabled: true, Members: ms})
	}
	return seed, ids
}

// rssEmulator is `xtsync emulator` running in a child process.
type rssEmulator struct {
	cmd *exec.Cmd
	url string // https://127.0.0.1:port
	hc  *http.Client
	out *readyWriter
	// exited is closed when the process has exited (and was waited for).
	exited chan struct{}
}

// readyWriter collects the emulator's output and closes ready when it
// prints that it serves.
type readyWriter struct {
	mu    sync.Mutex
	buf   bytes.Buffer
	ready chan struct{}
}

func (w *readyWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	n, err := w.buf.Write(p)
	if w.ready != nil && strings.Contains(w.buf.String(), "Serving until interrupted") {
		close(w.ready)
		w.ready = nil
	}
	return n, err
}

func (w *readyWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}

var authorityLine = regexp.MustCompile(`Sign-in authority:\s+(https://\S+)`)

// startRSSEmulator starts `xtsync emulator` with the seed in dir and waits
// until it serves.
func startRSSEmulator(b *testing.B, bin, dir string, seed graphemu.Seed) *rssEmulator {
	b.Helper()
	data, err := json.Marshal(seed)
	if err != nil {
		b.Fatal(err)
	}
	seedPath, ca := filepath.Join(dir, "seed.json"), filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(seedPath, data, 0o600); err != nil {
		b.Fatal(err)
	}
	ready := make(chan struct{})
	em := &rssEmulator{
		cmd: exec.Command(bin, "--log-level", "warn", "emulator", "--seed", seedPath, "--listen", "127.0.0.1:0", "--ca-out", ca),
		out: &readyWriter{ready: ready},
	}
	em.cmd.Stdout, em.cmd.Stderr = em.out, em.out
	if err := em.cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(em.stop)
	exited := make(chan struct{})
	go func() { _ = em.cmd.Wait(); close(exited) }()
	select {
	case <-ready:
	case <-exited:
		b.Fatalf("xtsync emulator exited:\n%s", em.out.String())
	case <-time.After(2 * time.Minute):
		b.Fatalf("xtsync emulator not serving after 2 minutes:\n%s", em.out.String())
	}
	em.exited = exited
	m := authorityLine.FindStringSubmatch(em.out.String())
	if m == nil {
		b.Fatalf("no sign-in authority in the emulator's output:\n%s", em.out.String())
	}
	em.url = m[1]
	pem, err := os.ReadFile(ca)
	if err != nil {
		b.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	em.hc = &http.Client{Timeout: time.Minute, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	return em
}

// control GETs a control API path (/_emulator/...) into v.
func (em *rssEmulator) control(path string, v any) error {
	resp, err := em.hc.Get(em.url + "/_emulator/" + path)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 1000))
		return fmt.Errorf("GET /_emulator/%s: %s %s", path, resp.Status, body)
	}
	return json.NewDecoder(resp.Body).Decode(v)
}

// stop ends the emulator (SIGTERM, then kill).
func (em *rssEmulator) stop() {
	if em.exited == nil {
		_ = em.cmd.Process.Kill()
		return
	}
	select {
	case <-em.exited:
		return
	default:
	}
	if em.hc != nil {
		em.hc.CloseIdleConnections()
	}
	_ = em.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-em.exited:
	case <-time.After(10 * time.Second):
		_ = em.cmd.Process.Kill()
		<-em.exited
	}
}

// reconcileRSSOnce starts an emulator with the world, runs `xtsync
// reconcile` as a child with childEnv added to its environment, checks the
// mirror and returns the child's resource use. The benchmark timer runs
// only while the child does (ns/op is its wall time).
func reconcileRSSOnce(b *testing.B, bin string, groups, members, pool int, childEnv []string, label string) rssResult {
	b.Helper()
	b.StopTimer()
	defer b.StartTimer()
	dir := b.TempDir()
	seed, scope := rssSeed(groups, members, pool)
	em := startRSSEmulator(b, bin, dir, seed)
	defer em.stop()

	// The pace keys are positive numbers far above what the run reaches:
	// pacing off, as msgraph.NoPace in the in-process benchmark.
	const pace = "write_rate: 1000000, write_burst: 1000000, invitation_rate: 1000000, read_rate: 10000000"
	ca := filepath.Join(dir, "ca.pem")
	cfg := fmt.Sprintf(`source: {tenant_id: %s, client_id: %s, client_secret: %q, graph_endpoint: %s, authority_host: %s, ca_file: %s, %s}
target: {tenant_id: %s, client_id: %s, client_secret: %q, graph_endpoint: %s, authority_host: %s, ca_file: %s, %s}
scope: {groups: [%s]}
state: {path: %s}
`, graphemu.SampleSourceTenant, graphemu.SampleSourceClientID, graphemu.SampleSourceSecret, em.url, em.url, ca, pace,
		graphemu.SampleTargetTenant, graphemu.SampleTargetClientID, graphemu.SampleTargetSecret, em.url, em.url, ca, pace,
		strings.Join(scope, ", "), filepath.Join(dir, "state.db"))
	cfgPath := filepath.Join(dir, "xtsync.yaml")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		b.Fatal(err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, bin, "reconcile", "--config", cfgPath)
	cmd.Env = append(os.Environ(), childEnv...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	// The child's ru_maxrss starts at this process's high-water RSS: make
	// both as small as they go.
	runtime.GC()
	debug.FreeOSMemory()
	_ = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0)
	self := readRSSStats(os.Getpid())
	b.StartTimer()
	start := time.Now()
	err := cmd.Start()
	var last, atPeak rssStats
	if err == nil {
		done := make(chan struct{})
		sampled := make(chan [2]rssStats, 1)
		go func() { l, p := sampleRSS(cmd.Process.Pid, done); sampled <- [2]rssStats{l, p} }()
		err = cmd.Wait()
		close(done)
		s := <-sampled
		last, atPeak = s[0], s[1]
	}
	wall := time.Since(start)
	b.StopTimer()
	if keep := os.Getenv("XTSYNC_RSS_KEEP"); keep != "" {
		keepOutput(b, keep, label, cfg, stdout.Bytes(), stderr.Bytes())
	}
	if err != nil {
		b.Fatalf("xtsync reconcile: %v\nstdout:\n%s\nstderr (tail):\n%s", err, stdout.String(), tail(stderr.String(), 4000))
	}
	if err := checkConvergedState(em, scope); err != nil {
		b.Fatalf("not converged after the reconcile: %v\nstdout:\n%s", err, stdout.String())
	}
	ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	if !ok {
		b.Fatalf("no rusage for the child (%T)", cmd.ProcessState.SysUsage())
	}
	if self.hwmKiB >= ru.Maxrss {
		b.Fatalf("ru_maxrss %d KiB is not above this process's high-water RSS %d KiB at the start: it measures this process, not the reconcile", ru.Maxrss, self.hwmKiB)
	}
	var ops int
	for _, tn := range []string{graphemu.SampleSourceTenant, graphemu.SampleTargetTenant} {
		var st struct {
			Ops int `json:"ops"`
		}
		if err := em.control("tenants/"+tn+"/stats", &st); err != nil {
			b.Fatal(err)
		}
		ops += st.Ops
	}
	return rssResult{
		maxRSSKiB: ru.Maxrss,
		hwmKiB:    last.hwmKiB,
		atPeak:    atPeak,
		wall:      wall,
		user:      cmd.ProcessState.UserTime(),
		sys:       cmd.ProcessState.SystemTime(),
		ops:       ops,
	}
}

// checkConvergedState checks the target through the emulator's control
// API: exactly one group per scoped source group, each mirror a security
// group with the source's name and exactly its members (by mail).
func checkConvergedState(em *rssEmulator, scope []string) error {
	var src, dst graphemu.TenantState
	if err := em.control("tenants/"+graphemu.SampleSourceTenant, &src); err != nil {
		return err
	}
	if err := em.control("tenants/"+graphemu.SampleTargetTenant, &dst); err != nil {
		return err
	}
	mails := func(ts graphemu.TenantState) map[string]string {
		out := map[string]string{}
		for _, u := range ts.Users {
			out[u.ID] = strings.ToLower(u.Mail)
		}
		return out
	}
	srcMail, dstMail := mails(src), mails(dst)
	srcGroups := map[string]graphemu.Group{}
	for _, g := range src.Groups {
		srcGroups[g.ID] = g
	}
	mirrors := map[string]graphemu.Group{}
	for _, g := range dst.Groups {
		mirrors[g.MailNickname] = g
	}
	if len(dst.Groups) != len(scope) {
		return fmt.Errorf("target has %d groups, want %d", len(dst.Groups), len(scope))
	}
	total := 0
	for _, sid := range scope {
		sg, ok := srcGroups[sid]
		if !ok {
			return fmt.Errorf("no source group %s", sid)
		}
		tg, ok := mirrors[engine.TargetNickname(sid)]
		if !ok {
			return fmt.Errorf("%s has no mirror", sg.DisplayName)
		}
		if tg.DisplayName != sg.DisplayName || !tg.SecurityEnabled || tg.MailEnabled {
			return fmt.Errorf("mirror of %s is %q (security %t, mail %t)", sg.DisplayName, tg.DisplayName, tg.SecurityEnabled, tg.MailEnabled)
		}
		var want, got []string
		for _, m := range sg.Members {
			want = append(want, srcMail[m])
		}
		for _, m := range tg.Members {
			got = append(got, dstMail[m])
		}
		slices.Sort(want)
		slices.Sort(got)
		if len(want) == 0 || !slices.Equal(want, got) {
			return fmt.Errorf("members of %s: mirror has %d, source %d, or they differ", sg.DisplayName, len(got), len(want))
		}
		total += len(got)
	}
	if n := len(scope) * len(srcGroups[scope[0]].Members); total != n {
		return fmt.Errorf("target has %d memberships, want %d", total, n)
	}
	return nil
}

// rssStats are one reading of /proc/pid/status, in KiB.
type rssStats struct{ rssKiB, hwmKiB, anonKiB, fileKiB int64 }

func readRSSStats(pid int) rssStats {
	var s rssStats
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return s
	}
	for _, l := range strings.Split(string(b), "\n") {
		f := strings.Fields(l)
		if len(f) < 2 {
			continue
		}
		var v int64
		fmt.Sscan(f[1], &v)
		switch f[0] {
		case "VmRSS:":
			s.rssKiB = v
		case "VmHWM:":
			s.hwmKiB = v
		case "RssAnon:":
			s.anonKiB = v
		case "RssFile:":
			s.fileKiB = v
		}
	}
	return s
}

// sampleRSS reads /proc/pid/status every 10 ms until done; it returns the
// last reading and the one with the highest VmRSS.
func sampleRSS(pid int, done <-chan struct{}) (last, peak rssStats) {
	for {
		if s := readRSSStats(pid); s.rssKiB > 0 {
			last = s
			if s.rssKiB > peak.rssKiB {
				peak = s
			}
		}
		select {
		case <-done:
			return last, peak
		case <-time.After(10 * time.Millisecond):
		}
	}
}

func keepOutput(b *testing.B, dir, label, cfg string, stdout, stderr []byte) {
	b.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		b.Fatal(err)
	}
	label = strings.NewReplacer("/", "_", "=", "_", ",", "_").Replace(label)
	for name, data := range map[string][]byte{"stdout": stdout, "stderr": stderr, "yaml": []byte(cfg)} {
		if err := os.WriteFile(filepath.Join(dir, label+"."+name), data, 0o644); err != nil {
			b.Fatal(err)
		}
	}
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "..." + s[len(s)-n:]
}
