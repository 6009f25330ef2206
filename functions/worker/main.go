// Command worker is the Lambda on the SQS FIFO queue: it applies each
// queued change to the target tenant (delta passes, shard syncs,
// subscription upkeep) and answers with the batch's item failures.
package main

import (
	"context"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"

	"github.com/xtsync/xtsync/pkg/lambdaapp"
)

func main() {
	log := slog.New(slog.NewJSONHandler(os.Stdout, nil))
	ctx := context.Background()
	settings, err := lambdaapp.ReadSettings(os.Getenv)
	if err != nil {
		log.Error("start", "err", err)
		os.Exit(1)
	}
	cfg, err := awsconfig.LoadDefaultConfig(ctx)
	if err != nil {
		log.Error("aws config", "err", err)
		os.Exit(1)
	}
	sync, err := lambdaapp.NewSync(ctx, settings, cfg, log)
	if err != nil {
		log.Error("start", "err", err)
		os.Exit(1)
	}
	lambda.Start(sync.HandleSQS)
}
