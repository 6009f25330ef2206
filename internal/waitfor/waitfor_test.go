package waitfor_test

import (
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/xtsync/xtsync/internal/waitfor"
)

// fakeT records a Fatalf and ends its goroutine, as testing.T's does.
type fakeT struct {
	testing.TB
	fatal string
}

func (f *fakeT) Helper() {}

func (f *fakeT) Fatalf(format string, args ...any) {
	f.fatal = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

// run calls WaitFor with a fakeT in its own goroutine and returns the
// failure, if any.
func run(d time.Duration, what string, cond func() bool) string {
	f := &fakeT{}
	done := make(chan struct{})
	go func() {
		defer close(done)
		waitfor.WaitFor(f, d, what, cond)
	}()
	<-done
	return f.fatal
}

func TestHoldsAtOnce(t *testing.T) {
	calls := 0
	if msg := run(time.Hour, "x", func() bool { calls++; return true }); msg != "" || calls != 1 {
		t.Errorf("failure %q after %d calls, want none after 1", msg, calls)
	}
}

func TestPollsUntilItHolds(t *testing.T) {
	calls := 0
	if msg := run(time.Minute, "x", func() bool { calls++; return calls == 5 }); msg != "" || calls != 5 {
		t.Errorf("failure %q after %d calls, want none after 5", msg, calls)
	}
}

func TestFailsAfterD(t *testing.T) {
	start := time.Now()
	msg := run(20*time.Millisecond, "the moon", func() bool { return false })
	if want := "the moon: not after 20ms"; msg != want {
		t.Errorf("failure %q, want %q", msg, want)
	}
	if took := time.Since(start); took < 20*time.Millisecond {
		t.Errorf("failed after %s, before the 20ms", took)
	}
}
