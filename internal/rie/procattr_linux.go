package rie

import "syscall"

// sysProcAttr makes the kernel send the RIE SIGTERM (which makes it kill the
// function and exit) when the test process dies without stopping it, after
// a panic or a go test timeout. (Linux sends it when the OS thread that
// started the RIE exits; Go keeps its threads unless a goroutine locked to
// one ends locked, which tests do not do.)
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
}
