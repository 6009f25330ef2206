//go:build !linux

package rie

import (
	"os/exec"
	"strconv"
	"strings"
)

// children returns the pids of the processes whose parent is pid, from
// ps(1).
func children(pid int) []int {
	out, err := exec.Command("ps", "-A", "-o", "pid=,ppid=").Output()
	if err != nil {
		return nil
	}
	var kids []int
	for line := range strings.Lines(string(out)) {
		f := strings.Fields(line)
		if len(f) != 2 {
			continue
		}
		child, err1 := strconv.Atoi(f[0])
		ppid, err2 := strconv.Atoi(f[1])
		if err1 == nil && err2 == nil && ppid == pid {
			kids = append(kids, child)
		}
	}
	return kids
}
