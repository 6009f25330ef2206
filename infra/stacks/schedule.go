package stacks

import (
	"fmt"
	"time"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsevents"
	"github.com/aws/aws-cdk-go/awscdk/v2/awseventstargets"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// NewReconcileSchedule creates the EventBridge rule that invokes the
// reconcile function every rate (whole minutes). The function gets the
// classic "Scheduled Event" payload (events/ holds a sample). EventBridge
// retries a failed delivery for up to an hour; a failed run is not retried
// by Lambda (the function sets no async retries): the next run repairs.
func NewReconcileSchedule(scope constructs.Construct, id string, fn awslambda.IFunction, rate time.Duration) awsevents.Rule {
	return awsevents.NewRule(scope, jsii.String(id), &awsevents.RuleProps{
		Description: jsii.String(fmt.Sprintf("xtsync: full reconcile and subscription renewal every %s", shortDuration(rate))),
		Schedule:    awsevents.Schedule_Rate(awscdk.Duration_Minutes(jsii.Number(rate.Minutes()))),
		Targets: &[]awsevents.IRuleTarget{
			awseventstargets.NewLambdaFunction(fn, &awseventstargets.LambdaFunctionProps{
				MaxEventAge:   awscdk.Duration_Hours(jsii.Number(1)),
				RetryAttempts: jsii.Number(3),
			}),
		},
	})
}
