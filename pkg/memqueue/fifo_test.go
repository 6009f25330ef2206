package memqueue

import (
	"slices"
	"testing"
)

func TestFIFO(t *testing.T) {
	tests := []struct {
		name string
		ops  []string // a key pushes it, "" pops
		want []string // popped keys, in order
		left int
	}{
		{name: "empty", want: nil},
		{name: "push pop", ops: []string{"a", "b", "", "c", "", ""}, want: []string{"a", "b", "c"}},
		{name: "wrap then grow", ops: wrapThenGrow(), want: wrapThenGrowWant(), left: 0},
		{name: "leftovers", ops: []string{"a", "b", "c", ""}, want: []string{"a"}, left: 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var f fifo
			var got []string
			for _, op := range tt.ops {
				if op == "" {
					got = append(got, f.pop())
					continue
				}
				f.push(op)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("popped %v, want %v", got, tt.want)
			}
			if f.len() != tt.left {
				t.Errorf("len = %d, want %d", f.len(), tt.left)
			}
		})
	}
}

// wrapThenGrow fills the first 16-slot ring, pops 10 so the head moves,
// pushes 30 more (wrapping, then growing twice) and drains.
func wrapThenGrow() []string {
	var ops []string
	for i := range 16 {
		ops = append(ops, key(i))
	}
	for range 10 {
		ops = append(ops, "")
	}
	for i := 16; i < 46; i++ {
		ops = append(ops, key(i))
	}
	for range 36 {
		ops = append(ops, "")
	}
	return ops
}

func wrapThenGrowWant() []string {
	var out []string
	for i := range 46 {
		out = append(out, key(i))
	}
	return out
}

func key(i int) string { return string(rune('A'+i/26)) + string(rune('a'+i%26)) }
