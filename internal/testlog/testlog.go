// Package testlog routes logs to a test's t.Log.
package testlog

import (
	"log/slog"
	"strings"
	"testing"
)

// Writer writes what it is given to t.Log, a call per write.
type Writer struct{ T testing.TB }

// Write logs p without its trailing newline.
func (w Writer) Write(p []byte) (int, error) {
	w.T.Helper()
	w.T.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// New returns a text logger at level that writes to t.Log.
func New(t testing.TB, level slog.Level) *slog.Logger {
	return slog.New(slog.NewTextHandler(Writer{t}, &slog.HandlerOptions{Level: level}))
}
