//go:build unix

package config

import "syscall"

// dirWritable reports whether this process may create a file in dir, using
// access(2): nothing is created to find out.
func dirWritable(dir string) error {
	const wOK, xOK = 0x2, 0x1 // W_OK, X_OK from <unistd.h>
	return syscall.Access(dir, wOK|xOK)
}
