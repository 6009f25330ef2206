package rie

import (
	"errors"
	"syscall"
	"time"
)

// Kill kills the function's process hard (SIGKILL to its process group), as
// a crash or an out-of-memory kill would, and waits until it is gone. An
// invoke in flight, or the next one, fails with a *FunctionError of type
// Runtime.ExitError; the RIE starts a fresh runtime for the invoke after
// that. The RIE starts the function on the first invoke: Kill before it
// fails the test.
func (f *Function) Kill() {
	f.t.Helper()
	kids := children(f.cmd.Process.Pid)
	if len(kids) == 0 {
		f.t.Errorf("rie: Kill: no function process is running (the RIE starts it on the first invoke)")
		return
	}
	for _, pid := range kids {
		f.t.Logf("rie: killing function process %d", pid)
		killGroup(pid)
	}
	deadline := time.Now().Add(stopTimeout)
	for _, pid := range kids {
		for alive(pid) {
			if time.Now().After(deadline) {
				f.t.Errorf("rie: Kill: process %d still there after %v", pid, stopTimeout)
				return
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
}

// killGroup sends SIGKILL to the process group led by pid (the RIE starts
// the function as a group leader), or to pid alone when that fails.
func killGroup(pid int) {
	if err := syscall.Kill(-pid, syscall.SIGKILL); err != nil {
		_ = syscall.Kill(pid, syscall.SIGKILL)
	}
}

// alive reports whether pid exists (a zombie not yet reaped by the RIE
// counts as alive).
func alive(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}
