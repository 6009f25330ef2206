package lambdahttp

import (
	"context"
	"net/http"

	"github.com/aws/aws-lambda-go/events"
)

// ServeFunctionURL serves a Lambda Function URL event with h, with the
// default body limit and logger. The error is always nil.
func ServeFunctionURL(ctx context.Context, h http.Handler, ev events.LambdaFunctionURLRequest) (events.LambdaFunctionURLResponse, error) {
	a := Adapter{Handler: h}
	return a.ServeFunctionURL(ctx, ev)
}

// ServeFunctionURL serves a Lambda Function URL event (buffered invoke
// mode). The error is always nil: refusals and handler panics are status
// codes.
func (a *Adapter) ServeFunctionURL(ctx context.Context, ev events.LambdaFunctionURLRequest) (events.LambdaFunctionURLResponse, error) {
	rc := ev.RequestContext
	path := ev.RawPath
	if path == "" {
		path = rc.HTTP.Path
	}
	out := a.serve(ctx, request{
		method:   rc.HTTP.Method,
		rawPath:  path,
		rawQuery: ev.RawQueryString,
		protocol: rc.HTTP.Protocol,
		sourceIP: rc.HTTP.SourceIP,
		domain:   rc.DomainName,
		headers:  ev.Headers,
		cookies:  ev.Cookies,
		body:     ev.Body,
		base64:   ev.IsBase64Encoded,
	})
	return events.LambdaFunctionURLResponse{
		StatusCode:      out.status,
		Headers:         out.headers,
		Cookies:         out.cookies,
		Body:            out.body,
		IsBase64Encoded: out.base64,
	}, nil
}
