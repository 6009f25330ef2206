// Package stacks is xtsync's AWS CDK app: the settings (cdk.json context and
// -c key=value, validated at synth), the State stack (the DynamoDB table)
// and the Sync stack (queue, functions, HTTP API, schedule, secrets,
// configuration parameter, alarms, dashboard), and the cdk-nag checks that
// every synth runs. infra/main.go wires it; docs/deploy.md explains it.
package stacks
