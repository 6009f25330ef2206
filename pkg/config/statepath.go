package config

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
)

// CheckStatePath explains why the state file at path (state.path) cannot be
// opened or created: its directory does not exist or is not writable, the
// path is a directory or not a regular file, or permission is denied. It
// returns nil when it finds nothing wrong, in which case the open failed for
// another reason (a lock held by another xtsync, a file that is not a bbolt
// database). It only inspects: it never creates or changes a file or
// directory, so it is safe before a --dry-run.
//
// The errors are *Error naming the key state.path. They show the path: it is
// a file name, never a credential.
func CheckStatePath(path string) error {
	const key = "state.path"
	if path == "" {
		return errKey(key, "is empty: name the state file, e.g. ./xtsync.db")
	}
	if strings.ContainsRune(path, 0) {
		return errKey(key, "contains a NUL character")
	}
	shown := showPath(path)
	fi, err := os.Stat(path)
	switch {
	case err == nil && fi.IsDir():
		return errKey(key, "%s is a directory: name a file inside it, e.g. %s", shown, filepath.Join(path, "xtsync.db"))
	case err == nil && !fi.Mode().IsRegular():
		return errKey(key, "%s is not a regular file (%s): name the bbolt state file", shown, fi.Mode().Type())
	case err == nil:
		// Opening an existing file for writing, without O_CREATE or
		// O_TRUNC, changes nothing.
		f, err := os.OpenFile(path, os.O_RDWR, 0)
		if err != nil {
			return errKey(key, "%s cannot be opened for writing: %s", shown, pathCause(err))
		}
		if err := f.Close(); err != nil {
			return errKey(key, "%s: %s", shown, pathCause(err))
		}
		return nil
	case errors.Is(err, fs.ErrNotExist):
		return checkStateDir(key, filepath.Dir(path))
	case errors.Is(err, syscall.ENOTDIR):
		return errKey(key, "%s: a parent of the file is not a directory", shown)
	default:
		return errKey(key, "%s cannot be reached: %s", shown, pathCause(err))
	}
}

// checkStateDir checks the directory a new state file would be created in.
func checkStateDir(key, dir string) error {
	shown := showPath(dir)
	di, err := os.Stat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return errKey(key, "the directory %s does not exist: create it, or point state.path at a file in an existing directory", shown)
	case errors.Is(err, syscall.ENOTDIR):
		return errKey(key, "the directory %s: a parent of it is not a directory", shown)
	case err != nil:
		return errKey(key, "the directory %s cannot be reached: %s", shown, pathCause(err))
	case !di.IsDir():
		return errKey(key, "%s is not a directory", shown)
	}
	if err := dirWritable(dir); err != nil {
		return errKey(key, "the directory %s is not writable by this user (%s): xtsync creates the state file there", shown, pathCause(err))
	}
	return nil
}

// showPath is path for a message, with its absolute form when relative.
func showPath(path string) string {
	if filepath.IsAbs(path) {
		return path
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return path
	}
	return fmt.Sprintf("%s (%s)", path, abs)
}

// pathCause is the operating system's reason without the path it names.
func pathCause(err error) string {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}
