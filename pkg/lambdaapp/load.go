package lambdaapp

import (
	"context"
	"fmt"
	"os"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/ssm"

	"github.com/xtsync/xtsync/pkg/config"
)

// SSM reads a parameter.
type SSM interface {
	GetParameter(ctx context.Context, in *ssm.GetParameterInput, opts ...func(*ssm.Options)) (*ssm.GetParameterOutput, error)
}

// Secrets reads a secret.
type Secrets interface {
	GetSecretValue(ctx context.Context, in *secretsmanager.GetSecretValueInput, opts ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error)
}

// configText returns the YAML: inline, or from the SSM parameter.
func configText(ctx context.Context, s Settings, p SSM) (string, error) {
	if s.Config != "" {
		return s.Config, nil
	}
	out, err := p.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String(s.ConfigParameter), WithDecryption: aws.Bool(true)})
	if err != nil {
		return "", fmt.Errorf("read config parameter %s: %w", s.ConfigParameter, err)
	}
	if out.Parameter == nil || out.Parameter.Value == nil {
		return "", fmt.Errorf("config parameter %s is empty", s.ConfigParameter)
	}
	return *out.Parameter.Value, nil
}

// LoadConfig loads and validates the configuration. With secrets, the Graph
// client secrets are fetched from Secrets Manager (or taken from the
// environment when no ARN is set); without (the webhook never calls Graph),
// they resolve to a placeholder.
func LoadConfig(ctx context.Context, s Settings, p SSM, sm Secrets, withSecrets bool) (*config.Config, error) {
	text, err := configText(ctx, s, p)
	if err != nil {
		return nil, err
	}
	vals := map[string]string{}
	for k, v := range s.Secrets {
		vals[k] = v
	}
	for name, arn := range map[string]string{SourceSecretVar: s.SourceSecretARN, TargetSecretVar: s.TargetSecretARN} {
		switch {
		case !withSecrets:
			vals[name] = "not-loaded-by-this-function"
		case arn != "":
			out, err := sm.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(arn)})
			if err != nil {
				return nil, fmt.Errorf("read secret %s: %w", arn, err)
			}
			if out.SecretString == nil || *out.SecretString == "" {
				return nil, fmt.Errorf("secret %s is empty: put the app registration's client secret in it", arn)
			}
			vals[name] = *out.SecretString
		}
	}
	lookup := func(name string) (string, bool) {
		if v, ok := vals[name]; ok {
			return v, true
		}
		return os.LookupEnv(name)
	}
	cfg, err := config.Parse([]byte(text), lookup)
	if err != nil {
		return nil, err
	}
	return cfg, nil
}
