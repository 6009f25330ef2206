// Package app is the application layer of xtsync: it owns the flow from
// "something changed" to "the engine ran", the same in `xtsync serve` and
// on AWS. The webhook's accepted notifications reach the Router, which
// turns them into tasks (pkg/task) on a Queue; a Worker takes each task off
// the queue and runs it with the engine or the subscription manager; the
// deletion guard's outcome is handled once, in the worker (and in FanOut,
// the AWS reconcile, which plans the whole scope and queues a sync per
// shard).
//
//	Graph ──notification──▶ webhook ──▶ app.Router ──task──▶ Queue ──▶ app.Worker ──▶ engine ──▶ msgraph ──▶ target tenant
//	                        (pkg/webhook)              (memqueue │ sqsqueue)       │     (pkg/engine)
//	schedule, operators ──────────────────────task──────────▲                     └──▶ subscribe (subscriptions)
//	                                                                                      state: boltstore │ dynamostore
//
// Build assembles an App from a deployment's adapters (Deps): cmd/xtsync
// calls it with bbolt and the in-process queue, pkg/lambdaapp with
// DynamoDB and SQS. The webhook function, which must not link the Graph
// SDK, builds only a Router (NewRouter) and its endpoint (Webhook).
// Adapters never import this package: it declares the ports it consumes
// (Queue, Engine, SubscriptionManager, Scope).
package app
