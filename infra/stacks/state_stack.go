package stacks

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsdynamodb"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// The DynamoDB layout pkg/dynamostore uses: one table, string partition and
// sort keys, and a TTL attribute for what expires (leases, dedup marks).
const (
	TablePartitionKey = "PK"
	TableSortKey      = "SK"
	TableTTLAttribute = "ttl"
)

// StateStackProps configure the State stack.
type StateStackProps struct {
	awscdk.StackProps
	// DeletionProtection turns DynamoDB deletion protection on.
	DeletionProtection bool
}

// StateStack holds what outlives a redeploy of the functions: the DynamoDB
// table with the sync state (mappings, delta links, subscriptions and their
// clientState, audit). It is termination-protected and the table is
// retained when the stack is deleted.
type StateStack struct {
	awscdk.Stack
	Table awsdynamodb.Table
}

// NewStateStack creates the State stack.
func NewStateStack(scope constructs.Construct, id string, props *StateStackProps) *StateStack {
	sp := props.StackProps
	sp.TerminationProtection = jsii.Bool(true)
	sp.Description = jsii.String("xtsync state: the DynamoDB table (retained, termination-protected)")
	stack := awscdk.NewStack(scope, jsii.String(id), &sp)

	table := awsdynamodb.NewTable(stack, jsii.String("Table"), &awsdynamodb.TableProps{
		PartitionKey:        &awsdynamodb.Attribute{Name: jsii.String(TablePartitionKey), Type: awsdynamodb.AttributeType_STRING},
		SortKey:             &awsdynamodb.Attribute{Name: jsii.String(TableSortKey), Type: awsdynamodb.AttributeType_STRING},
		TimeToLiveAttribute: jsii.String(TableTTLAttribute),
		BillingMode:         awsdynamodb.BillingMode_PAY_PER_REQUEST,
		PointInTimeRecoverySpecification: &awsdynamodb.PointInTimeRecoverySpecification{
			PointInTimeRecoveryEnabled: jsii.Bool(true),
		},
		// The AWS managed key (aws/dynamodb): encrypted at rest with key use
		// visible in CloudTrail, and no key policy to keep in step with
		// the function roles.
		Encryption:         awsdynamodb.TableEncryption_AWS_MANAGED,
		DeletionProtection: jsii.Bool(props.DeletionProtection),
		RemovalPolicy:      awscdk.RemovalPolicy_RETAIN,
	})

	awscdk.NewCfnOutput(stack, jsii.String("TableName"), &awscdk.CfnOutputProps{
		Value:       table.TableName(),
		Description: jsii.String("The DynamoDB table holding xtsync's state"),
	})
	return &StateStack{Stack: stack, Table: table}
}
