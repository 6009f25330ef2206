package stacks

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"
)

// nagFindings reports the unsuppressed cdk-nag errors and warnings of a
// stack, as the assertions library describes them ("" when there are none).
func nagFindings(t *testing.T, stack awscdk.Stack) string {
	t.Helper()
	a := assertions.Annotations_FromStack(stack)
	match := assertions.Match_StringLikeRegexp(jsii.String("AwsSolutions-.*"))
	var found []string
	for _, check := range []func(){
		func() { a.HasNoError(jsii.String("*"), match) },
		func() { a.HasNoWarning(jsii.String("*"), match) },
	} {
		if err := jsiiCall(check); err != nil {
			found = append(found, err.Error())
		}
	}
	return strings.Join(found, "\n")
}

// suppressions lists the cdk-nag suppressions in a template: rule -> reasons.
func suppressions(tmpl map[string]any) map[string][]string {
	out := map[string][]string{}
	all, _ := tmpl["Resources"].(map[string]any)
	for _, r := range all {
		md, _ := r.(map[string]any)["Metadata"].(map[string]any)
		nag, _ := md["cdk_nag"].(map[string]any)
		rules, _ := nag["rules_to_suppress"].([]any)
		for _, rule := range rules {
			m := rule.(map[string]any)
			out[m["id"].(string)] = append(out[m["id"].(string)], m["reason"].(string))
		}
	}
	return out
}

func TestNagAwsSolutionsPassesWithReasonedSuppressionsOnly(t *testing.T) {
	s := mainApp(t)
	for _, st := range []awscdk.Stack{s.dep.State.Stack, s.dep.Sync.Stack} {
		if f := nagFindings(t, st); f != "" {
			t.Errorf("%s: unsuppressed cdk-nag findings:\n%s", *st.StackName(), f)
		}
	}
	if got := suppressions(s.stateJSON); len(got) != 0 {
		t.Errorf("the State stack suppresses %v", sortedKeys(got))
	}
	got := suppressions(s.syncJSON)
	if keys, want := sortedKeys(got), []string{nagWebhookAuthorization().Rule, nagSecretRotation().Rule}; !slices.Equal(keys, want) {
		t.Errorf("suppressed rules %v, want only %v: a new suppression needs a review", keys, want)
	}
	for rule, reasons := range got {
		for _, r := range reasons {
			if len(r) < 100 {
				t.Errorf("%s suppressed with a thin reason: %q", rule, r)
			}
		}
	}
	// The checks ran: the pack's report lists the suppressed findings and
	// the compliant queues.
	report, err := os.ReadFile(filepath.Join(s.outdir, "AwsSolutions--"+*s.dep.Sync.Stack.StackName()+"-NagReport.csv"))
	if err != nil {
		t.Fatalf("no cdk-nag report: %v", err)
	}
	for _, line := range []string{
		`"AwsSolutions-SQS3","` + *s.dep.Sync.Stack.StackName() + `/Work/Queue/Resource","Compliant"`,
		`"AwsSolutions-APIG1","` + *s.dep.Sync.Stack.StackName() + `/WebhookApi/DefaultStage/Resource","Compliant"`,
		`"AwsSolutions-SMG4","` + *s.dep.Sync.Stack.StackName() + `/SourceGraphSecret/Resource","Suppressed"`,
	} {
		if !strings.Contains(string(report), line) {
			t.Errorf("cdk-nag report lacks %s", line)
		}
	}
}
