package memqueue

// fifo is a growable ring buffer of keys.
type fifo struct {
	buf  []string
	head int
	n    int
}

// len is the number of keys held.
func (f *fifo) len() int { return f.n }

// push appends key at the tail.
func (f *fifo) push(key string) {
	if f.n == len(f.buf) {
		f.grow()
	}
	f.buf[(f.head+f.n)%len(f.buf)] = key
	f.n++
}

// pop removes and returns the head; the caller checks len first.
func (f *fifo) pop() string {
	key := f.buf[f.head]
	f.buf[f.head] = ""
	f.head = (f.head + 1) % len(f.buf)
	f.n--
	return key
}

// grow doubles the buffer, keeping the order.
func (f *fifo) grow() {
	buf := make([]string, max(16, 2*len(f.buf)))
	for i := range f.n {
		buf[i] = f.buf[(f.head+i)%len(f.buf)]
	}
	f.buf, f.head = buf, 0
}
