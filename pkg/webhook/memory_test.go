package webhook_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/xtsync/xtsync/pkg/webhook"
)

// heapObjects is the runtime metric sampled: bytes of heap objects, live
// or not yet swept, i.e. what the heap holds.
const heapObjects = "/memory/classes/heap/objects:bytes"

// maxHeapGrowth is the bound asserted on the peak heap above idle.
const maxHeapGrowth = 64 << 20

// TestMemoryBounded measures the peak heap while 16 clients post 1 MiB
// bodies at once to a real server running the handler with its default
// limits, and asserts the peak above the idle heap stays under 64 MiB, for
// three shapes of body: {} items (refused at MaxItems), notification items
// with long strings (decoded whole, one genuine item each), and one item
// holding a 1 MiB string (the decoder's window at its largest).
// (Before the limits, one 1 MiB body of {} items cost about 150 MB and 16
// at once 2.5 GB.)
//
// It is deterministic: each body is an io.Pipe written only once all 16
// requests are in: the 8 admitted (DefaultMaxConcurrent) are then blocked
// reading their bodies, the 8 others already answered 503 unread. Then the
// admitted bodies are written, all at once.
func TestMemoryBounded(t *testing.T) {
	const clients = 16
	shapes := []struct {
		name      string
		body      []byte
		wantCode  int // for the admitted requests
		wantCalls int // Sink.Changed calls
	}{
		{"1 MiB of {} items", emptyItemsBody(t, 1<<20), http.StatusRequestEntityTooLarge, 0},
		{"1 MiB of notification items with long strings", longItemsBody(t, 1<<20), http.StatusAccepted, webhook.DefaultMaxConcurrent},
		// The decoder's worst case: its window holds the whole item.
		{"one item with a 1 MiB string", hugeItemBody(t, 1<<20), http.StatusAccepted, 0},
	}
	for _, s := range shapes {
		t.Run(s.name, func(t *testing.T) {
			if len(s.body) != 1<<20 {
				t.Fatalf("body of %d bytes, want 1 MiB", len(s.body))
			}
			logs := &logBuffer{}
			sink := &recSink{}
			h, err := webhook.New(webhook.Config{
				Lookup:  newSubs(),
				InScope: inScope,
				Sink:    sink,
				Log:     slog.New(slog.NewTextHandler(logs, nil)),
			})
			if err != nil {
				t.Fatal(err)
			}
			srv := httptest.NewServer(h)
			defer srv.Close()
			client := srv.Client()
			defer client.CloseIdleConnections()

			idleRSS, peakRSS := sampleRSS()
			idle, stop := sampleHeap()
			type answer struct {
				i      int
				code   int
				header http.Header
				err    error
			}
			answers := make(chan answer, clients)
			writers := make([]*io.PipeWriter, clients)
			readers := make([]*io.PipeReader, clients)
			ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
			defer cancel()
			for i := range clients {
				readers[i], writers[i] = io.Pipe()
				req, err := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL+webhook.PathNotifications, readers[i])
				if err != nil {
					t.Fatal(err)
				}
				req.Header.Set("Content-Type", "application/json")
				req.ContentLength = int64(len(s.body))
				go func() {
					resp, err := client.Do(req)
					a := answer{i: i, err: err}
					if err == nil {
						a.code, a.header = resp.StatusCode, resp.Header
						_, _ = io.Copy(io.Discard, resp.Body)
						_ = resp.Body.Close()
					}
					_ = readers[i].Close() // stops a writer the server no longer reads
					answers <- a
				}()
			}

			// Wait for the refusals: 8 requests are then in flight, blocked.
			got := map[int]answer{}
			for len(got) < clients-webhook.DefaultMaxConcurrent {
				select {
				case a := <-answers:
					if a.err != nil || a.code != http.StatusServiceUnavailable {
						t.Fatalf("request %d answered before any body was sent: %d %v", a.i, a.code, a.err)
					}
					if ra := a.header.Get("Retry-After"); ra != "1" {
						t.Errorf("request %d: Retry-After %q, want 1", a.i, ra)
					}
					got[a.i] = a
				case <-ctx.Done():
					t.Fatalf("%d refusals, want %d", len(got), clients-webhook.DefaultMaxConcurrent)
				}
			}
			var wg sync.WaitGroup
			for i := range clients {
				if _, refused := got[i]; refused {
					_ = writers[i].Close()
					continue
				}
				wg.Go(func() {
					for b := s.body; len(b) > 0; {
						n := min(len(b), 32<<10)
						if _, err := writers[i].Write(b[:n]); err != nil {
							return // the server answered without reading it all
						}
						b = b[n:]
					}
					_ = writers[i].Close()
				})
			}
			for len(got) < clients {
				select {
				case a := <-answers:
					if a.err != nil {
						t.Fatalf("request %d: %v", a.i, a.err)
					}
					if a.code != s.wantCode {
						t.Errorf("admitted request %d: status %d, want %d", a.i, a.code, s.wantCode)
					}
					got[a.i] = a
				case <-ctx.Done():
					t.Fatalf("%d of %d answers", len(got), clients)
				}
			}
			wg.Wait()
			peakBytes := stop()

			delta := int64(peakBytes) - int64(idle)
			t.Logf("heap objects: idle %.1f MiB, peak %.1f MiB, peak above idle %.1f MiB (bound %d MiB)",
				mib(idle), mib(peakBytes), float64(delta)/(1<<20), maxHeapGrowth>>20)
			if delta > maxHeapGrowth {
				t.Errorf("peak heap %.1f MiB above idle, want at most %d MiB", float64(delta)/(1<<20), maxHeapGrowth>>20)
			}
			if idleRSS > 0 {
				rssDelta := int64(peakRSS()) - int64(idleRSS)
				t.Logf("resident set: idle %.1f MiB, peak above idle %.1f MiB (bound %d MiB)", mib(idleRSS), float64(rssDelta)/(1<<20), maxHeapGrowth>>20)
				if rssDelta > maxHeapGrowth {
					t.Errorf("peak RSS %.1f MiB above idle, want at most %d MiB", float64(rssDelta)/(1<<20), maxHeapGrowth>>20)
				}
			}

			st := h.Stats()
			if refused := st.OverConcurrency + st.OverBufferedBytes; refused != clients-webhook.DefaultMaxConcurrent {
				t.Errorf("Stats: %d refused over capacity, want %d (%+v)", refused, clients-webhook.DefaultMaxConcurrent, st)
			}
			changed, _ := sink.calls()
			if len(changed) != s.wantCalls {
				t.Errorf("%d Sink.Changed calls, want %d", len(changed), s.wantCalls)
			}
			for _, call := range changed {
				if fmt.Sprint(call) != fmt.Sprint([]string{groupA}) {
					t.Errorf("Sink.Changed(%q), want [%s]", call, groupA)
				}
			}
			if s.wantCode == http.StatusRequestEntityTooLarge && st.TooManyItems != webhook.DefaultMaxConcurrent {
				t.Errorf("Stats.TooManyItems %d, want %d", st.TooManyItems, webhook.DefaultMaxConcurrent)
			}
			logs.noSecrets(t)
		})
	}
}

// residentBytes reads the process's resident set from /proc/self/statm (0
// where there is none).
func residentBytes() uint64 {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b))
	if len(f) < 2 {
		return 0
	}
	pages, _ := strconv.ParseUint(f[1], 10, 64)
	return pages * uint64(os.Getpagesize())
}

// sampleRSS returns memory to the OS, reads the idle resident set, and
// samples it until stop, which returns the peak seen.
func sampleRSS() (idle uint64, stop func() uint64) {
	debug.FreeOSMemory()
	return samplePeak(residentBytes, 200*time.Microsecond)
}

// sampleHeap collects garbage, reads the idle heap, and samples the heap
// until stop, which returns the peak seen.
func sampleHeap() (idle uint64, stop func() uint64) {
	sample := []metrics.Sample{{Name: heapObjects}}
	runtime.GC()
	runtime.GC()
	return samplePeak(func() uint64 {
		metrics.Read(sample)
		return sample[0].Value.Uint64()
	}, 100*time.Microsecond)
}

// samplePeak reads the idle value, then reads every tick in a goroutine
// until stop, which returns the highest value read.
func samplePeak(read func() uint64, every time.Duration) (idle uint64, stop func() uint64) {
	idle = read()
	peak := idle
	done, finished := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(finished)
		tick := time.NewTicker(every)
		defer tick.Stop()
		for {
			peak = max(peak, read())
			select {
			case <-done:
				return
			case <-tick.C:
			}
		}
	}()
	return idle, func() uint64 {
		close(done)
		<-finished // the goroutine no longer writes peak
		return max(peak, read())
	}
}

// mib converts bytes to MiB.
func mib(b uint64) float64 { return float64(b) / (1 << 20) }

// emptyItemsBody is {"value":[{},{},...]} of exactly n bytes.
func emptyItemsBody(tb testing.TB, n int) []byte {
	tb.Helper()
	var b bytes.Buffer
	b.WriteString(`{"value":[{}`)
	for b.Len()+len(`,{}]}`) <= n {
		b.WriteString(`,{}`)
	}
	b.WriteString(`]`)
	b.WriteString(strings.Repeat(" ", n-b.Len()-1))
	b.WriteString(`}`)
	return b.Bytes()
}

// longItemsBody is a body of exactly n bytes of notification items that
// look valid, with long strings in the fields xtsync keeps (a forged
// clientState, a resource) and in fields it skips, under DefaultMaxItems
// items; the first item is genuine, so each body reaches the sink once.
func longItemsBody(tb testing.TB, n int) []byte {
	tb.Helper()
	long := func(c string, k int) string { return strings.Repeat(c, k) }
	var b bytes.Buffer
	b.WriteString(`{"value":[`)
	b.Write(mustJSON(tb, goodItem(groupA)))
	for count := 1; ; count++ {
		it := with(goodItem(groupB), "clientState", forged+long("c", 600))
		it = with(it, "resource", "Groups/"+groupB+long("r", 300))
		it = with(it, "subscriptionExpirationDateTime", long("9", 200))
		item := mustJSON(tb, it)
		if count >= webhook.DefaultMaxItems || b.Len()+1+len(item)+len(`]}`) > n {
			break
		}
		b.WriteByte(',')
		b.Write(item)
	}
	b.WriteString(`]`)
	b.WriteString(strings.Repeat(" ", n-b.Len()-1))
	b.WriteString(`}`)
	return b.Bytes()
}

// hugeItemBody is a body of exactly n bytes holding one item whose
// subscriptionId fills it.
func hugeItemBody(tb testing.TB, n int) []byte {
	tb.Helper()
	const head, tail = `{"value":[{"subscriptionId":"`, `"}]}`
	return []byte(head + strings.Repeat("x", n-len(head)-len(tail)) + tail)
}
