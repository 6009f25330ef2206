package e2e_test

import (
	"bufio"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"

	"github.com/xtsync/xtsync/internal/rie"
)

// approveFromConsole approves the guard's halt of the group with the
// console's button: xtsync console over the deployment shows the group
// HOLDING on the overview, the halt with its plan (writing nothing), and
// its approve button invokes the reconcile function with the approval.
func (w *world) approveFromConsole(group string, members int) {
	t := w.t
	base := w.console()
	page := func(path string) string {
		t.Helper()
		resp, err := http.Get(base + path)
		must(t, err)
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: %d\n%s", path, resp.StatusCode, b)
		}
		return string(b)
	}
	if body := page("/"); !regexp.MustCompile(`(?s)<tr data-group="` + group + `">.*?HOLDING removals.*?</tr>`).MatchString(body) {
		t.Errorf("the console's overview does not show the group HOLDING:\n%s", body)
	}
	body := page("/halt")
	if !strings.Contains(body, "HOLDING") || !strings.Contains(body, "remove-members") || !strings.Contains(body, `id="approve"`) {
		t.Fatalf("the console's halt page:\n%s", body)
	}
	if n := len(w.targetOf(group).Members); n != members {
		t.Fatalf("showing the plan wrote: the mirror has %d members, had %d", n, members)
	}
	m := regexp.MustCompile(`name="csrf" value="([0-9a-f]+)"`).FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no CSRF token on the halt page:\n%s", body)
	}
	req, _ := http.NewRequest(http.MethodPost, base+"/console/approve", strings.NewReader(url.Values{"csrf": {m[1]}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", base)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	resp, err := (&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).Do(req)
	must(t, err)
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("the approve button: %d, want 303", resp.StatusCode)
	}
	if body := page("/halt"); !strings.Contains(body, "approved") {
		t.Errorf("the halt page after the approval does not tell it:\n%s", body)
	}
}

// console starts xtsync console over the operator's configuration (the
// deployment's table, queue and reconcile function) on a free loopback
// port and returns its base URL; the test's end stops it.
func (w *world) console() string {
	t := w.t
	cfgPath, _ := w.operator()
	cmd := exec.Command(rie.Build(t, "github.com/xtsync/xtsync/cmd/xtsync"), "console", "--config", cfgPath, "--listen", "127.0.0.1:0")
	cmd.Env = append(append(os.Environ(), w.env...), "AWS_ENDPOINT_URL_LAMBDA="+w.recon.Endpoint())
	cmd.Stderr = testWriter{t}
	out, err := cmd.StdoutPipe()
	must(t, err)
	must(t, cmd.Start())
	t.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		_ = cmd.Wait()
	})
	line, err := bufio.NewReader(out).ReadString('\n')
	u := regexp.MustCompile(`http://[0-9.:]+`).FindString(line)
	if err != nil || u == "" {
		t.Fatalf("xtsync console did not say where it listens: %q, %v", line, err)
	}
	return u
}

// testWriter writes to t.Log.
type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}
