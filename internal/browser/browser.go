// Package browser runs a real, headless Chromium for a test, with chromedp:
// Debian's chromium package at /usr/bin/chromium, a 1366x900 window and a
// user-data directory of its own. A test that needs a browser calls Start;
// the browser ends with the test (t.Cleanup).
//
// A missing chromium fails the test, naming the fix; it never skips.
// scripts/ensure-chromium.sh installs it (.ci/run and make test run it).
//
// Screenshot saves a full-page PNG of the page under the test's
// ArtifactDir: go test -artifacts keeps them (under -outputdir).
package browser

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

// ExecPath is the Chromium the tests drive: Debian's chromium package.
const ExecPath = "/usr/bin/chromium"

// Package is the Debian package that provides ExecPath.
const Package = "chromium"

// Width and Height are the browser window's size, in CSS pixels.
const (
	Width  = 1366
	Height = 900
)

// Timeout bounds each step a test runs in the browser (a navigation, a
// query, a screenshot).
const Timeout = 30 * time.Second

// InstallHint is the command that installs ExecPath.
const InstallHint = "sudo apt-get update && sudo apt-get install -y --no-install-recommends " + Package +
	" (or scripts/ensure-chromium.sh)"

// Browser is one headless Chromium with one tab, for one test.
type Browser struct {
	t   testing.TB
	ctx context.Context

	mu       sync.Mutex
	ended    bool     // the test is over: log nothing more
	problems []string // the pages' uncaught exceptions, in order
}

// Start starts Chromium for t, with its tab open on about:blank, and stops
// it when t ends. The browser's own output goes to chromium.log in t's
// ArtifactDir; the page's console messages go to t.Log. It fails t when
// ExecPath is missing, naming the package and the command that installs it.
func Start(t testing.TB) *Browser {
	t.Helper()
	if _, err := os.Stat(ExecPath); err != nil {
		t.Fatalf("browser: %s is missing (%v): the browser tests need Debian's %s package; install it with: %s",
			ExecPath, err, Package, InstallHint)
	}
	out, err := os.Create(filepath.Join(t.ArtifactDir(), "chromium.log"))
	if err != nil {
		t.Fatalf("browser: the log of chromium: %v", err)
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(ExecPath),
		chromedp.Headless,
		chromedp.DisableGPU,
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(Width, Height),
		chromedp.CombinedOutput(out),
	)
	if os.Geteuid() == 0 {
		opts = append(opts, chromedp.NoSandbox) // Chromium's sandbox refuses root
	}
	b := &Browser{t: t}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelTab := chromedp.NewContext(actx, chromedp.WithErrorf(b.logf), chromedp.WithLogf(b.logf))
	b.ctx = ctx
	consoleDone := make(chan struct{})
	t.Cleanup(func() {
		cancelTab()
		cancelAlloc() // kills the browser and waits for it
		<-consoleDone
		b.mu.Lock()
		b.ended = true
		b.mu.Unlock()
		if err := out.Close(); err != nil {
			t.Errorf("browser: the log of chromium: %v", err)
		}
		if t.Failed() {
			t.Logf("browser: chromium's output is in %s (go test -artifacts keeps it)", out.Name())
		}
	})
	// The first Run starts the browser on the tab's own context, so that
	// the step timeouts below end steps, not the browser.
	if err := chromedp.Do(ctx); err != nil {
		close(consoleDone)
		t.Fatalf("browser: starting %s: %v", ExecPath, err)
	}
	messages := chromedp.Console(ctx)
	go func() {
		defer close(consoleDone)
		for m, err := range messages {
			if err != nil {
				return // the test is over
			}
			b.logf("browser console: %s", m)
			if m.IsException() {
				b.mu.Lock()
				b.problems = append(b.problems, m.String())
				b.mu.Unlock()
			}
		}
	}()
	return b
}

// logf logs to t.Log while the test runs (chromedp logs from its own
// goroutines, which may outlive the test by a moment).
func (b *Browser) logf(format string, args ...any) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.ended {
		b.t.Logf(format, args...)
	}
}

// Context is the tab's chromedp context, for chromedp.Do and chromedp.Run
// (without the per-step Timeout).
func (b *Browser) Context() context.Context { return b.ctx }

// Problems returns the uncaught exceptions the pages have thrown so far.
func (b *Browser) Problems() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.problems...)
}

// Do runs actions in the tab within Timeout and fails the test when one
// fails; what says what they do, for the failure.
func (b *Browser) Do(what string, actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, Timeout)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		b.t.Fatalf("browser: %s: %v", what, err)
	}
}

// Run runs one action in b's tab within Timeout and returns its value; it
// fails the test when the action fails.
func Run[T any](b *Browser, what string, a chromedp.Action[T]) T {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, Timeout)
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		b.t.Fatalf("browser: %s: %v", what, err)
	}
	return v
}

// Navigate loads url and fails the test unless it answers 200 OK.
func (b *Browser) Navigate(url string) {
	b.t.Helper()
	resp := Run(b, "GET "+url, chromedp.NavigateResponse(url))
	if resp == nil || resp.Status != 200 {
		b.t.Fatalf("browser: GET %s: %s", url, status(resp))
	}
}

// Follow runs actions that navigate (a click on a link or a submit
// button), waits for the new page to load and fails the test unless its
// document (after any redirects) answered 200 OK; it returns the response.
func (b *Browser) Follow(what string, actions ...chromedp.Action[chromedp.Void]) *network.Response {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, Timeout)
	defer cancel()
	resp, err := chromedp.RunResponse(ctx, actions...)
	if err != nil {
		b.t.Fatalf("browser: %s: %v", what, err)
	}
	if resp == nil || resp.Status != 200 {
		b.t.Fatalf("browser: %s: %s", what, status(resp))
	}
	return resp
}

func status(resp *network.Response) string {
	if resp == nil {
		return "no response"
	}
	return fmt.Sprintf("%s answered %d %s", resp.URL, resp.Status, resp.StatusText)
}

// Screenshot saves a full-page PNG of the current page as name (e.g.
// "overview.png") in the test's ArtifactDir, logs its path and returns it.
func (b *Browser) Screenshot(name string) string {
	b.t.Helper()
	img := Run(b, "screenshot "+name, chromedp.FullScreenshot(100))
	path := filepath.Join(b.t.ArtifactDir(), name)
	if err := os.WriteFile(path, img, 0o644); err != nil {
		b.t.Fatalf("browser: screenshot %s: %v", name, err)
	}
	b.t.Logf("browser: screenshot %s (%d bytes)", path, len(img))
	return path
}

// CopyPNG copies the PNG at src to dst, made smaller: with pngquant when it
// is on the PATH, else by Quantize (both lossy, 256 colours), then
// image/png's best compression. It returns the size written.
func CopyPNG(dst, src string) (int64, error) {
	data, err := os.ReadFile(src)
	if err != nil {
		return 0, fmt.Errorf("copy png: %w", err)
	}
	if pq, err := exec.LookPath("pngquant"); err == nil {
		cmd := exec.Command(pq, "--quality=70-95", "--speed=1", "--strip", "-")
		cmd.Stdin = bytes.NewReader(data)
		var out, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &stderr
		if err := cmd.Run(); err == nil {
			data = out.Bytes()
		} else if exit := (*exec.ExitError)(nil); !errors.As(err, &exit) || exit.ExitCode() != 99 {
			// 99: the quality asked for cannot be met; keep the original.
			return 0, fmt.Errorf("copy png: pngquant: %w: %s", err, stderr.String())
		}
	} else {
		img, err := png.Decode(bytes.NewReader(data))
		if err != nil {
			return 0, fmt.Errorf("copy png: decode %s: %w", src, err)
		}
		var out bytes.Buffer
		enc := png.Encoder{CompressionLevel: png.BestCompression}
		if err := enc.Encode(&out, Quantize(img)); err != nil {
			return 0, fmt.Errorf("copy png: encode: %w", err)
		}
		if out.Len() < len(data) {
			data = out.Bytes()
		}
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return 0, fmt.Errorf("copy png: %w", err)
	}
	if err := os.WriteFile(dst, data, 0o644); err != nil {
		return 0, fmt.Errorf("copy png: %w", err)
	}
	return int64(len(data)), nil
}

// Quantize returns img with at most 256 colours: its 256 most frequent
// ones, every other pixel mapped to the nearest of them, with no
// dithering. A screenshot of a page of flat colours and text loses little
// (an image with no more than 256 colours loses nothing).
func Quantize(img image.Image) *image.Paletted {
	bounds := img.Bounds()
	count := map[color.RGBA64]int{}
	for y := bounds.Min.Y; y < bounds.Max.Y; y++ {
		for x := bounds.Min.X; x < bounds.Max.X; x++ {
			count[rgba64(img.At(x, y))]++
		}
	}
	colours := make([]color.RGBA64, 0, len(count))
	for c := range count {
		colours = append(colours, c)
	}
	slices.SortFunc(colours, func(a, b color.RGBA64) int {
		if d := count[b] - count[a]; d != 0 {
			return d
		}
		return cmp.Compare(uint64(a.R)<<48|uint64(a.G)<<32|uint64(a.B)<<16|uint64(a.A),
			uint64(b.R)<<48|uint64(b.G)<<32|uint64(b.B)<<16|uint64(b.A)) // deterministic
	})
	pal := make(color.Palette, 0, 256)
	for _, c := range colours[:min(len(colours), 256)] {
		pal = append(pal, c)
	}
	out := image.NewPaletted(bounds, pal)
	index := map[color.RGBA64]uint8{}
	for y := bounds.Min.Y; y < bounds.Max.Y; y++ {
		for x := bounds.Min.X; x < bounds.Max.X; x++ {
			c := rgba64(img.At(x, y))
			i, ok := index[c]
			if !ok {
				i = uint8(pal.Index(c))
				index[c] = i
			}
			out.SetColorIndex(x, y, i)
		}
	}
	return out
}

func rgba64(c color.Color) color.RGBA64 {
	r, g, b, a := c.RGBA()
	return color.RGBA64{R: uint16(r), G: uint16(g), B: uint16(b), A: uint16(a)}
}
