package stacks

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigateway"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigatewayv2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigatewayv2integrations"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// The webhook's routes; Graph is given <endpoint>/notifications as the
// notificationUrl and <endpoint>/lifecycle as the lifecycleNotificationUrl.
const (
	RouteNotifications = "/notifications"
	RouteLifecycle     = "/lifecycle"
	RouteHealth        = "/healthz"
)

// WebhookAPIProps configure the webhook's HTTP API.
type WebhookAPIProps struct {
	Handler awslambda.IFunction
	// RateLimit (requests per second) and BurstLimit throttle the stage.
	RateLimit, BurstLimit int
	// LogRetention is the retention of the access log group.
	LogRetention awslogs.RetentionDays
}

// WebhookAPI is the public endpoint Graph posts change notifications to: an
// API Gateway HTTP API rather than a Lambda Function URL, because a public
// endpoint needs a throttle in front of the function (a flood is refused at
// the edge instead of consuming the account's Lambda concurrency) and access
// logs (who called, what was answered, how fast) that a Function URL does
// not have. Only the three routes exist; anything else is answered 404 by API
// Gateway without invoking the function.
type WebhookAPI struct {
	constructs.Construct
	API       awsapigatewayv2.HttpApi
	Stage     awsapigatewayv2.HttpStage
	AccessLog awslogs.LogGroup
}

// accessLogFormat is one JSON object per request, with the fields a security
// review asks for. The query string is left out: validation tokens are
// short-lived but need not be kept.
const accessLogFormat = `{"requestId":"$context.requestId","ip":"$context.identity.sourceIp",` +
	`"userAgent":"$context.identity.userAgent","requestTime":"$context.requestTime",` +
	`"method":"$context.httpMethod","routeKey":"$context.routeKey","status":"$context.status",` +
	`"protocol":"$context.protocol","responseLength":"$context.responseLength",` +
	`"responseLatency":"$context.responseLatency","integrationStatus":"$context.integrationStatus",` +
	`"integrationLatency":"$context.integrationLatency","integrationError":"$context.integrationErrorMessage",` +
	`"error":"$context.error.message"}`

// NewWebhookAPI creates the HTTP API, its throttled and logged default stage
// and the routes.
func NewWebhookAPI(scope constructs.Construct, id string, props WebhookAPIProps) *WebhookAPI {
	c := constructs.NewConstruct(scope, jsii.String(id))
	api := awsapigatewayv2.NewHttpApi(c, jsii.String("Api"), &awsapigatewayv2.HttpApiProps{
		Description: jsii.String("xtsync webhook: Microsoft Graph change and lifecycle notifications"),
		// The stage is created below, with throttling and access logs.
		CreateDefaultStage: jsii.Bool(false),
	})
	accessLog := awslogs.NewLogGroup(c, jsii.String("AccessLogs"), &awslogs.LogGroupProps{
		Retention:     props.LogRetention,
		RemovalPolicy: awscdk.RemovalPolicy_RETAIN,
	})
	stage := awsapigatewayv2.NewHttpStage(c, jsii.String("DefaultStage"), &awsapigatewayv2.HttpStageProps{
		HttpApi:    api,
		StageName:  jsii.String("$default"),
		AutoDeploy: jsii.Bool(true),
		Throttle: &awsapigatewayv2.ThrottleSettings{
			RateLimit:  jsii.Number(props.RateLimit),
			BurstLimit: jsii.Number(props.BurstLimit),
		},
		AccessLogSettings: &accessLogSettings{
			destination: awsapigatewayv2.NewLogGroupLogDestination(accessLog),
			format:      awsapigateway.AccessLogFormat_Custom(jsii.String(accessLogFormat)),
		},
	})
	integration := awsapigatewayv2integrations.NewHttpLambdaIntegration(jsii.String("Webhook"), props.Handler, nil)
	for _, r := range []struct {
		path   string
		method awsapigatewayv2.HttpMethod
	}{
		{RouteNotifications, awsapigatewayv2.HttpMethod_POST},
		{RouteLifecycle, awsapigatewayv2.HttpMethod_POST},
		{RouteHealth, awsapigatewayv2.HttpMethod_GET},
	} {
		api.AddRoutes(&awsapigatewayv2.AddRoutesOptions{
			Path:        jsii.String(r.path),
			Methods:     &[]awsapigatewayv2.HttpMethod{r.method},
			Integration: integration,
		})
	}
	return &WebhookAPI{Construct: c, API: api, Stage: stage, AccessLog: accessLog}
}

// Endpoint is the API's base URL (https://<id>.execute-api.<region>.<domain>,
// no trailing slash): xtsync's server.public_url.
func (w *WebhookAPI) Endpoint() *string { return w.API.ApiEndpoint() }

// accessLogSettings implements awsapigatewayv2.IAccessLogSettings.
type accessLogSettings struct {
	destination awsapigatewayv2.IAccessLogDestination
	format      awsapigateway.AccessLogFormat
}

// Destination is where the access logs go.
func (a *accessLogSettings) Destination() awsapigatewayv2.IAccessLogDestination {
	return a.destination
}

// Format is the access log line.
func (a *accessLogSettings) Format() awsapigateway.AccessLogFormat { return a.format }
