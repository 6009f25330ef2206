package stacks

import (
	"debug/elf"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"time"
)

// FunctionNames are the Lambda functions of the AWS form, one directory
// each under Settings.FunctionsDir holding the `bootstrap` that
// `make build-functions` builds (linux/arm64).
func FunctionNames() []string {
	return []string{FunctionWebhook, FunctionWorker, FunctionReconcile}
}

// The function names, as directories under bin/functions and functions/.
const (
	FunctionWebhook   = "webhook"
	FunctionWorker    = "worker"
	FunctionReconcile = "reconcile"
)

// Settings are every choice the CDK app makes, turned into stack props at
// synth time. DefaultSettings holds the defaults; FromContext overlays the
// cdk.json context and `cdk -c key=value`.
type Settings struct {
	// StackPrefix names the two stacks (<prefix>State, <prefix>Sync), so
	// several deployments (staging, production) can share an account.
	StackPrefix string
	// Account and Region pin the stacks to an environment; both empty
	// leaves them environment-agnostic (deployed where the CLI points).
	Account, Region string

	// FunctionsDir holds <name>/bootstrap for each of FunctionNames.
	FunctionsDir string

	// ConfigYAML is the non-secret xtsync configuration the stack puts in
	// a new SSM String parameter; ConfigParameterName instead names an
	// existing parameter. Exactly one is set.
	ConfigYAML          string
	ConfigParameterName string

	// SourceSecretARN and TargetSecretARN reference existing Secrets
	// Manager secrets (complete ARNs); empty creates them (with a random
	// placeholder value the operator replaces).
	SourceSecretARN, TargetSecretARN string

	// LogRetentionDays is the retention of every log group (a value
	// CloudWatch Logs accepts: 1, 3, 5, 7, 14, 30, 60, 90, ...).
	LogRetentionDays int

	WebhookTimeout  time.Duration
	WebhookMemoryMB int

	WorkerTimeout  time.Duration
	WorkerMemoryMB int
	// WorkerBatchSize is how many messages one invocation gets (1..10 for
	// FIFO).
	WorkerBatchSize int
	// WorkerMaxConcurrency caps the concurrent worker invocations the SQS
	// mapping makes (2..1000): the lever that keeps Graph writes inside
	// the per-app, per-tenant quota.
	WorkerMaxConcurrency int

	ReconcileTimeout  time.Duration
	ReconcileMemoryMB int
	// ReconcileRate is how often the scheduled reconcile runs (whole
	// minutes, not shorter than ReconcileTimeout).
	ReconcileRate time.Duration

	// MaxReceiveCount is how many times a message is received before it
	// moves to the dead-letter queue.
	MaxReceiveCount int

	// APIRateLimit and APIBurstLimit throttle the webhook's HTTP API
	// (requests per second, and the bucket size).
	APIRateLimit  int
	APIBurstLimit int

	// AlarmTopicARN sends alarms to an existing SNS topic; empty creates
	// one, subscribed by AlarmEmail when set.
	AlarmTopicARN string
	AlarmEmail    string
	// DriftThreshold alarms when one reconcile run repairs more than this
	// many things (groups created, members added and removed): the
	// notifications are not keeping the target in step.
	DriftThreshold int
	// QueueAgeThreshold alarms when the oldest queued message is older.
	QueueAgeThreshold time.Duration

	// TableDeletionProtection turns DynamoDB deletion protection on.
	TableDeletionProtection bool

	// Revision, when it changes, restarts the functions' execution
	// environments (after a secret rotation, or a change to an existing
	// configuration parameter).
	Revision string
}

// DefaultSettings are the settings when the context says nothing.
func DefaultSettings() Settings {
	return Settings{
		StackPrefix:             "Xtsync",
		FunctionsDir:            filepath.Join("bin", "functions"),
		LogRetentionDays:        30,
		WebhookTimeout:          10 * time.Second,
		WebhookMemoryMB:         256,
		WorkerTimeout:           5 * time.Minute,
		WorkerMemoryMB:          512,
		WorkerBatchSize:         10,
		WorkerMaxConcurrency:    5,
		ReconcileTimeout:        15 * time.Minute,
		ReconcileMemoryMB:       1024,
		ReconcileRate:           time.Hour,
		MaxReceiveCount:         5,
		APIRateLimit:            50,
		APIBurstLimit:           100,
		DriftThreshold:          100,
		QueueAgeThreshold:       time.Hour,
		TableDeletionProtection: true,
	}
}

// QueueVisibilityTimeout is six times the worker timeout, as AWS advises
// for a queue feeding a Lambda function: a message is not handed out again
// while an invocation (and its retries of throttled batches) may still
// hold it.
func (s Settings) QueueVisibilityTimeout() time.Duration { return 6 * s.WorkerTimeout }

var (
	stackPrefixRE = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9-]{0,100}$`)
	// A complete secret ARN ends in the six random characters Secrets
	// Manager appends to the name; IAM grants need them.
	secretARNRE = regexp.MustCompile(`^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:.+-[A-Za-z0-9]{6}$`)
	snsARNRE    = regexp.MustCompile(`^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}$`)
	accountRE   = regexp.MustCompile(`^\d{12}$`)
	regionRE    = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-\d$`)
	emailRE     = regexp.MustCompile(`^[^@\s]+@[^@\s]+\.[^@\s]+$`)
	revisionRE  = regexp.MustCompile(`^[A-Za-z0-9._:-]*$`)
	// SSM parameter names: letters, digits and _.-/ (at most 1011 long).
	parameterNameRE = regexp.MustCompile(`^[A-Za-z0-9_.\-/]+$`)
)

// Validate checks the settings the way the stacks use them; every error
// names its context key.
func (s Settings) Validate() error {
	var errs []error
	bad := func(key, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s%s: %s", ContextPrefix, key, fmt.Sprintf(format, args...)))
	}
	if !stackPrefixRE.MatchString(s.StackPrefix) {
		bad(KeyStackPrefix, "%q must start with a letter and hold only letters, digits and -", s.StackPrefix)
	}
	if (s.Account == "") != (s.Region == "") {
		bad(KeyAccount, "set both %s and %s, or neither", ContextPrefix+KeyAccount, ContextPrefix+KeyRegion)
	} else if s.Account != "" {
		if !accountRE.MatchString(s.Account) {
			bad(KeyAccount, "%q is not a 12-digit account id", s.Account)
		}
		if !regionRE.MatchString(s.Region) {
			bad(KeyRegion, "%q is not a region", s.Region)
		}
	}
	if err := checkFunctionsDir(s.FunctionsDir); err != nil {
		bad(KeyFunctionsDir, "%v (run make build-functions)", err)
	}
	switch {
	case (s.ConfigYAML == "") == (s.ConfigParameterName == ""):
		bad(KeyConfigFile, "set exactly one of %s (a YAML file the stack stores in SSM) and %s (an existing SSM parameter)", ContextPrefix+KeyConfigFile, ContextPrefix+KeyConfigParameter)
	case s.ConfigYAML != "":
		if err := CheckConfigDocument([]byte(s.ConfigYAML)); err != nil {
			bad(KeyConfigFile, "%v", err)
		}
	case !parameterNameRE.MatchString(s.ConfigParameterName) || len(s.ConfigParameterName) > 1011:
		bad(KeyConfigParameter, "%q is not an SSM parameter name", s.ConfigParameterName)
	}
	for key, arn := range map[string]string{KeySourceSecretARN: s.SourceSecretARN, KeyTargetSecretARN: s.TargetSecretARN} {
		if arn != "" && !secretARNRE.MatchString(arn) {
			bad(key, "%q is not a complete Secrets Manager secret ARN (with the 6-character suffix)", arn)
		}
	}
	if _, ok := retentionDays(s.LogRetentionDays); !ok {
		bad(KeyLogRetentionDays, "%d is not a retention CloudWatch Logs accepts", s.LogRetentionDays)
	}
	checkFunction := func(timeoutKey, memoryKey string, timeout time.Duration, memoryMB int) {
		if timeout < time.Second || timeout > 15*time.Minute || timeout%time.Second != 0 {
			bad(timeoutKey, "%s is not whole seconds between 1s and 15m", timeout)
		}
		if memoryMB < 128 || memoryMB > 10240 {
			bad(memoryKey, "%d MB is not between 128 and 10240", memoryMB)
		}
	}
	checkFunction(KeyWebhookTimeout, KeyWebhookMemory, s.WebhookTimeout, s.WebhookMemoryMB)
	checkFunction(KeyWorkerTimeout, KeyWorkerMemory, s.WorkerTimeout, s.WorkerMemoryMB)
	checkFunction(KeyReconcileTimeout, KeyReconcileMemory, s.ReconcileTimeout, s.ReconcileMemoryMB)
	if s.WebhookTimeout > 29*time.Second {
		bad(KeyWebhookTimeout, "%s exceeds the HTTP API's 30 s integration limit (and Graph wants an answer within 3 s)", s.WebhookTimeout)
	}
	if s.WorkerBatchSize < 1 || s.WorkerBatchSize > 10 {
		bad(KeyWorkerBatchSize, "%d is not between 1 and 10 (FIFO queues)", s.WorkerBatchSize)
	}
	if s.WorkerMaxConcurrency < 2 || s.WorkerMaxConcurrency > 1000 {
		bad(KeyWorkerMaxConcurrency, "%d is not between 2 and 1000", s.WorkerMaxConcurrency)
	}
	if s.ReconcileRate < time.Minute || s.ReconcileRate%time.Minute != 0 {
		bad(KeyReconcileRate, "%s is not whole minutes of at least 1m", s.ReconcileRate)
	} else if s.ReconcileRate < s.ReconcileTimeout {
		bad(KeyReconcileRate, "%s is shorter than the reconcile timeout %s: runs would overlap", s.ReconcileRate, s.ReconcileTimeout)
	}
	if s.MaxReceiveCount < 1 || s.MaxReceiveCount > 1000 {
		bad(KeyMaxReceiveCount, "%d is not between 1 and 1000", s.MaxReceiveCount)
	}
	if s.APIRateLimit < 1 {
		bad(KeyAPIRateLimit, "%d must be positive", s.APIRateLimit)
	}
	if s.APIBurstLimit < 1 {
		bad(KeyAPIBurstLimit, "%d must be positive", s.APIBurstLimit)
	}
	if s.AlarmTopicARN != "" && !snsARNRE.MatchString(s.AlarmTopicARN) {
		bad(KeyAlarmTopicARN, "%q is not an SNS topic ARN", s.AlarmTopicARN)
	}
	if s.AlarmTopicARN != "" && s.AlarmEmail != "" {
		bad(KeyAlarmEmail, "subscribe the email to %s yourself: the stack only subscribes a topic it creates", s.AlarmTopicARN)
	}
	if s.AlarmEmail != "" && !emailRE.MatchString(s.AlarmEmail) {
		bad(KeyAlarmEmail, "%q is not an email address", s.AlarmEmail)
	}
	if s.DriftThreshold < 1 {
		bad(KeyDriftThreshold, "%d must be positive", s.DriftThreshold)
	}
	if len(s.Revision) > 64 || !revisionRE.MatchString(s.Revision) {
		bad(KeyRevision, "%q: use up to 64 letters, digits and ._:-", s.Revision)
	}
	if s.QueueAgeThreshold < time.Minute || s.QueueAgeThreshold%time.Second != 0 {
		bad(KeyQueueAgeThreshold, "%s is not whole seconds of at least 1m", s.QueueAgeThreshold)
	}
	return errors.Join(errs...)
}

// checkFunctionsDir says which bootstrap is missing, rather than letting the
// asset staging fail later with a bare path, and refuses a binary built for
// another machine than the functions' arm64 (make build-functions
// FUNCTIONS_ARCH=amd64 is for local runs).
func checkFunctionsDir(dir string) error {
	for _, name := range FunctionNames() {
		p := filepath.Join(dir, name, "bootstrap")
		fi, err := os.Stat(p)
		if err != nil {
			return fmt.Errorf("%s: %w", p, err)
		}
		if !fi.Mode().IsRegular() {
			return fmt.Errorf("%s is not a file", p)
		}
		if err := checkBootstrapArch(p); err != nil {
			return err
		}
	}
	return nil
}

// checkBootstrapArch accepts a linux/arm64 ELF executable, or a file that
// is not ELF at all (a script: provided.al2023 runs any executable
// bootstrap).
func checkBootstrapArch(path string) error {
	f, err := elf.Open(path)
	if err != nil {
		var formatErr *elf.FormatError
		if errors.As(err, &formatErr) {
			return nil // not ELF
		}
		return fmt.Errorf("%s: %w", path, err)
	}
	defer f.Close()
	if f.Machine != elf.EM_AARCH64 || f.Class != elf.ELFCLASS64 {
		return fmt.Errorf("%s is built for %s, not linux/arm64 (make build-functions FUNCTIONS_ARCH=arm64)", path, f.Machine)
	}
	return nil
}
