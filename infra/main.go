// Command infra is xtsync's AWS CDK app: `cdk synth` and `cdk deploy` run it
// (cdk.json: "go run ./infra"). It turns the xtsync:* context (cdk.json,
// `cdk -c key=value`) into settings and synthesizes the State and Sync
// stacks. See docs/deploy.md.
package main

import (
	"fmt"
	"os"

	"github.com/aws/aws-cdk-go/awscdk/v2"

	"github.com/xtsync/xtsync/infra/stacks"
)

func main() {
	app := awscdk.NewApp(nil)
	if _, err := stacks.BuildFromContext(app, os.ReadFile); err != nil {
		fmt.Fprintln(os.Stderr, "xtsync infra:", err)
		os.Exit(1)
	}
	if err := stacks.Synth(app); err != nil {
		fmt.Fprintln(os.Stderr, "xtsync infra:", err)
		os.Exit(1)
	}
}
