package rie

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// buildDirPrefix names the per-process directories of built bootstraps in
// the system temp directory: xtsync-rie-<pid>-<hash of the test binary>.
const buildDirPrefix = "xtsync-rie-"

// Build builds the Go main package pkg (an import path, or a directory
// relative to the test's working directory, like "./testdata/echo") as a
// Lambda bootstrap for the host OS and architecture: CGO_ENABLED=0,
// -tags lambda.norpc. It returns the binary's path. A package is built once
// per test process: the binary is kept in a directory of the system temp
// directory named after the process (no package state holds it), and Build
// removes the directories of processes that are gone.
func Build(t testing.TB, pkg string) string {
	t.Helper()
	key := pkg
	if strings.HasPrefix(pkg, ".") || filepath.IsAbs(pkg) {
		abs, err := filepath.Abs(pkg)
		if err != nil {
			t.Fatalf("rie: build %s: %v", pkg, err)
		}
		key, pkg = abs, abs
	}
	dir, err := processBuildDir()
	if err != nil {
		t.Fatalf("rie: build %s: %v", pkg, err)
	}
	sum := sha256.Sum256([]byte(key))
	out := filepath.Join(dir, hex.EncodeToString(sum[:8]), "bootstrap")
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		t.Fatalf("rie: build %s: %v", pkg, err)
	}
	// Parallel tests building one package wait for the first build.
	unlock, err := lockFile(out + ".lock")
	if err != nil {
		t.Fatalf("rie: build %s: %v", pkg, err)
	}
	defer unlock()
	if fi, err := os.Stat(out); err == nil && fi.Mode().IsRegular() {
		return out
	}
	// Build next to it and rename: the binary is never seen half-written.
	tmp := fmt.Sprintf("%s.%d.tmp", out, time.Now().UnixNano())
	cmd := exec.Command("go", "build", "-tags", "lambda.norpc", "-o", tmp, pkg)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS="+runtime.GOOS, "GOARCH="+runtime.GOARCH)
	started := time.Now()
	if b, err := cmd.CombinedOutput(); err != nil {
		_ = os.Remove(tmp)
		t.Fatalf("rie: go build %s: %v\n%s", pkg, err, b)
	}
	if err := os.Rename(tmp, out); err != nil {
		_ = os.Remove(tmp)
		t.Fatalf("rie: build %s: %v", pkg, err)
	}
	t.Logf("rie: built %s in %v: %s", pkg, time.Since(started).Round(time.Millisecond), out)
	return out
}

// processBuildDir returns this process's directory of built bootstraps,
// creating it, and the first time removing those of processes that have
// exited.
func processBuildDir() (string, error) {
	exe, err := os.Executable()
	if err != nil {
		return "", err
	}
	fi, err := os.Stat(exe)
	if err != nil {
		return "", err
	}
	// The test binary's path and time tell this process from an earlier
	// one that had the same pid.
	sum := sha256.Sum256([]byte(exe + "\x00" + fi.ModTime().String()))
	dir := filepath.Join(os.TempDir(), fmt.Sprintf("%s%d-%s", buildDirPrefix, os.Getpid(), hex.EncodeToString(sum[:6])))
	if _, err := os.Stat(dir); err == nil {
		return dir, nil
	}
	removeStaleBuildDirs()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	return dir, nil
}

// removeStaleBuildDirs removes the build directories of processes that no
// longer run.
func removeStaleBuildDirs() {
	ents, err := os.ReadDir(os.TempDir())
	if err != nil {
		return
	}
	for _, e := range ents {
		rest, ok := strings.CutPrefix(e.Name(), buildDirPrefix)
		if !ok || !e.IsDir() {
			continue
		}
		pidText, _, _ := strings.Cut(rest, "-")
		pid, err := strconv.Atoi(pidText)
		if err != nil || pid <= 0 {
			continue
		}
		if err := syscall.Kill(pid, 0); errors.Is(err, syscall.ESRCH) {
			_ = os.RemoveAll(filepath.Join(os.TempDir(), e.Name()))
		}
	}
}

// lockFile takes an exclusive flock(2) on path, creating it, and returns
// its release. Separate opens of one file exclude each other, so it also
// serializes goroutines of one process.
func lockFile(path string) (func(), error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	return func() {
		_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		_ = f.Close()
	}, nil
}
