package lambdahttp

import (
	"context"
	"strings"

	"github.com/aws/aws-lambda-go/events"
)

// ServeV2 serves an API Gateway HTTP API event (payload format 2.0), or a
// Lambda Function URL event, which has the same format (its stage is
// $default). The error is always nil: refusals and handler panics are
// status codes.
func (a *Adapter) ServeV2(ctx context.Context, ev events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	rc := ev.RequestContext
	path := ev.RawPath
	if path == "" {
		path = rc.HTTP.Path
	}
	out := a.serve(ctx, request{
		method:   rc.HTTP.Method,
		rawPath:  stripStage(path, rc.Stage),
		rawQuery: ev.RawQueryString,
		protocol: rc.HTTP.Protocol,
		sourceIP: rc.HTTP.SourceIP,
		domain:   rc.DomainName,
		headers:  ev.Headers,
		cookies:  ev.Cookies,
		body:     ev.Body,
		base64:   ev.IsBase64Encoded,
	})
	return events.APIGatewayV2HTTPResponse{
		StatusCode:      out.status,
		Headers:         out.headers,
		Cookies:         out.cookies,
		Body:            out.body,
		IsBase64Encoded: out.base64,
	}, nil
}

// stripStage removes the "/<stage>" prefix API Gateway leaves in rawPath
// for a stage other than $default. A path without the prefix (an API
// mapping on a custom domain) is left as it is.
func stripStage(path, stage string) string {
	if stage == "" || stage == "$default" {
		return path
	}
	prefix := "/" + stage
	switch {
	case path == prefix:
		return "/"
	case strings.HasPrefix(path, prefix+"/"):
		return path[len(prefix):]
	}
	return path
}
