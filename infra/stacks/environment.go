package stacks

// The environment the functions read (pkg/lambdaapp): the contract between
// the stack and the function code.
const (
	// EnvConfigParameter names the SSM String parameter with the YAML
	// configuration.
	EnvConfigParameter = "XTSYNC_CONFIG_PARAMETER"
	// EnvTable is the DynamoDB table name.
	EnvTable = "XTSYNC_TABLE"
	// EnvQueueURL is the SQS FIFO queue URL.
	EnvQueueURL = "XTSYNC_QUEUE_URL"
	// EnvSourceSecretARN and EnvTargetSecretARN are the Secrets Manager
	// secrets with each tenant's Graph client secret (not given to the
	// webhook, which never calls Graph).
	EnvSourceSecretARN = "XTSYNC_SOURCE_SECRET_ARN"
	EnvTargetSecretARN = "XTSYNC_TARGET_SECRET_ARN"
	// EnvConfigDigest and EnvRevision are not read by the functions: a new
	// value changes the function configuration, so Lambda starts fresh
	// execution environments, which load the configuration and secrets
	// again (they cache them per container). The digest follows the stored
	// configuration; the revision is xtsync:revision.
	EnvConfigDigest = "XTSYNC_CONFIG_DIGEST"
	EnvRevision     = "XTSYNC_REVISION"
)
