// Package lambdahttp serves AWS Lambda HTTP events with a plain net/http
// handler, so that the webhook Lambda runs pkg/webhook's Handler unchanged:
// Adapter.ServeV2 takes an API Gateway HTTP API event (payload format 2.0)
// or a Lambda Function URL event (the same format), builds an
// *http.Request, runs the handler into an in-memory ResponseWriter and turns
// what it wrote into the event response.
//
// The request carries the event's method; its raw path (for an HTTP API
// stage other than $default, without the "/<stage>" prefix that API Gateway
// leaves in rawPath); its rawQueryString exactly as received, so
// percent-encoding is decoded once, by the handler (a Graph validationToken
// reads as Graph sent it); its headers (API Gateway and Function URLs join
// repeated headers with commas into one value, which is kept as one value);
// the cookies field as one Cookie header; the body, base64-decoded when the
// event says so; Host from the host header or the domain name; RemoteAddr
// "<sourceIp>:0"; and the caller's context.
//
// The response carries the status (200 when the handler wrote none), the
// headers (repeated values joined with commas, Set-Cookie values in the
// cookies field, which both services turn back into one Set-Cookie header
// each), and the body, base64-encoded when it is not valid UTF-8. A body
// above the limit (Adapter.MaxBody, DefaultMaxBody by default) is answered
// 413 and a malformed event (no method, a path that is not absolute, bad
// base64) 400, both without calling the handler; a handler that panics is
// answered 500. The error result is always nil: an error would make the
// Function URL or API Gateway answer a bare 502 and Lambda count a function
// error, while a status code says what went wrong.
package lambdahttp
