package rie

import (
	"slices"
	"strconv"
	"strings"
	"time"
)

// Report is a REPORT line the RIE printed after an invoke.
type Report struct {
	// RequestID is the invoke's request id.
	RequestID string
	// Duration is the invoke's duration; for the first invoke of a runtime
	// it includes the runtime's start-up.
	Duration time.Duration
	// Billed is the billed duration: Duration rounded up to a millisecond.
	Billed time.Duration
	// MemorySizeMB is the configured memory (AWS_LAMBDA_FUNCTION_MEMORY_SIZE,
	// default 3008).
	MemorySizeMB int
	// MaxMemoryUsedMB is what the RIE prints as Max Memory Used: always the
	// memory size, not a measurement.
	MaxMemoryUsedMB int
	// HasInit says the line carried an Init Duration: the RIE process's
	// first invoke.
	HasInit bool
	// InitDuration is the Init Duration when HasInit. The RIE measures only
	// the hand-over of the init to its sandbox, not the runtime's start-up.
	InitDuration time.Duration
}

// Reports returns the REPORT lines printed so far, in order. Invoke waits
// for the REPORT of a successful invoke before it returns, so the reports
// of the invokes that returned are there.
func (f *Function) Reports() []Report {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.reports)
}

// parseReport parses a REPORT line; ok is false for other lines.
func parseReport(line string) (r Report, ok bool) {
	rest, ok := strings.CutPrefix(line, "REPORT RequestId: ")
	if !ok {
		return Report{}, false
	}
	fields := strings.Split(rest, "\t")
	r.RequestID = strings.TrimSpace(fields[0])
	for _, field := range fields[1:] {
		name, value, found := strings.Cut(field, ": ")
		if !found {
			continue
		}
		switch name {
		case "Init Duration":
			r.InitDuration, r.HasInit = millis(value)
		case "Duration":
			r.Duration, _ = millis(value)
		case "Billed Duration":
			r.Billed, _ = millis(value)
		case "Memory Size":
			r.MemorySizeMB = megabytes(value)
		case "Max Memory Used":
			r.MaxMemoryUsedMB = megabytes(value)
		}
	}
	return r, true
}

// millis parses "12.34 ms".
func millis(s string) (time.Duration, bool) {
	v, ok := strings.CutSuffix(strings.TrimSpace(s), " ms")
	if !ok {
		return 0, false
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil {
		return 0, false
	}
	return time.Duration(f * float64(time.Millisecond)), true
}

// megabytes parses "3008 MB"; zero when it cannot.
func megabytes(s string) int {
	v, _ := strings.CutSuffix(strings.TrimSpace(s), " MB")
	n, _ := strconv.Atoi(v)
	return n
}
