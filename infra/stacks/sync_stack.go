package stacks

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsdynamodb"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsevents"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambdaeventsources"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssecretsmanager"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsssm"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"strconv"

	"github.com/xtsync/xtsync/pkg/contract"
)

// SyncStackProps configure the Sync stack.
type SyncStackProps struct {
	awscdk.StackProps
	Settings Settings
	// Table is the State stack's table.
	Table awsdynamodb.ITable
	// MetricNamespace receives the metrics the functions write (EMF; the
	// stack sets contract.EnvMetricsNamespace to it).
	MetricNamespace string
	// Config is the configuration document to store; nil references the
	// existing parameter Settings.ConfigParameterName.
	Config *ConfigTemplate
}

// SyncStack is everything that runs: the work queue and its DLQ, the three
// functions, the webhook's HTTP API, the reconcile schedule, the tenants'
// Graph secrets, the configuration parameter, the alarms and the dashboard.
// It holds no state a redeploy would lose (the secrets aside, which
// reference existing ones when told to).
type SyncStack struct {
	awscdk.Stack
	Queue        *WorkQueue
	Webhook      *Function
	Worker       *Function
	Reconcile    *Function
	API          *WebhookAPI
	Schedule     awsevents.Rule
	SourceSecret awssecretsmanager.ISecret
	TargetSecret awssecretsmanager.ISecret
	Config       awsssm.IStringParameter
	AlarmTopic   awssns.ITopic
	Alarms       *Alarms
	Dashboard    awscloudwatch.Dashboard
}

// NewSyncStack creates the Sync stack.
func NewSyncStack(scope constructs.Construct, id string, props *SyncStackProps) *SyncStack {
	sp := props.StackProps
	sp.Description = jsii.String("xtsync: webhook, queue, worker, scheduled reconcile, secrets, alarms")
	stack := awscdk.NewStack(scope, jsii.String(id), &sp)
	// Exports and imports (before any child: it is context): CloudFormation
	// refuses to delete the State stack, or to replace the table, while
	// this stack uses it.
	awscdk.CrossStackReferences_Of(stack).Consume(awscdk.ReferenceStrength_STRONG)
	s := props.Settings
	retention, _ := retentionDays(s.LogRetentionDays) // checked by Validate
	st := &SyncStack{Stack: stack}

	st.Queue = NewWorkQueue(stack, "Work", WorkQueueProps{
		VisibilityTimeout: s.QueueVisibilityTimeout(),
		MaxReceiveCount:   s.MaxReceiveCount,
	})
	st.SourceSecret = NewTenantSecret(stack, "SourceGraphSecret", TenantSecretProps{Tenant: "source", ExistingARN: s.SourceSecretARN})
	st.TargetSecret = NewTenantSecret(stack, "TargetGraphSecret", TenantSecretProps{Tenant: "target", ExistingARN: s.TargetSecretARN})

	env := func(withSecrets bool) map[string]*string {
		e := map[string]*string{
			contract.EnvTable:    props.Table.TableName(),
			contract.EnvQueueURL: st.Queue.Queue.QueueUrl(),
			// The functions write their metrics there (EMF on stdout).
			contract.EnvMetricsNamespace: jsii.String(props.MetricNamespace),
		}
		if withSecrets {
			e[contract.EnvSourceSecretARN] = st.SourceSecret.SecretArn()
			e[contract.EnvTargetSecretARN] = st.TargetSecret.SecretArn()
			// The functions that call Graph share each tenant's quota: up
			// to WorkerMaxConcurrency workers and the reconcile at once.
			e[contract.EnvQuotaShare] = jsii.String(strconv.Itoa(s.WorkerMaxConcurrency + 1))
		}
		return e
	}
	noRetries := 0
	st.Webhook = NewFunction(stack, "WebhookFunction", FunctionProps{
		Name: FunctionWebhook, Description: "xtsync webhook: Graph validation and change notifications to the queue",
		AssetsDir: s.FunctionsDir, Timeout: s.WebhookTimeout, MemoryMB: s.WebhookMemoryMB,
		Environment: env(false), LogRetention: retention,
	})
	st.Worker = NewFunction(stack, "WorkerFunction", FunctionProps{
		Name: FunctionWorker, Description: "xtsync worker: delta passes for queued groups",
		AssetsDir: s.FunctionsDir, Timeout: s.WorkerTimeout, MemoryMB: s.WorkerMemoryMB,
		Environment: env(true), LogRetention: retention,
	})
	st.Reconcile = NewFunction(stack, "ReconcileFunction", FunctionProps{
		Name: FunctionReconcile, Description: "xtsync reconcile: full read, diff and repair; subscription renewal",
		AssetsDir: s.FunctionsDir, Timeout: s.ReconcileTimeout, MemoryMB: s.ReconcileMemoryMB,
		Environment: env(true), LogRetention: retention,
		// A failed run is reported (alarm) and repaired by the next one; a
		// retry would only overlap it.
		AsyncRetryAttempts: &noRetries,
	})

	st.API = NewWebhookAPI(stack, "WebhookApi", WebhookAPIProps{
		Handler:      st.Webhook.Function,
		RateLimit:    s.APIRateLimit,
		BurstLimit:   s.APIBurstLimit,
		LogRetention: retention,
	})
	// The configuration holds the webhook's URL (server.public_url) for the
	// subscriptions, so it is created after the API, and the functions
	// learn its name last.
	st.Config = NewConfigParameter(stack, "Config", ConfigParameterProps{
		Template:     props.Config,
		ExistingName: s.ConfigParameterName,
		WebhookURL:   st.API.Endpoint(),
	})
	for _, fn := range []*Function{st.Webhook, st.Worker, st.Reconcile} {
		fn.Function.AddEnvironment(jsii.String(contract.EnvConfigParameter), st.Config.ParameterName(), nil)
		if props.Config != nil {
			fn.Function.AddEnvironment(jsii.String(contract.EnvConfigDigest), jsii.String(props.Config.Digest()), nil)
		}
		if s.Revision != "" {
			fn.Function.AddEnvironment(jsii.String(contract.EnvRevision), jsii.String(s.Revision), nil)
		}
	}

	// Least privilege, by grants. The webhook reads subscriptions (their
	// clientState) and queues work; it never calls Graph, so it gets no
	// secret.
	props.Table.GrantReadData(st.Webhook.Function)
	st.Queue.Queue.GrantSendMessages(st.Webhook.Function)
	st.Config.GrantRead(st.Webhook.Function)
	for _, fn := range []*Function{st.Worker, st.Reconcile} {
		props.Table.GrantReadWriteData(fn.Function)
		st.Queue.Queue.GrantSendMessages(fn.Function)
		st.Config.GrantRead(fn.Function)
		st.SourceSecret.GrantRead(fn.Function, nil)
		st.TargetSecret.GrantRead(fn.Function, nil)
	}
	// The mapping grants the worker receive, delete and change-visibility
	// on the queue. MaxConcurrency bounds the concurrent batches, and with
	// them the Graph writes per second against the per-app, per-tenant
	// quota; a FIFO message group (one delta shard) is never in two
	// batches at once.
	st.Worker.Function.AddEventSource(awslambdaeventsources.NewSqsEventSource(st.Queue.Queue, &awslambdaeventsources.SqsEventSourceProps{
		BatchSize:               jsii.Number(s.WorkerBatchSize),
		ReportBatchItemFailures: jsii.Bool(true),
		MaxConcurrency:          jsii.Number(s.WorkerMaxConcurrency),
	}))
	st.Schedule = NewReconcileSchedule(stack, "ReconcileSchedule", st.Reconcile.Function, s.ReconcileRate)

	st.AlarmTopic = NewAlarmTopic(stack, "AlarmTopic", s.AlarmTopicARN, s.AlarmEmail)
	alarmsProps := AlarmsProps{
		Topic:           st.AlarmTopic,
		Queue:           st.Queue.Queue,
		DeadLetterQueue: st.Queue.DeadLetterQueue,
		API:             st.API.API,
		Functions: map[string]awslambda.IFunction{
			FunctionWebhook:   st.Webhook.Function,
			FunctionWorker:    st.Worker.Function,
			FunctionReconcile: st.Reconcile.Function,
		},
		Metrics:           FunctionMetrics{Namespace: props.MetricNamespace, ReconcileRate: s.ReconcileRate},
		DriftThreshold:    s.DriftThreshold,
		QueueAgeThreshold: s.QueueAgeThreshold,
	}
	st.Alarms = NewAlarms(stack, "Alarms", alarmsProps)
	st.Dashboard = NewDashboard(stack, "Dashboard", DashboardProps{Alarms: st.Alarms, AlarmsProps: alarmsProps})

	out := func(id, description string, value *string) {
		awscdk.NewCfnOutput(stack, jsii.String(id), &awscdk.CfnOutputProps{Value: value, Description: jsii.String(description)})
	}
	out("WebhookUrl", "The webhook's base URL (server.public_url, which the stack fills in unless the configuration sets it)", st.API.Endpoint())
	out("NotificationUrl", "What Graph posts change notifications to", awscdk.Fn_Join(jsii.String(""), &[]*string{st.API.Endpoint(), jsii.String(RouteNotifications)}))
	out("SourceSecretArn", "Put the source tenant's Graph client secret here", st.SourceSecret.SecretArn())
	out("TargetSecretArn", "Put the target tenant's Graph client secret here", st.TargetSecret.SecretArn())
	out("ConfigParameterName", "The SSM parameter holding the configuration", st.Config.ParameterName())
	out("ReconcileFunctionName", "Invoke once after deploy to create the subscriptions and run the first sync", st.Reconcile.Function.FunctionName())
	out("QueueUrl", "The work queue", st.Queue.Queue.QueueUrl())
	out("DeadLetterQueueUrl", "Work that failed repeatedly", st.Queue.DeadLetterQueue.QueueUrl())
	out("AlarmTopicArn", "Where the alarms notify", st.AlarmTopic.TopicArn())
	out("DashboardName", "The CloudWatch dashboard", st.Dashboard.DashboardName())
	return st
}
