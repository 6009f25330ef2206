//go:build !linux

package rie

import "syscall"

// sysProcAttr has nothing to set outside Linux (no parent-death signal).
func sysProcAttr() *syscall.SysProcAttr { return nil }
