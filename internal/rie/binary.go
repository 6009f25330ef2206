package rie

import (
	"os"
	"path/filepath"
	"testing"
)

// EnvBinary names the RIE binary to use instead of bin/aws-lambda-rie.
const EnvBinary = "XTSYNC_TEST_RIE"

// Install is how `make test` installs the RIE (run in the module root).
const Install = "GOBIN=$PWD/bin go install github.com/aws/aws-lambda-runtime-interface-emulator/cmd/aws-lambda-rie@v0.0.0-20261030222936-bef5c4ba774d"

// binary returns the RIE binary: $XTSYNC_TEST_RIE, else bin/aws-lambda-rie
// in the module root. Without it the test fails, or is skipped under -short.
func binary(t testing.TB) string {
	t.Helper()
	if p := os.Getenv(EnvBinary); p != "" {
		if fi, err := os.Stat(p); err != nil || fi.IsDir() {
			t.Fatalf("rie: %s=%s is not a file (%v)", EnvBinary, p, err)
		}
		return p
	}
	root, err := moduleRoot()
	if err == nil {
		p := filepath.Join(root, "bin", "aws-lambda-rie")
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() {
			return p
		}
	}
	msg := "bin/aws-lambda-rie is missing: this test runs a Lambda function under the AWS Lambda Runtime Interface Emulator. " +
		"Run the tests with `make test`, which installs it, or install it with `" + Install + "`"
	if testing.Short() {
		t.Skip(msg + " (skipped under -short)")
	}
	t.Fatal(msg)
	return ""
}

// moduleRoot returns the nearest directory at or above the working
// directory holding a go.mod.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", os.ErrNotExist
		}
		dir = parent
	}
}
