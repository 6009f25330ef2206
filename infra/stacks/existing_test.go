package stacks

import (
	"testing"

	"github.com/xtsync/xtsync/pkg/contract"
)

func TestExistingSecretsParameterAndTopicAreReferencedNotCreated(t *testing.T) {
	s := existingApp(t)
	st := s.dep.Sync.Stack
	for _, typ := range []string{"AWS::SecretsManager::Secret", "AWS::SSM::Parameter", "AWS::SNS::Topic"} {
		if n := len(resources(s.syncJSON, typ)); n != 0 {
			t.Errorf("%d %s created, want the existing one referenced", n, typ)
		}
	}
	if got := *st.StackName(); got != "XtsyncExistingSync" {
		t.Errorf("stack name %s: the prefix is not applied", got)
	}
	if acct := *st.Account(); acct != "123456789012" {
		t.Errorf("account %s, want the pinned one", acct)
	}
	table := tableArnImport(t, s)
	queue := getAtt(logicalID(st, s.dep.Sync.Queue.Queue), "Arn")
	// A partition-qualified ARN of the named parameter, in the pinned
	// account and region.
	param := "arn:aws:ssm:eu-west-1:123456789012:parameter" + existingParameter
	secrets := []any{existingSourceSecret, existingTargetSecret}
	logs := func(fn *Function) []any { return []any{getAtt(logicalID(st, fn.LogGroup), "Arn")} }
	checkPolicies(t, s, map[string]scope{
		FunctionWebhook:   {"logs": logs(s.dep.Sync.Webhook), "dynamodb": {table}, "sqs": {queue}, "ssm": {param}},
		FunctionWorker:    {"logs": logs(s.dep.Sync.Worker), "dynamodb": {table}, "sqs": {queue}, "ssm": {param}, "secretsmanager": secrets},
		FunctionReconcile: {"logs": logs(s.dep.Sync.Reconcile), "dynamodb": {table}, "sqs": {queue}, "ssm": {param}, "secretsmanager": secrets},
	})
	for id, fn := range resources(s.syncJSON, "AWS::Lambda::Function") {
		vars := props(fn)["Environment"].(map[string]any)["Variables"].(map[string]any)
		if vars[contract.EnvConfigParameter] != existingParameter {
			t.Errorf("%s: %s = %v", id, contract.EnvConfigParameter, vars[contract.EnvConfigParameter])
		}
		if v, ok := vars[contract.EnvSourceSecretARN]; ok && v != existingSourceSecret {
			t.Errorf("%s: %s = %v", id, contract.EnvSourceSecretARN, v)
		}
		// The revision restarts the functions; no digest of a document
		// the stack does not hold.
		if vars[contract.EnvRevision] != "rotated-2026-11-28" || vars[contract.EnvConfigDigest] != nil {
			t.Errorf("%s: %s = %v, %s = %v", id, contract.EnvRevision, vars[contract.EnvRevision], contract.EnvConfigDigest, vars[contract.EnvConfigDigest])
		}
	}
	for id, a := range resources(s.syncJSON, "AWS::CloudWatch::Alarm") {
		if !same(props(a)["AlarmActions"], []any{existingTopic}) {
			t.Errorf("alarm %s notifies %v, want %s", id, props(a)["AlarmActions"], existingTopic)
		}
	}
	// No secret is created, so no rotation finding to suppress.
	if f := nagFindings(t, st); f != "" {
		t.Errorf("unsuppressed cdk-nag findings:\n%s", f)
	}
	if _, ok := suppressions(s.syncJSON)[nagSecretRotation().Rule]; ok {
		t.Error("a rotation suppression without a secret")
	}
}
