package stacks

import (
	"path/filepath"
	"time"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// FunctionProps configure one xtsync Lambda function.
type FunctionProps struct {
	// Name is the function's directory under AssetsDir (webhook, worker,
	// reconcile).
	Name        string
	Description string
	// AssetsDir holds Name/bootstrap (linux/arm64, built by
	// `make build-functions`).
	AssetsDir   string
	Timeout     time.Duration
	MemoryMB    int
	Environment map[string]*string
	// LogRetention is the retention of the function's log group.
	LogRetention awslogs.RetentionDays
	// AsyncRetryAttempts, when set, is how often Lambda retries a failed
	// asynchronous invocation (0..2).
	AsyncRetryAttempts *int
}

// Function is an xtsync Lambda function (arm64, provided.al2023, JSON logs)
// with its own role and log group. The role starts with nothing but
// writing to that log group (no AWSLambdaBasicExecutionRole); everything
// else is granted by the stack that uses the function.
type Function struct {
	constructs.Construct
	Function awslambda.Function
	Role     awsiam.Role
	LogGroup awslogs.LogGroup
}

// NewFunction creates the function, its role and its log group.
func NewFunction(scope constructs.Construct, id string, props FunctionProps) *Function {
	c := constructs.NewConstruct(scope, jsii.String(id))
	logs := awslogs.NewLogGroup(c, jsii.String("Logs"), &awslogs.LogGroupProps{
		Retention: props.LogRetention,
		// Kept after a teardown: they are the record of what was synced.
		RemovalPolicy: awscdk.RemovalPolicy_RETAIN,
	})
	role := awsiam.NewRole(c, jsii.String("Role"), &awsiam.RoleProps{
		AssumedBy:   awsiam.NewServicePrincipal(jsii.String("lambda.amazonaws.com"), nil),
		Description: jsii.String("xtsync " + props.Name + " function"),
	})
	logs.GrantWrite(role)

	fp := &awslambda.FunctionProps{
		Description:   jsii.String(props.Description),
		Runtime:       awslambda.Runtime_PROVIDED_AL2023(),
		Architecture:  awslambda.Architecture_ARM_64(),
		Handler:       jsii.String("bootstrap"),
		Code:          awslambda.Code_FromAsset(jsii.String(filepath.Join(props.AssetsDir, props.Name)), nil),
		Timeout:       awscdk.Duration_Seconds(jsii.Number(props.Timeout.Seconds())),
		MemorySize:    jsii.Number(props.MemoryMB),
		Environment:   &props.Environment,
		Role:          role,
		LogGroup:      logs,
		LoggingFormat: awslambda.LoggingFormat_JSON,
	}
	if props.AsyncRetryAttempts != nil {
		fp.RetryAttempts = jsii.Number(*props.AsyncRetryAttempts)
	}
	fn := awslambda.NewFunction(c, jsii.String("Function"), fp)
	// The role's policies (children of the role) must exist before the
	// function, or its first invocations cannot write logs or read state.
	fn.Node().AddDependency(role)
	return &Function{Construct: c, Function: fn, Role: role, LogGroup: logs}
}
