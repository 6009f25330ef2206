package rie

import (
	"bytes"
	"sync"
)

// maxLine is the longest line kept whole; longer ones are cut.
const maxLine = 64 << 10

// lineWriter splits what is written into lines, handing each, without its
// newline, to line.
type lineWriter struct {
	mu   sync.Mutex
	buf  []byte
	line func(string)
}

// Write handles the complete lines of p and keeps the rest.
func (w *lineWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf = append(w.buf, p...)
	for {
		i := bytes.IndexByte(w.buf, '\n')
		if i < 0 {
			break
		}
		w.line(string(bytes.TrimSuffix(w.buf[:i], []byte("\r"))))
		w.buf = w.buf[i+1:]
	}
	if len(w.buf) > maxLine {
		w.line(string(w.buf))
		w.buf = nil
	}
	return len(p), nil
}

// flush hands on an unterminated last line.
func (w *lineWriter) flush() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.buf) > 0 {
		w.line(string(w.buf))
		w.buf = nil
	}
}
