// Package lambdaapp wires the AWS form of xtsync: what the three Lambda
// mains (functions/webhook, functions/worker, functions/reconcile) read from
// their environment, how they load the configuration (inline or from an SSM
// parameter) and the Graph client secrets (from Secrets Manager, once per
// container), and how they build the application over DynamoDB and SQS:
// app.Build for the worker and reconcile (FromEnv), and only
// the router and its endpoint for the webhook (WebhookFromEnv), which links
// no Graph SDK.
package lambdaapp
