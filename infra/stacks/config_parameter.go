package stacks

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsssm"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// ConfigParameterProps configure the configuration parameter: Template (a
// document the stack stores) or ExistingName (a parameter the operator
// manages, whose server.public_url they set themselves).
type ConfigParameterProps struct {
	Template     *ConfigTemplate
	ExistingName string
	// WebhookURL fills server.public_url when the document leaves it out.
	WebhookURL *string
}

// NewConfigParameter returns the SSM String parameter holding the
// non-secret YAML configuration.
func NewConfigParameter(scope constructs.Construct, id string, props ConfigParameterProps) awsssm.IStringParameter {
	if props.Template == nil {
		return awsssm.StringParameter_FromStringParameterName(scope, jsii.String(id), jsii.String(props.ExistingName))
	}
	t := props.Template
	value := jsii.String(t.Head)
	if t.FillsPublicURL {
		value = awscdk.Fn_Join(jsii.String(""), &[]*string{jsii.String(t.Head), props.WebhookURL, jsii.String(t.Tail)})
	}
	return awsssm.NewStringParameter(scope, jsii.String(id), &awsssm.StringParameterProps{
		Description: jsii.String("xtsync configuration (YAML, no secrets: client secrets come from Secrets Manager)"),
		StringValue: value,
		Tier:        parameterTier(t.Render(publicURLMarker) + endpointAllowance),
	})
}
