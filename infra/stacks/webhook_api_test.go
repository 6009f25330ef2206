package stacks

import (
	"slices"
	"testing"
)

func TestWebhookIsAThrottledLoggedHTTPAPIWithThreeRoutes(t *testing.T) {
	s := mainApp(t)
	st := s.dep.Sync.Stack
	apiID, api := only(t, s.syncJSON, "AWS::ApiGatewayV2::Api")
	if props(api)["ProtocolType"] != "HTTP" {
		t.Errorf("API protocol %v, want HTTP", props(api)["ProtocolType"])
	}
	if n := len(resources(s.syncJSON, "AWS::Lambda::Url")); n != 0 {
		t.Errorf("%d Function URLs: the webhook is reached through the API only", n)
	}
	var routes []string
	for _, r := range resources(s.syncJSON, "AWS::ApiGatewayV2::Route") {
		p := props(r)
		routes = append(routes, p["RouteKey"].(string))
		if p["AuthorizationType"] != nil && p["AuthorizationType"] != "NONE" {
			t.Errorf("route %v: authorization %v", p["RouteKey"], p["AuthorizationType"])
		}
	}
	slices.Sort(routes)
	if want := []string{"GET /healthz", "POST /lifecycle", "POST /notifications"}; !slices.Equal(routes, want) {
		t.Errorf("routes %v, want %v", routes, want)
	}
	_, integ := only(t, s.syncJSON, "AWS::ApiGatewayV2::Integration")
	if p := props(integ); p["IntegrationType"] != "AWS_PROXY" || !same(p["IntegrationUri"], getAtt(logicalID(st, s.dep.Sync.Webhook.Function), "Arn")) {
		t.Errorf("integration %v, want a proxy to the webhook function", p)
	}
	_, stage := only(t, s.syncJSON, "AWS::ApiGatewayV2::Stage")
	p := props(stage)
	if p["StageName"] != "$default" || p["AutoDeploy"] != true || !same(p["ApiId"], ref(apiID)) {
		t.Errorf("stage %v", p)
	}
	if !same(p["DefaultRouteSettings"], map[string]any{"ThrottlingRateLimit": 50, "ThrottlingBurstLimit": 100}) {
		t.Errorf("throttling %v, want rate 50 burst 100", p["DefaultRouteSettings"])
	}
	als, _ := p["AccessLogSettings"].(map[string]any)
	if !same(als["DestinationArn"], getAtt(logicalID(st, s.dep.Sync.API.AccessLog), "Arn")) || als["Format"] != accessLogFormat {
		t.Errorf("access logs %v", als)
	}
}
