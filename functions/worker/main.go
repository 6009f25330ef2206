// Command worker is the Lambda on the SQS FIFO queue: it applies each
// queued change to the target tenant (delta passes, shard syncs,
// subscription upkeep) and answers with the batch's item failures.
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
	lambda.Start(a.HandleSQS)
}
