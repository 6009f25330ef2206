package stacks

import (
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"
)

func TestTableHasPITRAndTTLAndIsRetained(t *testing.T) {
	s := mainApp(t)
	check(t, "table properties", func() {
		s.state.HasResourceProperties(jsii.String("AWS::DynamoDB::Table"), map[string]any{
			"KeySchema": []any{
				map[string]any{"AttributeName": TablePartitionKey, "KeyType": "HASH"},
				map[string]any{"AttributeName": TableSortKey, "KeyType": "RANGE"},
			},
			"AttributeDefinitions": assertions.Match_ArrayWith(&[]any{
				map[string]any{"AttributeName": TablePartitionKey, "AttributeType": "S"},
				map[string]any{"AttributeName": TableSortKey, "AttributeType": "S"},
			}),
			"BillingMode":                      "PAY_PER_REQUEST",
			"PointInTimeRecoverySpecification": map[string]any{"PointInTimeRecoveryEnabled": true},
			"TimeToLiveSpecification":          map[string]any{"AttributeName": "ttl", "Enabled": true},
			"DeletionProtectionEnabled":        true,
			"SSESpecification":                 map[string]any{"SSEEnabled": true},
		})
	})
	check(t, "table retained", func() {
		s.state.HasResource(jsii.String("AWS::DynamoDB::Table"), map[string]any{
			"DeletionPolicy":      "Retain",
			"UpdateReplacePolicy": "Retain",
		})
	})
	check(t, "one table", func() { s.state.ResourceCountIs(jsii.String("AWS::DynamoDB::Table"), jsii.Number(1)) })
	if !*s.dep.State.Stack.TerminationProtection() {
		t.Error("the State stack is not termination-protected")
	}
	if s.dep.Sync.Stack.TerminationProtection() != nil && *s.dep.Sync.Stack.TerminationProtection() {
		t.Error("the Sync stack is termination-protected: it holds no state and must be replaceable")
	}
	// The table is the State stack's only resource: nothing else is
	// retained with it, and nothing stateful hides in the Sync stack.
	if got := len(s.stateJSON["Resources"].(map[string]any)); got != 1 {
		t.Errorf("State stack has %d resources, want only the table", got)
	}
	if n := len(resources(s.syncJSON, "AWS::DynamoDB::Table")); n != 0 {
		t.Errorf("Sync stack has %d tables", n)
	}
}
