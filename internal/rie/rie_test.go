package rie_test

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/xtsync/xtsync/internal/rie"
)

// echo builds testdata/echo (once per test process) and starts it.
func echo(t *testing.T, env ...string) *rie.Function {
	t.Helper()
	return rie.Start(t, rie.Build(t, "./testdata/echo"), env)
}

func TestBuildCaches(t *testing.T) {
	first := rie.Build(t, "./testdata/echo")
	fi, err := os.Stat(first)
	if err != nil {
		t.Fatal(err)
	}
	if !fi.Mode().IsRegular() || fi.Mode().Perm()&0o100 == 0 {
		t.Fatalf("%s: mode %v, want an executable file", first, fi.Mode())
	}
	abs, err := filepath.Abs("testdata/echo")
	if err != nil {
		t.Fatal(err)
	}
	again := rie.Build(t, abs) // the same package, named differently
	if again != first {
		t.Errorf("second Build of the package returned %s, want the cached %s", again, first)
	}
	fi2, err := os.Stat(again)
	if err != nil || !fi2.ModTime().Equal(fi.ModTime()) {
		t.Errorf("the cached binary was rebuilt (%v, %v)", fi2.ModTime(), fi.ModTime())
	}
}

func TestEchoAndReports(t *testing.T) {
	t.Parallel()
	fn := echo(t)
	payloads := []string{`{"hello":"world","n":1}`, `"just a string"`}
	for _, p := range payloads {
		got, err := fn.Invoke(t.Context(), []byte(p))
		if err != nil {
			t.Fatalf("Invoke(%s): %v", p, err)
		}
		if string(got) != p {
			t.Errorf("Invoke(%s) = %s, want the payload back", p, got)
		}
	}
	reps := fn.Reports()
	if len(reps) != len(payloads) {
		t.Fatalf("%d reports, want %d: %+v", len(reps), len(payloads), reps)
	}
	for i, r := range reps {
		t.Logf("report %d: %+v", i, r)
		if r.RequestID == "" || r.Duration <= 0 || r.Billed < r.Duration || r.MemorySizeMB != 3008 || r.MaxMemoryUsedMB != 3008 {
			t.Errorf("report %d: %+v: want a request id, a duration, billed >= duration, 3008 MB", i, r)
		}
		if r.HasInit != (i == 0) {
			t.Errorf("report %d: HasInit %v, want Init Duration on the first invoke only", i, r.HasInit)
		}
	}
	if reps[0].RequestID == reps[1].RequestID {
		t.Errorf("two invokes with request id %s", reps[0].RequestID)
	}
}

func TestKill(t *testing.T) {
	t.Parallel()
	fn := echo(t)
	if _, err := fn.Invoke(t.Context(), []byte(`1`)); err != nil {
		t.Fatal(err)
	}
	fn.Kill()
	_, err := fn.Invoke(t.Context(), []byte(`2`))
	var fe *rie.FunctionError
	if !errors.As(err, &fe) || fe.Type != "Runtime.ExitError" || fe.StatusCode != 502 {
		t.Fatalf("Invoke after Kill: %v, want a 502 Runtime.ExitError function error", err)
	}
	// The RIE starts a fresh runtime for the next invoke, as Lambda does.
	got, err := fn.Invoke(t.Context(), []byte(`3`))
	if err != nil || string(got) != `3` {
		t.Errorf("Invoke after the failed one: %s, %v; want 3", got, err)
	}
	if n := len(fn.Reports()); n != 2 {
		t.Errorf("%d reports, want 2 (none for the failed invoke)", n)
	}
}

func TestFunctionError(t *testing.T) {
	t.Parallel()
	fn := echo(t)
	body, err := fn.Invoke(t.Context(), []byte(`{"echoError":"boom"}`))
	var fe *rie.FunctionError
	if !errors.As(err, &fe) {
		t.Fatalf("Invoke: %v (body %s), want a *FunctionError", err, body)
	}
	if fe.StatusCode != 200 || fe.Type != "errorString" || fe.Message != "boom" {
		t.Errorf("function error %+v, want status 200, errorString, boom", fe)
	}
}

func TestEnvironment(t *testing.T) {
	t.Parallel()
	fn := echo(t, "XTSYNC_TEST_VALUE=a=b c", "AWS_LAMBDA_FUNCTION_NAME=xtsync-echo", "AWS_ACCESS_KEY_ID=from-env")
	for name, want := range map[string]string{
		"XTSYNC_TEST_VALUE":        "a=b c",
		"AWS_LAMBDA_FUNCTION_NAME": "xtsync-echo",
		"AWS_ACCESS_KEY_ID":        "from-env", // env wins over the dummy
		"AWS_SECRET_ACCESS_KEY":    "test",     // the dummy
		"AWS_LAMBDA_RUNTIME_API":   "",         // checked below: set
	} {
		got, err := fn.Invoke(t.Context(), []byte(`{"echoGetenv":"`+name+`"}`))
		if err != nil {
			t.Fatal(err)
		}
		var v string
		if err := json.Unmarshal(got, &v); err != nil {
			t.Fatalf("%s: %s: %v", name, got, err)
		}
		if name == "AWS_LAMBDA_RUNTIME_API" {
			if v == "" {
				t.Error("AWS_LAMBDA_RUNTIME_API not set in the function")
			}
			continue
		}
		if v != want {
			t.Errorf("%s = %q, want %q", name, v, want)
		}
	}
}

func TestTimeout(t *testing.T) {
	t.Parallel()
	fn := echo(t, "AWS_LAMBDA_FUNCTION_TIMEOUT=1")
	_, err := fn.Invoke(t.Context(), []byte(`{"echoSleepMs":5000}`))
	var fe *rie.FunctionError
	if !errors.As(err, &fe) || fe.Type != "Sandbox.Timedout" {
		t.Fatalf("Invoke past the timeout: %v, want a Sandbox.Timedout function error", err)
	}
}

// TestSampleEvents invokes the echo function with each sample event in
// events/: each is one JSON value that comes back unchanged.
func TestSampleEvents(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob(filepath.Join("..", "..", "events", "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 6 {
		t.Fatalf("%d sample events in events/, want at least 6", len(files))
	}
	fn := echo(t)
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		got, err := fn.Invoke(t.Context(), b)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		var want, back any
		if err := json.Unmarshal(b, &want); err != nil {
			t.Fatalf("%s is not JSON: %v", f, err)
		}
		if err := json.Unmarshal(got, &back); err != nil || !reflect.DeepEqual(back, want) {
			t.Errorf("%s came back as %.200s (%v)", f, got, err)
		}
	}
}
