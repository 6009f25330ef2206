// Command webhook is the Lambda behind the HTTPS endpoint Graph calls: it
// runs pkg/webhook's handler on API Gateway HTTP API (payload 2.0) and
// Function URL events and queues accepted changes to SQS. It answers a
// validation request without any AWS call.
package main

import (
	"context"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/xtsync/xtsync/pkg/engine"
	"github.com/xtsync/xtsync/pkg/lambdaapp"
	"github.com/xtsync/xtsync/pkg/lambdahttp"
)

func main() {
	log := slog.New(slog.NewJSONHandler(os.Stdout, nil))
	h, err := lambdaapp.WebhookFromEnv(context.Background(), os.Getenv, log, lambdaapp.MetricsOut{W: os.Stdout, Clock: engine.SystemClock{}})
	if err != nil {
		log.Error("start", "err", err)
		os.Exit(1)
	}
	// The adapter logs refused events and handler panics with the
	// function's JSON logger, like the rest of the function.
	a := &lambdahttp.Adapter{Handler: h, Log: log}
	lambda.Start(a.ServeV2)
}
