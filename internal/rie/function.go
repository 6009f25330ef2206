package rie

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// Timeouts of Start and of the stop at the end of the test.
const (
	readyTimeout = 15 * time.Second
	stopTimeout  = 5 * time.Second
	startTries   = 3
)

// InvokePath is the RIE's invoke endpoint.
const InvokePath = "/2015-03-31/functions/function/invocations"

// Function is a Lambda function running under the RIE. Its methods are safe
// for concurrent use.
type Function struct {
	t         testing.TB
	cmd       *exec.Cmd
	invokeURL string
	client    *http.Client
	exited    chan struct{} // closed when the RIE process has been waited for
	waitErr   error         // the RIE's exit, set before exited is closed
	quiet     atomic.Bool   // the test is over: stop logging to t

	// invoking serializes Invoke: one execution environment runs one
	// event at a time (Lambda sends concurrent events to other
	// environments); the RIE crashes on an overlapping invoke
	// ("ReserveFailed: AlreadyReserved").
	invoking sync.Mutex

	mu      sync.Mutex
	output  []string // the RIE's stdout lines: the function's and the RIE's
	reports []Report
	added   chan struct{} // closed and replaced when a report is added
}

// Start runs the RIE with bootstrap (an executable, see Build) on free
// loopback ports, waits until it accepts invokes and returns the Function;
// it is stopped when the test ends. The function's environment is env on
// top of PATH, HOME, TMPDIR and TZ from the test process, AWS_REGION and
// AWS_DEFAULT_REGION (the test's AWS_REGION or us-east-1), dummy credentials
// and AWS_EC2_METADATA_DISABLED=true: no real AWS credential reaches it.
// The RIE also reads AWS_LAMBDA_FUNCTION_TIMEOUT, AWS_LAMBDA_FUNCTION_NAME,
// AWS_LAMBDA_FUNCTION_MEMORY_SIZE and LOG_LEVEL from env. Start fails the
// test when the RIE binary is missing (it skips under -short), when env sets
// AWS_LAMBDA_MAX_CONCURRENCY, or when the RIE does not come up.
func Start(t testing.TB, bootstrap string, env []string) *Function {
	t.Helper()
	bin := binary(t)
	abs, err := filepath.Abs(bootstrap)
	if err != nil {
		t.Fatalf("rie: bootstrap: %v", err)
	}
	if fi, err := os.Stat(abs); err != nil || fi.IsDir() {
		t.Fatalf("rie: bootstrap %s is not a file (%v)", abs, err)
	}
	fullEnv, err := environ(env)
	if err != nil {
		t.Fatalf("rie: %v", err)
	}
	var errs []error
	for range startTries {
		f, err := start(t, bin, abs, fullEnv)
		if err == nil {
			t.Cleanup(f.stop)
			return f
		}
		// Most likely a free port taken by someone else in between: try
		// other ports.
		errs = append(errs, err)
	}
	t.Fatalf("rie: %v", errors.Join(errs...))
	return nil
}

// start runs the RIE once and waits until it answers.
func start(t testing.TB, bin, bootstrap string, env []string) (*Function, error) {
	ports, err := freePorts(2)
	if err != nil {
		return nil, err
	}
	addr := net.JoinHostPort("127.0.0.1", ports[0])
	apiAddr := net.JoinHostPort("127.0.0.1", ports[1])
	cmd := exec.Command(bin,
		"--runtime-interface-emulator-address", addr,
		"--runtime-api-address", apiAddr,
		bootstrap)
	cmd.Dir = filepath.Dir(bootstrap) // the function's working directory, as /var/task is
	cmd.Env = env
	cmd.SysProcAttr = sysProcAttr()
	cmd.WaitDelay = stopTimeout // a bootstrap outliving the RIE must not hold its pipes open
	f := &Function{
		t:         t,
		cmd:       cmd,
		invokeURL: "http://" + addr + InvokePath,
		client:    &http.Client{Transport: &http.Transport{Proxy: nil}},
		exited:    make(chan struct{}),
		added:     make(chan struct{}),
	}
	stdout := &lineWriter{line: f.stdoutLine}
	stderr := &lineWriter{line: f.stderrLine}
	cmd.Stdout, cmd.Stderr = stdout, stderr
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", bin, err)
	}
	go func() {
		f.waitErr = cmd.Wait()
		stdout.flush()
		stderr.flush()
		close(f.exited)
	}()
	t.Logf("rie: pid %d, invoke at %s, runtime API at %s, bootstrap %s", cmd.Process.Pid, f.invokeURL, apiAddr, bootstrap)
	if err := f.waitReady(addr, apiAddr); err != nil {
		f.stop()
		return nil, err
	}
	return f, nil
}

// waitReady waits until both the invoke endpoint and the Runtime API accept
// connections; it fails when the RIE exits first or takes too long.
func (f *Function) waitReady(addrs ...string) error {
	deadline := time.Now().Add(readyTimeout)
	for {
		select {
		case <-f.exited:
			return fmt.Errorf("the RIE exited while starting: %v", f.waitErr)
		default:
		}
		if !slices.ContainsFunc(addrs, notListening) {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("the RIE did not listen on %v within %v", addrs, readyTimeout)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// notListening reports whether addr refuses a TCP connection.
func notListening(addr string) bool {
	c, err := net.DialTimeout("tcp", addr, 250*time.Millisecond)
	if err != nil {
		return true
	}
	_ = c.Close()
	return false
}

// freePorts returns n distinct free loopback ports. Another process may
// take one before the RIE does; Start then tries again.
func freePorts(n int) ([]string, error) {
	var ports []string
	var lns []net.Listener
	defer func() {
		for _, ln := range lns {
			_ = ln.Close()
		}
	}()
	for range n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("free port: %w", err)
		}
		lns = append(lns, ln)
		_, port, _ := net.SplitHostPort(ln.Addr().String())
		ports = append(ports, port)
	}
	return ports, nil
}

// stop ends the RIE: SIGTERM, which makes it kill the function and exit,
// then SIGKILL for it and any function process left after stopTimeout.
func (f *Function) stop() {
	defer f.client.CloseIdleConnections()
	select {
	case <-f.exited:
		f.quiet.Store(true)
		return
	default:
	}
	pid := f.cmd.Process.Pid
	kids := children(pid) // before the RIE exits and they are re-parented
	_ = f.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-f.exited:
	case <-time.After(stopTimeout):
		f.t.Logf("rie: pid %d did not stop within %v: killing it", pid, stopTimeout)
		_ = f.cmd.Process.Kill()
		<-f.exited
	}
	for _, k := range kids {
		killGroup(k)
	}
	f.quiet.Store(true)
}

// log writes a line to the test log until the test is over.
func (f *Function) log(prefix, line string) {
	if f.quiet.Load() {
		return
	}
	f.t.Log(prefix + line)
}

// stdoutLine handles a line of the RIE's stdout: the function's output and
// the RIE's START, END and REPORT lines.
func (f *Function) stdoutLine(line string) {
	f.log("fn| ", line)
	f.mu.Lock()
	defer f.mu.Unlock()
	f.output = append(f.output, line)
	if r, ok := parseReport(line); ok {
		f.reports = append(f.reports, r)
		close(f.added)
		f.added = make(chan struct{})
	}
}

// Output returns the lines of the RIE's stdout so far, in order: what the
// function wrote to its stdout and stderr (its logs, and its metrics in
// the embedded metric format), and the RIE's START, END and REPORT lines.
// The function's lines written during an invoke that returned are there
// (Invoke waits for the invoke's REPORT, which comes after them).
func (f *Function) Output() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.output)
}

// stderrLine handles a line of the RIE's own log.
func (f *Function) stderrLine(line string) { f.log("rie| ", line) }

// Endpoint is the base URL of the function's invoke API (the Lambda
// Invoke API's path under it, function name "function"), for an AWS SDK
// client's endpoint. Nothing serializes invokes sent there with Invoke's:
// send none while Invoke runs.
func (f *Function) Endpoint() string {
	return strings.TrimSuffix(f.invokeURL, InvokePath)
}
