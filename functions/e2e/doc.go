// Package e2e runs the three Lambda bootstraps (webhook, worker, reconcile)
// under the AWS Lambda Runtime Interface Emulator, against DynamoDB
// (dynalite), SQS (fauxqs) and the Graph emulator playing both tenants. A
// small driver stands in for API Gateway and for the SQS event source
// mapping. It has no non-test code.
package e2e
