// Package rie runs Lambda functions locally for tests, under the AWS Lambda
// Runtime Interface Emulator (RIE) that `make test` installs as
// bin/aws-lambda-rie:
//
//	bin := rie.Build(t, "./functions/worker") // a linux-style bootstrap for the host
//	fn := rie.Start(t, bin, []string{"XTSYNC_QUEUE_URL=..."})
//	out, err := fn.Invoke(ctx, payload)
//
// Start runs `aws-lambda-rie --runtime-interface-emulator-address
// 127.0.0.1:P --runtime-api-address 127.0.0.1:Q <bootstrap>` on two free
// loopback ports (the RIE listens on 0.0.0.0:8080 and 127.0.0.1:9001 by
// default, so neither default is used), in the bootstrap's directory, and
// stops it when the test ends. What this RIE version does, read from its
// source (github.com/aws/aws-lambda-runtime-interface-emulator@v0.0.0-20261030222936-bef5c4ba774d,
// cmd/aws-lambda-rie and internal/lambda/rie) and checked by this package's
// tests:
//
//   - Flags (go-flags, unknown ones ignored, so --help starts it):
//     --runtime-interface-emulator-address (the invoke endpoint, default
//     0.0.0.0:8080), --runtime-api-address (the Runtime API the bootstrap
//     polls, default 127.0.0.1:9001), --log-level (or LOG_LEVEL; default
//     info), --enable-init-caching. The first argument after the flags is
//     the bootstrap; with more, the last is the handler. The environment
//     variable AWS_LAMBDA_MAX_CONCURRENCY switches the binary to a different
//     mode (Lambda Managed Instances) with other flags, so Start refuses it.
//   - The invoke endpoint is POST /2015-03-31/functions/function/invocations
//     (any method is accepted). The function is started (init) on the first
//     invoke, not at start-up. A function error is answered 200 with the
//     error as the body ({"errorMessage","errorType"}), without the
//     X-Amz-Function-Error header of the real Invoke API; a runtime that
//     exits or is killed during an invoke makes it 502 with
//     {"errorType":"Runtime.ExitError",...}, and the next invoke starts a
//     fresh runtime; a timeout (AWS_LAMBDA_FUNCTION_TIMEOUT seconds, default
//     300) is answered 200 "Task timed out after N.00 seconds". Invoke turns
//     all three into a *FunctionError.
//   - The function's environment is the RIE's own (Start passes env and a
//     few basics; see Start) plus AWS_LAMBDA_RUNTIME_API and defaults:
//     AWS_LAMBDA_FUNCTION_NAME test_function, AWS_LAMBDA_FUNCTION_MEMORY_SIZE
//     3008, version $LATEST. The request id is the X-Amzn-RequestId header of
//     the invoke when set.
//   - Logs: the function's stdout and stderr and the RIE's
//     "START RequestId: ...", "END RequestId: ..." and
//     "REPORT RequestId: <id>\t[Init Duration: X ms\t]Duration: X ms\tBilled Duration: N ms\tMemory Size: M MB\tMax Memory Used: M MB\t"
//     lines all go to the RIE's stdout; its own log (logrus,
//     "28 Nov 2026 14:02:44,924 [INFO] (rapid) ...") to stderr. Start
//     routes both to t.Log, prefixed "fn|" and "rie|". No REPORT is printed
//     for an invoke that fails with 502. Max Memory Used is the memory size,
//     not a measurement.
//   - Init Duration appears only in the REPORT of the RIE process's first
//     invoke (a process-wide flag), not after a crash and re-init, and it
//     measures only the RIE handing the init to its sandbox (well under a
//     millisecond): the runtime's real start-up time is inside that
//     invoke's Duration, and in the stderr line "INIT REPORT(durationMs: X)".
//
// Kill sends SIGKILL to the function's process (the RIE starts it in a
// process group of its own), as a crash or an out-of-memory kill would.
package rie
