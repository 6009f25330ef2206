package lambdaapp

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/xtsync/xtsync/pkg/contract"
)

// The environment the functions read; nothing else. The names are the
// contract with the stack (pkg/contract).
const (
	EnvConfig          = contract.EnvConfig
	EnvConfigParameter = contract.EnvConfigParameter
	EnvTable           = contract.EnvTable
	EnvQueueURL        = contract.EnvQueueURL
	EnvSourceSecretARN = contract.EnvSourceSecretARN
	EnvTargetSecretARN = contract.EnvTargetSecretARN
	EnvQuotaShare      = contract.EnvQuotaShare
	// EnvMetricsNamespace is optional: unset, the functions write no
	// metrics (EMF).
	EnvMetricsNamespace = contract.EnvMetricsNamespace
	// SourceSecretVar and TargetSecretVar are what the configuration
	// writes for the secrets: client_secret: "${XTSYNC_SOURCE_CLIENT_SECRET}".
	// Outside Lambda (tests, local invokes) they may be set in the
	// environment directly instead of the ARNs.
	SourceSecretVar = "XTSYNC_SOURCE_CLIENT_SECRET"
	TargetSecretVar = "XTSYNC_TARGET_CLIENT_SECRET"
)

// Settings is the environment of a function, read once.
type Settings struct {
	Config          string
	ConfigParameter string
	Table           string
	QueueURL        string
	SourceSecretARN string
	TargetSecretARN string
	// Secrets given directly (local runs), by variable name.
	Secrets map[string]string
	// QuotaShare is how many instances share each tenant's Graph quota
	// (1 when unset).
	QuotaShare int
	// MetricsNamespace is the CloudWatch namespace of the functions'
	// metrics (EMF on stdout); "" writes none.
	MetricsNamespace string
}

// ReadSettings reads the environment; errors name the variable.
func ReadSettings(getenv func(string) string) (Settings, error) {
	s := Settings{
		Config: getenv(EnvConfig), ConfigParameter: getenv(EnvConfigParameter),
		Table: getenv(EnvTable), QueueURL: getenv(EnvQueueURL),
		SourceSecretARN: getenv(EnvSourceSecretARN), TargetSecretARN: getenv(EnvTargetSecretARN),
		Secrets: map[string]string{}, MetricsNamespace: getenv(EnvMetricsNamespace),
	}
	for _, v := range []string{SourceSecretVar, TargetSecretVar} {
		if val := getenv(v); val != "" {
			s.Secrets[v] = val
		}
	}
	var errs []error
	s.QuotaShare = 1
	if v := getenv(EnvQuotaShare); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			errs = append(errs, fmt.Errorf("%s %q is not a whole number of at least 1", EnvQuotaShare, v))
		}
		s.QuotaShare = n
	}
	if (s.Config == "") == (s.ConfigParameter == "") {
		errs = append(errs, fmt.Errorf("set exactly one of %s and %s", EnvConfig, EnvConfigParameter))
	}
	if s.Table == "" {
		errs = append(errs, fmt.Errorf("%s is not set", EnvTable))
	}
	if s.QueueURL == "" {
		errs = append(errs, fmt.Errorf("%s is not set", EnvQueueURL))
	} else if !strings.HasSuffix(s.QueueURL, ".fifo") {
		errs = append(errs, fmt.Errorf("%s %q is not a FIFO queue (.fifo)", EnvQueueURL, s.QueueURL))
	}
	for name, arn := range map[string]string{EnvSourceSecretARN: s.SourceSecretARN, EnvTargetSecretARN: s.TargetSecretARN} {
		if arn != "" && !strings.HasPrefix(arn, "arn:") {
			errs = append(errs, fmt.Errorf("%s %q is not an ARN", name, arn))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return Settings{}, fmt.Errorf("lambda environment: %w", err)
	}
	return s, nil
}
