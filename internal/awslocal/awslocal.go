// Package awslocal connects tests to the local AWS stand-ins that `make test`
// starts (scripts/testenv.mjs): dynalite for DynamoDB and fauxqs for SQS, on
// loopback. Tests that need them call DynamoDBEndpoint, SQSEndpoint or
// Config; without the stand-ins those fail the test with a message saying to
// run `make test`, or skip it under -short.
package awslocal

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// The environment variables scripts/testenv.mjs sets for `go test`.
const (
	EnvDynamoDB = "XTSYNC_TEST_DYNAMODB_ENDPOINT"
	EnvSQS      = "XTSYNC_TEST_SQS_ENDPOINT"
)

// Region is used when AWS_REGION is unset.
const Region = "us-east-1"

// DynamoDBEndpoint returns the local DynamoDB (dynalite) endpoint URL.
func DynamoDBEndpoint(t testing.TB) string {
	t.Helper()
	return endpoint(t, EnvDynamoDB, "DynamoDB (dynalite)")
}

// SQSEndpoint returns the local SQS (fauxqs) endpoint URL.
func SQSEndpoint(t testing.TB) string {
	t.Helper()
	return endpoint(t, EnvSQS, "SQS (fauxqs)")
}

func endpoint(t testing.TB, env, what string) string {
	t.Helper()
	v := os.Getenv(env)
	if v != "" {
		return v
	}
	msg := env + " is not set: this test needs the local " + what + " stand-in. " +
		"Run the tests with `make test`, which starts dynalite and fauxqs on loopback (scripts/testenv.mjs) and runs go test with their endpoints"
	if testing.Short() {
		t.Skip(msg + " (skipped under -short)")
	}
	t.Fatal(msg)
	return ""
}

// Config is an AWS configuration for the local stand-ins: the region from
// AWS_REGION (default us-east-1) and static dummy credentials (from
// AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY when set). Point each client at
// its endpoint with BaseEndpoint.
func Config(t testing.TB) aws.Config {
	t.Helper()
	region := os.Getenv("AWS_REGION")
	if region == "" {
		region = Region
	}
	key, secret := os.Getenv("AWS_ACCESS_KEY_ID"), os.Getenv("AWS_SECRET_ACCESS_KEY")
	if key == "" || secret == "" {
		key, secret = "test", "test"
	}
	return aws.Config{
		Region: region,
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{AccessKeyID: key, SecretAccessKey: secret, Source: "awslocal"}, nil
		}),
	}
}

var unsafeName = regexp.MustCompile(`[^A-Za-z0-9_-]+`)

// UniqueName returns a table or queue name for this test that no other test
// run shares: the test's name, sanitised and cut, and a random suffix.
// The stand-ins live for one `make test`, so names must not collide.
func UniqueName(t testing.TB) string {
	t.Helper()
	var b [4]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatal(err)
	}
	base := strings.Trim(unsafeName.ReplaceAllString(t.Name(), "-"), "-")
	if len(base) > 40 {
		base = base[:40]
	}
	return base + "-" + hex.EncodeToString(b[:])
}

// Context is a context for calls to the stand-ins: cancelled when the test
// ends, or after two minutes so a hung stand-in fails the test.
func Context(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}
