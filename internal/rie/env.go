package rie

import (
	"errors"
	"os"
	"strings"
)

// envManagedInstances switches aws-lambda-rie to its Lambda Managed
// Instances mode, which takes other flags.
const envManagedInstances = "AWS_LAMBDA_MAX_CONCURRENCY"

// defaultRegion is the region when the test process has no AWS_REGION.
const defaultRegion = "us-east-1"

// environ returns the RIE's environment, which the RIE hands on to the
// function: a few basics from the test process, a region and dummy
// credentials, then extra, whose later entries win.
func environ(extra []string) ([]string, error) {
	for _, kv := range extra {
		if k, _, _ := strings.Cut(kv, "="); k == envManagedInstances {
			return nil, errors.New(envManagedInstances + " is set: it switches the RIE to another mode, which Start does not run")
		}
	}
	var env []string
	for _, k := range []string{"PATH", "HOME", "TMPDIR", "TZ"} {
		if v, ok := os.LookupEnv(k); ok {
			env = append(env, k+"="+v)
		}
	}
	region := os.Getenv("AWS_REGION")
	if region == "" {
		region = defaultRegion
	}
	env = append(env,
		"AWS_REGION="+region,
		"AWS_DEFAULT_REGION="+region,
		// Dummies, whatever the test process holds: a function under test
		// reaches only the local stand-ins.
		"AWS_ACCESS_KEY_ID=test",
		"AWS_SECRET_ACCESS_KEY=test",
		"AWS_EC2_METADATA_DISABLED=true",
	)
	return append(env, extra...), nil
}
