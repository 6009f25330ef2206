package rie

import (
	"testing"
	"time"
)

func TestParseReport(t *testing.T) {
	cases := []struct {
		line string
		ok   bool
		want Report
	}{
		{
			line: "REPORT RequestId: 9da03dca-d2f5-4ba2-a083-eb09caab4f49\tInit Duration: 0.67 ms\tDuration: 50.54 ms\tBilled Duration: 51 ms\tMemory Size: 3008 MB\tMax Memory Used: 3008 MB\t",
			ok:   true,
			want: Report{
				RequestID: "9da03dca-d2f5-4ba2-a083-eb09caab4f49", HasInit: true, InitDuration: 670 * time.Microsecond,
				Duration: 50540 * time.Microsecond, Billed: 51 * time.Millisecond, MemorySizeMB: 3008, MaxMemoryUsedMB: 3008,
			},
		},
		{
			line: "REPORT RequestId: e31e5d79\tDuration: 4.41 ms\tBilled Duration: 5 ms\tMemory Size: 128 MB\tMax Memory Used: 128 MB\t",
			ok:   true,
			want: Report{RequestID: "e31e5d79", Duration: 4410 * time.Microsecond, Billed: 5 * time.Millisecond, MemorySizeMB: 128, MaxMemoryUsedMB: 128},
		},
		{line: "START RequestId: e31e5d79 Version: $LATEST"},
		{line: "END RequestId: e31e5d79"},
		{line: "some function output mentioning REPORT RequestId: x"},
	}
	for _, c := range cases {
		got, ok := parseReport(c.line)
		if ok != c.ok || got != c.want {
			t.Errorf("parseReport(%q) = %+v, %v; want %+v, %v", c.line, got, ok, c.want, c.ok)
		}
	}
}

func TestFunctionErrorShape(t *testing.T) {
	cases := []struct {
		status int
		body   string
		want   *FunctionError
	}{
		{200, `{"errorMessage":"boom","errorType":"errorString"}`, &FunctionError{200, "errorString", "boom"}},
		{200, `{"errorMessage":"x","errorType":"T","stackTrace":[]}`, &FunctionError{200, "T", "x"}},
		{502, `{"errorType":"Runtime.ExitError","errorMessage":"RequestId: r Error: Runtime exited with error: signal: killed"}`,
			&FunctionError{502, "Runtime.ExitError", "RequestId: r Error: Runtime exited with error: signal: killed"}},
		{200, `Task timed out after 1.00 seconds`, &FunctionError{200, "Sandbox.Timedout", "Task timed out after 1.00 seconds"}},
		{200, `{"errorMessage":"x","errorType":"T","other":1}`, nil}, // not only the error's fields
		{200, `{"errorMessage":"x"}`, nil},
		{200, `{"batchItemFailures":[]}`, nil},
		{200, `"errorMessage"`, nil},
		{500, ``, nil},
	}
	for _, c := range cases {
		got := functionError(c.status, []byte(c.body))
		if (got == nil) != (c.want == nil) || got != nil && *got != *c.want {
			t.Errorf("functionError(%d, %s) = %+v, want %+v", c.status, c.body, got, c.want)
		}
	}
}
