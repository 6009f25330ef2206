package stacks

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
)

// ContextPrefix starts every context key the app reads, e.g.
// `cdk deploy -c xtsync:configFile=xtsync.yaml`.
const ContextPrefix = "xtsync:"

// The context keys (after ContextPrefix). docs/deploy.md lists them with
// their defaults.
const (
	KeyStackPrefix             = "stackPrefix"
	KeyAccount                 = "account"
	KeyRegion                  = "region"
	KeyFunctionsDir            = "functionsDir"
	KeyConfigFile              = "configFile"
	KeyConfigParameter         = "configParameterName"
	KeySourceSecretARN         = "sourceSecretArn"
	KeyTargetSecretARN         = "targetSecretArn"
	KeyLogRetentionDays        = "logRetentionDays"
	KeyWebhookTimeout          = "webhookTimeout"
	KeyWebhookMemory           = "webhookMemoryMB"
	KeyWorkerTimeout           = "workerTimeout"
	KeyWorkerMemory            = "workerMemoryMB"
	KeyWorkerBatchSize         = "workerBatchSize"
	KeyWorkerMaxConcurrency    = "workerMaxConcurrency"
	KeyReconcileTimeout        = "reconcileTimeout"
	KeyReconcileMemory         = "reconcileMemoryMB"
	KeyReconcileRate           = "reconcileRate"
	KeyMaxReceiveCount         = "maxReceiveCount"
	KeyAPIRateLimit            = "apiRateLimit"
	KeyAPIBurstLimit           = "apiBurstLimit"
	KeyAlarmTopicARN           = "alarmTopicArn"
	KeyAlarmEmail              = "alarmEmail"
	KeyDriftThreshold          = "driftThreshold"
	KeyQueueAgeThreshold       = "queueAgeThreshold"
	KeyTableDeletionProtection = "tableDeletionProtection"
	KeyRevision                = "revision"
)

// Context reads the CDK context: all of it (to find misspelt keys), and a
// file a key names.
type Context struct {
	// All returns every context value by key (the App's
	// node.getAllContext).
	All func() map[string]any
	// ReadFile reads the configuration file named by xtsync:configFile.
	ReadFile func(path string) ([]byte, error)
}

// FromContext overlays the xtsync:* context values on DefaultSettings and
// validates the result. Values come typed from cdk.json and as strings from
// `cdk -c`; both are accepted. An unknown xtsync:* key is an error, so a
// misspelt setting does not silently keep its default.
func FromContext(c Context) (Settings, error) {
	s := DefaultSettings()
	all := c.All()
	var errs []error
	fail := func(key string, err error) { errs = append(errs, fmt.Errorf("%s%s: %w", ContextPrefix, key, err)) }

	str := func(key string, dst *string) {
		if v, ok := all[ContextPrefix+key]; ok {
			if err := asString(v, dst); err != nil {
				fail(key, err)
			}
		}
	}
	num := func(key string, dst *int) {
		if v, ok := all[ContextPrefix+key]; ok {
			if err := asInt(v, dst); err != nil {
				fail(key, err)
			}
		}
	}
	dur := func(key string, dst *time.Duration) {
		if v, ok := all[ContextPrefix+key]; ok {
			if err := asDuration(v, dst); err != nil {
				fail(key, err)
			}
		}
	}
	flag := func(key string, dst *bool) {
		if v, ok := all[ContextPrefix+key]; ok {
			if err := asBool(v, dst); err != nil {
				fail(key, err)
			}
		}
	}

	var configFile string
	str(KeyStackPrefix, &s.StackPrefix)
	str(KeyAccount, &s.Account)
	str(KeyRegion, &s.Region)
	str(KeyFunctionsDir, &s.FunctionsDir)
	str(KeyConfigFile, &configFile)
	str(KeyConfigParameter, &s.ConfigParameterName)
	str(KeySourceSecretARN, &s.SourceSecretARN)
	str(KeyTargetSecretARN, &s.TargetSecretARN)
	num(KeyLogRetentionDays, &s.LogRetentionDays)
	dur(KeyWebhookTimeout, &s.WebhookTimeout)
	num(KeyWebhookMemory, &s.WebhookMemoryMB)
	dur(KeyWorkerTimeout, &s.WorkerTimeout)
	num(KeyWorkerMemory, &s.WorkerMemoryMB)
	num(KeyWorkerBatchSize, &s.WorkerBatchSize)
	num(KeyWorkerMaxConcurrency, &s.WorkerMaxConcurrency)
	dur(KeyReconcileTimeout, &s.ReconcileTimeout)
	num(KeyReconcileMemory, &s.ReconcileMemoryMB)
	dur(KeyReconcileRate, &s.ReconcileRate)
	num(KeyMaxReceiveCount, &s.MaxReceiveCount)
	num(KeyAPIRateLimit, &s.APIRateLimit)
	num(KeyAPIBurstLimit, &s.APIBurstLimit)
	str(KeyAlarmTopicARN, &s.AlarmTopicARN)
	str(KeyAlarmEmail, &s.AlarmEmail)
	num(KeyDriftThreshold, &s.DriftThreshold)
	dur(KeyQueueAgeThreshold, &s.QueueAgeThreshold)
	flag(KeyTableDeletionProtection, &s.TableDeletionProtection)
	str(KeyRevision, &s.Revision)

	for k := range all {
		if name, ok := strings.CutPrefix(k, ContextPrefix); ok && !slices.Contains(contextKeys(), name) {
			errs = append(errs, fmt.Errorf("%s: unknown setting (known: %s)", k, strings.Join(contextKeys(), ", ")))
		}
	}
	if configFile != "" {
		b, err := c.ReadFile(configFile)
		if err != nil {
			fail(KeyConfigFile, err)
		} else {
			s.ConfigYAML = string(b)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return Settings{}, err
	}
	if err := s.Validate(); err != nil {
		return Settings{}, err
	}
	return s, nil
}

// contextKeys lists the known keys, sorted.
func contextKeys() []string {
	keys := []string{
		KeyStackPrefix, KeyAccount, KeyRegion, KeyFunctionsDir, KeyConfigFile,
		KeyConfigParameter, KeySourceSecretARN, KeyTargetSecretARN,
		KeyLogRetentionDays, KeyWebhookTimeout, KeyWebhookMemory,
		KeyWorkerTimeout, KeyWorkerMemory, KeyWorkerBatchSize,
		KeyWorkerMaxConcurrency, KeyReconcileTimeout, KeyReconcileMemory,
		KeyReconcileRate, KeyMaxReceiveCount, KeyAPIRateLimit, KeyAPIBurstLimit,
		KeyAlarmTopicARN, KeyAlarmEmail, KeyDriftThreshold, KeyQueueAgeThreshold,
		KeyTableDeletionProtection, KeyRevision,
	}
	slices.Sort(keys)
	return keys
}

func asString(v any, dst *string) error {
	s, ok := v.(string)
	if !ok {
		return fmt.Errorf("%v is not a string", v)
	}
	*dst = strings.TrimSpace(s)
	return nil
}

func asInt(v any, dst *int) error {
	switch x := v.(type) {
	case int:
		*dst = x
	case float64:
		if x != math.Trunc(x) || math.Abs(x) > 1<<31 {
			return fmt.Errorf("%v is not a whole number", x)
		}
		*dst = int(x)
	case string:
		n, err := strconv.Atoi(strings.TrimSpace(x))
		if err != nil {
			return fmt.Errorf("%q is not a whole number", x)
		}
		*dst = n
	default:
		return fmt.Errorf("%v is not a whole number", v)
	}
	return nil
}

func asDuration(v any, dst *time.Duration) error {
	s, ok := v.(string)
	if !ok {
		return fmt.Errorf("%v is not a duration string such as \"5m\" or \"1h\"", v)
	}
	d, err := time.ParseDuration(strings.TrimSpace(s))
	if err != nil {
		return fmt.Errorf("%q is not a duration such as \"5m\" or \"1h\"", s)
	}
	*dst = d
	return nil
}

func asBool(v any, dst *bool) error {
	switch x := v.(type) {
	case bool:
		*dst = x
	case string:
		b, err := strconv.ParseBool(strings.TrimSpace(x))
		if err != nil {
			return fmt.Errorf("%q is not true or false", x)
		}
		*dst = b
	default:
		return fmt.Errorf("%v is not true or false", v)
	}
	return nil
}
