package browser_test

import (
	"fmt"
	"image/png"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/xtsync/xtsync/internal/browser"
)

// TestBrowser drives the real Chromium: a page loads, a form posts and
// redirects, the result is read, a screenshot is a 1366-pixel-wide PNG, and
// CopyPNG makes a smaller copy that still decodes.
func TestBrowser(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, `<!doctype html><title>t</title><p id="said">%s</p>
<form id="f" method="post" action="/say"><input name="word"><button type="submit">Say</button></form>`, r.URL.Query().Get("said"))
	})
	mux.HandleFunc("POST /say", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/?said="+r.PostFormValue("word"), http.StatusSeeOther)
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)

	b := browser.Start(t)
	b.Navigate(srv.URL + "/")
	b.Do("fill the form", chromedp.SendKeys(chromedp.CSS(`#f [name=word]`), "hello"))
	resp := b.Follow("submit", chromedp.Click(chromedp.CSS(`#f [type=submit]`)))
	if !strings.HasSuffix(resp.URL, "/?said=hello") {
		t.Errorf("the form landed on %s, want /?said=hello", resp.URL)
	}
	if said := browser.Run(b, "read #said", chromedp.Text(chromedp.ID("said"))); said != "hello" {
		t.Errorf("#said is %q, want hello", said)
	}
	path := b.Screenshot("page.png")
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cfg, err := png.DecodeConfig(f)
	if err != nil {
		t.Fatalf("the screenshot is no PNG: %v", err)
	}
	if cfg.Width != browser.Width {
		t.Errorf("the screenshot is %d pixels wide, want %d", cfg.Width, browser.Width)
	}
	dst := filepath.Join(t.TempDir(), "copy.png")
	n, err := browser.CopyPNG(dst, path)
	if err != nil {
		t.Fatal(err)
	}
	st, _ := os.Stat(path)
	if n <= 0 || n > st.Size() {
		t.Errorf("the copy has %d bytes, the original %d", n, st.Size())
	}
	c, err := os.Open(dst)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if cc, err := png.DecodeConfig(c); err != nil || cc.Width != cfg.Width || cc.Height != cfg.Height {
		t.Errorf("the copy is %dx%d (%v), the original %dx%d", cc.Width, cc.Height, err, cfg.Width, cfg.Height)
	}
	if p := b.Problems(); len(p) != 0 {
		t.Errorf("the page threw: %q", p)
	}
}
