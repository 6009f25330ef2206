package stacks

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// Deployment is the two stacks of one xtsync deployment.
type Deployment struct {
	Settings Settings
	State    *StateStack
	Sync     *SyncStack
}

// Build validates s and adds the State and Sync stacks to app, tagged, with
// the cdk-nag AwsSolutions checks and their reasoned suppressions applied.
func Build(app constructs.Construct, s Settings) (*Deployment, error) {
	if err := s.Validate(); err != nil {
		return nil, err
	}
	var config *ConfigTemplate
	if s.ConfigYAML != "" {
		t, err := NewConfigTemplate([]byte(s.ConfigYAML))
		if err != nil {
			return nil, err
		}
		config = &t
	}
	var env *awscdk.Environment
	if s.Account != "" {
		env = &awscdk.Environment{Account: jsii.String(s.Account), Region: jsii.String(s.Region)}
	}
	state := NewStateStack(app, s.StackPrefix+"State", &StateStackProps{
		StackProps:         awscdk.StackProps{Env: env},
		DeletionProtection: s.TableDeletionProtection,
	})
	sync := NewSyncStack(app, s.StackPrefix+"Sync", &SyncStackProps{
		StackProps:      awscdk.StackProps{Env: env},
		Settings:        s,
		Table:           state.Table,
		MetricNamespace: "xtsync/" + s.StackPrefix,
		Config:          config,
	})
	for _, st := range []awscdk.Stack{state.Stack, sync.Stack} {
		awscdk.Tags_Of(st).Add(jsii.String("application"), jsii.String("xtsync"), nil)
		awscdk.Tags_Of(st).Add(jsii.String("xtsync:deployment"), jsii.String(s.StackPrefix), nil)
	}
	d := &Deployment{Settings: s, State: state, Sync: sync}
	ApplyNagChecks(app, d)
	return d, nil
}

// BuildFromContext reads the settings from app's context (reading the file
// xtsync:configFile names with readFile) and builds the deployment: what
// `cdk synth` runs, and what the tests run.
func BuildFromContext(app awscdk.App, readFile func(string) ([]byte, error)) (*Deployment, error) {
	s, err := FromContext(Context{
		All: func() map[string]any {
			all, _ := app.Node().GetAllContext(nil).(map[string]any)
			return all
		},
		ReadFile: readFile,
	})
	if err != nil {
		return nil, err
	}
	return Build(app, s)
}
