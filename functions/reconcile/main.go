// Command reconcile is the scheduled Lambda: under a lease it keeps the
// Graph subscriptions alive, plans the whole scope, applies the deletion
// threshold to the whole run, and fans the work out to the queue by shard.
package main

import (
	"context"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/xtsync/xtsync/pkg/engine"
	"github.com/xtsync/xtsync/pkg/lambdaapp"
	"github.com/xtsync/xtsync/pkg/msgraph"
)

func main() {
	log := slog.New(slog.NewJSONHandler(os.Stdout, nil))
	a, err := lambdaapp.FromEnv(context.Background(), os.Getenv, log, msgraph.Ports, lambdaapp.MetricsOut{W: os.Stdout, Clock: engine.SystemClock{}})
	if err != nil {
		log.Error("start", "err", err)
		os.Exit(1)
	}
	lambda.Start(a.HandleSchedule)
}
