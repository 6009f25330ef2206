package stacks

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssecretsmanager"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"
)

// NagSuppression is one accepted cdk-nag finding and why.
type NagSuppression struct {
	Rule   string
	Reason string
}

// The accepted findings. Everything else the AwsSolutions pack reports
// fails `cdk synth` and the tests.
func nagSecretRotation() NagSuppression {
	return NagSuppression{
		Rule: "AwsSolutions-SMG4",
		Reason: "The value is an Entra ID app registration client secret: Entra issues it and sets its expiry. " +
			"A Secrets Manager rotation function would need rights to add credentials to the app registration " +
			"(Application.ReadWrite.OwnedBy), widening xtsync's Graph permissions; the operator rotates it before " +
			"expiry with put-secret-value instead (docs/deploy.md, Rotating the Graph client secrets).",
	}
}

func nagWebhookAuthorization() NagSuppression {
	return NagSuppression{
		Rule: "AwsSolutions-APIG4",
		Reason: "Microsoft Graph posts change and lifecycle notifications without AWS credentials or a token the API " +
			"could check, so the routes cannot require an authorizer. The webhook authenticates every notification " +
			"by its subscription's random clientState (compared in constant time) and drops the rest; the API is " +
			"throttled and access-logged, and /healthz returns no data.",
	}
}

// ApplyNagChecks runs the cdk-nag AwsSolutions rules on every stack of the
// app at synth: a finding without a suppression is an error annotation,
// which fails `cdk synth` and the tests. Each suppression is attached to the
// resources it concerns, not to a whole stack.
func ApplyNagChecks(app constructs.Construct, d *Deployment) {
	awscdk.Aspects_Of(app).Add(cdknag.NewAwsSolutionsChecks(&cdknag.NagPackProps{Verbose: jsii.Bool(true)}), nil)
	for _, secret := range []awssecretsmanager.ISecret{d.Sync.SourceSecret, d.Sync.TargetSecret} {
		// Only a secret the stack creates is checked; a referenced one is
		// the operator's to manage.
		if created, ok := secret.(awssecretsmanager.Secret); ok {
			suppress(created, nagSecretRotation())
		}
	}
	suppress(d.Sync.API.API, nagWebhookAuthorization())
}

// suppress attaches suppressions to a construct and its children.
func suppress(c constructs.IConstruct, ss ...NagSuppression) {
	list := make([]*cdknag.NagPackSuppression, 0, len(ss))
	for _, s := range ss {
		list = append(list, &cdknag.NagPackSuppression{Id: jsii.String(s.Rule), Reason: jsii.String(s.Reason)})
	}
	cdknag.NagSuppressions_AddResourceSuppressions(c, &list, jsii.Bool(true))
}
