#!/usr/bin/env node
// testenv.mjs runs xtsync's Go tests against local stand-ins for AWS, all in
// this one Node process and all on loopback:
//
//   DynamoDB  dynalite (npm "dynalite"), in memory
//   SQS       fauxqs   (npm "fauxqs", started from its exported buildApp so
//                       that it listens on 127.0.0.1, not 0.0.0.0 as its CLI does)
//
// Each listens on a free port. Once both answer, it runs
//
//   go test ./... -count=1 -timeout 20m        (or: go test <the arguments given>)
//
// as a child process with XTSYNC_TEST_DYNAMODB_ENDPOINT,
// XTSYNC_TEST_SQS_ENDPOINT and dummy AWS credentials in its environment,
// streams its output, stops the servers and exits with go test's exit code.
//
// Usage: node scripts/testenv.mjs [go test arguments...]
// (make test runs it after `npm ci`; see the Makefile.)

import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import process from 'node:process';

import { buildApp } from 'fauxqs';

const require = createRequire(import.meta.url);
const dynalite = require('dynalite');

const HOST = '127.0.0.1';
const READY_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 10_000;
const DEFAULT_GO_ARGS = ['./...', '-count=1', '-timeout', '20m'];

function log(msg) {
  process.stderr.write(`testenv: ${msg}\n`);
}

// startDynalite serves an in-memory dynalite whose tables are ACTIVE at once.
async function startDynalite() {
  const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, HOST, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address();
  return {
    name: 'dynalite',
    url: `http://${HOST}:${port}`,
    // A real DynamoDB call; any HTTP answer means the server is up.
    probe: { target: 'DynamoDB_20120810.ListTables', body: '{}' },
    stop: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

// startFauxqs serves fauxqs (SQS, and the SNS/S3 it also emulates) on
// loopback.
async function startFauxqs() {
  const app = buildApp({ logger: false, defaultRegion: 'us-east-1' });
  await app.listen({ host: HOST, port: 0 });
  const { port } = app.server.address();
  return {
    name: 'fauxqs',
    url: `http://${HOST}:${port}`,
    probe: { target: 'AmazonSQS.ListQueues', body: '{}' },
    stop: () => app.close(),
  };
}

// waitUntilAnswering polls a server with an AWS JSON-protocol request until
// it answers over HTTP.
async function waitUntilAnswering(srv) {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  let lastErr;
  while (Date.now() < deadline) {
    try {
      const res = await fetch(srv.url + '/', {
        method: 'POST',
        headers: {
          'Content-Type': 'application/x-amz-json-1.0',
          'X-Amz-Target': srv.probe.target,
          // Dummy SigV4-shaped credentials: the stand-ins read the region
          // and key from here and do not verify signatures.
          Authorization: 'AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/probe/aws4_request, SignedHeaders=host, Signature=0',
        },
        body: srv.probe.body,
        signal: AbortSignal.timeout(2_000),
      });
      await res.arrayBuffer();
      return res.status;
    } catch (err) {
      lastErr = err;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  throw new Error(`${srv.name} at ${srv.url} did not answer within ${READY_TIMEOUT_MS} ms: ${lastErr}`);
}

// runGoTest runs go test with the stand-ins' endpoints and resolves to its
// exit code. SIGINT/SIGTERM are passed on to it.
function runGoTest(args, endpoints) {
  const env = {
    ...process.env,
    XTSYNC_TEST_DYNAMODB_ENDPOINT: endpoints.dynamodb,
    XTSYNC_TEST_SQS_ENDPOINT: endpoints.sqs,
    // Dummies: the stand-ins accept any credentials, and no test may reach
    // real AWS with real ones.
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
    AWS_SESSION_TOKEN: '',
    AWS_REGION: 'us-east-1',
    AWS_DEFAULT_REGION: 'us-east-1',
    AWS_PROFILE: '',
    AWS_EC2_METADATA_DISABLED: 'true',
    // The CDK tests start jsii on this machine's Node 20; its end-of-life
    // banner is noise in test output.
    JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION: '20',
    // The tests build Lambda bootstraps with cgo off: building the tests the
    // same way lets both share one compile of msgraph-sdk-go in the cache.
    CGO_ENABLED: '0',
  };
  delete env.AWS_SESSION_TOKEN;
  delete env.AWS_PROFILE;
  log(`go test ${args.join(' ')}`);
  const child = spawn('go', ['test', ...args], { stdio: 'inherit', env });
  const forward = (sig) => () => {
    log(`${sig}: passing it on to go test`);
    child.kill(sig);
  };
  const onInt = forward('SIGINT');
  const onTerm = forward('SIGTERM');
  process.on('SIGINT', onInt);
  process.on('SIGTERM', onTerm);
  return new Promise((resolve) => {
    child.on('error', (err) => {
      log(`cannot run go: ${err.message}`);
      resolve(127);
    });
    child.on('exit', (code, signal) => {
      process.off('SIGINT', onInt);
      process.off('SIGTERM', onTerm);
      if (signal) {
        log(`go test ended by ${signal}`);
        resolve(1);
        return;
      }
      resolve(code ?? 1);
    });
  });
}

async function stopAll(servers) {
  const timeout = new Promise((resolve) => setTimeout(() => resolve('timeout'), STOP_TIMEOUT_MS).unref());
  const stopped = Promise.allSettled(servers.map((s) => s.stop()));
  if ((await Promise.race([stopped, timeout])) === 'timeout') {
    log(`servers did not stop within ${STOP_TIMEOUT_MS} ms; exiting anyway`);
  }
}

async function main() {
  const goArgs = process.argv.length > 2 ? process.argv.slice(2) : DEFAULT_GO_ARGS;
  const servers = [];
  let code = 1;
  try {
    const started = Date.now();
    const [ddb, sqs] = await Promise.all([startDynalite(), startFauxqs()]);
    servers.push(ddb, sqs);
    await Promise.all(servers.map(waitUntilAnswering));
    log(`dynalite (DynamoDB) at ${ddb.url}, fauxqs (SQS) at ${sqs.url}: ready in ${Date.now() - started} ms`);
    code = await runGoTest(goArgs, { dynamodb: ddb.url, sqs: sqs.url });
  } catch (err) {
    log(`error: ${err?.stack ?? err}`);
    code = 1;
  } finally {
    await stopAll(servers);
  }
  process.exit(code);
}

main();
