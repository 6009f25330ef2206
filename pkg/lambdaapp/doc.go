// Package lambdaapp wires the AWS form of xtsync: what the three Lambda
// mains (functions/webhook, functions/worker, functions/reconcile) read from
// their environment, how they load the configuration (inline or from an SSM
// parameter) and the Graph client secrets (from Secrets Manager, once per
// container), and how they build the engine over DynamoDB and SQS.
package lambdaapp
