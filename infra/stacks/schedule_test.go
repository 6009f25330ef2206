package stacks

import (
	"testing"
)

func TestReconcileScheduleInvokesTheReconcileHourly(t *testing.T) {
	s := mainApp(t)
	st := s.dep.Sync.Stack
	ruleID, rule := only(t, s.syncJSON, "AWS::Events::Rule")
	p := props(rule)
	if p["ScheduleExpression"] != "rate(1 hour)" || p["State"] != "ENABLED" {
		t.Errorf("rule %v, want enabled rate(1 hour)", p)
	}
	targets, _ := p["Targets"].([]any)
	reconcileArn := getAtt(logicalID(st, s.dep.Sync.Reconcile.Function), "Arn")
	if len(targets) != 1 || !same(targets[0].(map[string]any)["Arn"], reconcileArn) {
		t.Errorf("targets %v, want the reconcile function only", targets)
	}
	// The function lets exactly this rule invoke it.
	found := false
	for _, perm := range resources(s.syncJSON, "AWS::Lambda::Permission") {
		pp := props(perm)
		if pp["Principal"] == "events.amazonaws.com" {
			found = true
			if !same(pp["FunctionName"], reconcileArn) || !same(pp["SourceArn"], getAtt(ruleID, "Arn")) {
				t.Errorf("events permission %v, want the reconcile function from rule %s", pp, ruleID)
			}
		}
	}
	if !found {
		t.Error("no permission for EventBridge to invoke the reconcile")
	}
}
