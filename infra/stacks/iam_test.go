package stacks

import (
	"fmt"
	"strings"
	"testing"
)

// tableArnImport is how the Sync stack refers to the State stack's table
// ARN: the import of the State stack's export of it.
func tableArnImport(t *testing.T, s *synthesized) map[string]any {
	t.Helper()
	tableID := logicalID(s.dep.State.Stack, s.dep.State.Table)
	outputs, _ := s.stateJSON["Outputs"].(map[string]any)
	for _, o := range outputs {
		out := o.(map[string]any)
		if same(out["Value"], getAtt(tableID, "Arn")) {
			name := out["Export"].(map[string]any)["Name"]
			return map[string]any{"Fn::ImportValue": name}
		}
	}
	t.Fatal("the State stack exports no table ARN")
	return nil
}

// scope is what one role may touch, by action prefix.
type scope map[string][]any

// checkPolicies checks every identity policy of the stack: Allow only, no
// wildcard resource, and each action on exactly the resources its service
// is allowed for the role it is attached to.
func checkPolicies(t *testing.T, s *synthesized, allowed map[string]scope) {
	t.Helper()
	st := s.dep.Sync.Stack
	roleIDs := map[string]string{}
	for name, fn := range map[string]*Function{FunctionWebhook: s.dep.Sync.Webhook, FunctionWorker: s.dep.Sync.Worker, FunctionReconcile: s.dep.Sync.Reconcile} {
		roleIDs[logicalID(st, fn.Role)] = name
	}
	for id, role := range resources(s.syncJSON, "AWS::IAM::Role") {
		if _, ok := roleIDs[id]; !ok {
			t.Errorf("unexpected role %s (a CDK helper?)", id)
		}
		if p := props(role); p["ManagedPolicyArns"] != nil || p["Policies"] != nil {
			t.Errorf("role %s has managed or inline policies: %v %v", id, p["ManagedPolicyArns"], p["Policies"])
		}
	}
	seen := map[string]map[string]bool{}
	for id, pol := range resources(s.syncJSON, "AWS::IAM::Policy") {
		p := props(pol)
		roles, _ := p["Roles"].([]any)
		if len(roles) != 1 {
			t.Errorf("policy %s attached to %v", id, roles)
			continue
		}
		fn := roleIDs[roles[0].(map[string]any)["Ref"].(string)]
		if fn == "" {
			t.Errorf("policy %s attached to %v, not a function role", id, roles[0])
			continue
		}
		if seen[fn] == nil {
			seen[fn] = map[string]bool{}
		}
		doc := p["PolicyDocument"].(map[string]any)
		for i, stmt := range doc["Statement"].([]any) {
			st := stmt.(map[string]any)
			where := fmt.Sprintf("%s statement %d", fn, i)
			if st["Effect"] != "Allow" || st["NotAction"] != nil || st["NotResource"] != nil {
				t.Errorf("%s: %v", where, st)
			}
			for _, a := range asList(st["Action"]) {
				action := a.(string)
				service, _, _ := strings.Cut(action, ":")
				seen[fn][service] = true
				ok, has := allowed[fn][service]
				if !has {
					t.Errorf("%s: %s is not for the %s function", where, action, fn)
					continue
				}
				if strings.Contains(action, "*") {
					t.Errorf("%s: wildcard action %s", where, action)
				}
				for _, r := range asList(st["Resource"]) {
					if rs, ok := r.(string); ok && strings.Contains(rs, "*") {
						t.Errorf("%s: %s on the wildcard %s", where, action, rs)
					}
					if !containsJSON(ok, r) {
						t.Errorf("%s: %s on %v, allowed only %v", where, action, r, ok)
					}
				}
			}
		}
	}
	for fn, services := range allowed {
		for service := range services {
			if !seen[fn][service] {
				t.Errorf("the %s function has no %s permission", fn, service)
			}
		}
	}
}

func containsJSON(list []any, v any) bool {
	for _, x := range list {
		if same(x, v) {
			return true
		}
	}
	return false
}

func TestIAMIsScopedToTheTableQueueSecretsAndParameter(t *testing.T) {
	s := mainApp(t)
	st := s.dep.Sync.Stack
	table := tableArnImport(t, s)
	queue := getAtt(logicalID(st, s.dep.Sync.Queue.Queue), "Arn")
	secrets := []any{ref(logicalID(st, s.dep.Sync.SourceSecret)), ref(logicalID(st, s.dep.Sync.TargetSecret))}
	param := map[string]any{"Fn::Join": []any{"", []any{
		"arn:", ref("AWS::Partition"), ":ssm:", ref("AWS::Region"), ":", ref("AWS::AccountId"), ":parameter/", ref(logicalID(st, s.dep.Sync.Config)),
	}}}
	logs := func(fn *Function) []any { return []any{getAtt(logicalID(st, fn.LogGroup), "Arn")} }
	checkPolicies(t, s, map[string]scope{
		FunctionWebhook: {
			"logs": logs(s.dep.Sync.Webhook), "dynamodb": {table}, "sqs": {queue}, "ssm": {param},
		},
		FunctionWorker: {
			"logs": logs(s.dep.Sync.Worker), "dynamodb": {table}, "sqs": {queue}, "ssm": {param}, "secretsmanager": secrets,
		},
		FunctionReconcile: {
			"logs": logs(s.dep.Sync.Reconcile), "dynamodb": {table}, "sqs": {queue}, "ssm": {param}, "secretsmanager": secrets,
		},
	})
	// The webhook only reads the table.
	for _, pol := range resources(s.syncJSON, "AWS::IAM::Policy") {
		p := props(pol)
		if !same(p["Roles"], []any{ref(logicalID(st, s.dep.Sync.Webhook.Role))}) {
			continue
		}
		for _, stmt := range p["PolicyDocument"].(map[string]any)["Statement"].([]any) {
			for _, a := range asList(stmt.(map[string]any)["Action"]) {
				switch a {
				case "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:BatchWriteItem", "sqs:ReceiveMessage", "sqs:DeleteMessage":
					t.Errorf("the webhook may %s", a)
				}
			}
		}
	}
}
