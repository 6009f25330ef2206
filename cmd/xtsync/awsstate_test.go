package main

import (
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/xtsync/xtsync/internal/awslocal"
	"github.com/xtsync/xtsync/internal/testlog"
	"github.com/xtsync/xtsync/pkg/config"
	"github.com/xtsync/xtsync/pkg/dynamostore"
	"github.com/xtsync/xtsync/pkg/engine"
	"github.com/xtsync/xtsync/pkg/graphemu"
	"github.com/xtsync/xtsync/pkg/msgraph"
	"github.com/xtsync/xtsync/pkg/task"
)

// TestCommandsReadTheAWSState: with state.dynamodb_table, the operator
// commands read the AWS deployment's state (DynamoDB, here dynalite):
// status shows the mirrors a run stored there, audit its entries, explain
// a user it invited, and a dry run plans; a command that would write is
// refused, naming the key, and writes nothing.
func TestCommandsReadTheAWSState(t *testing.T) {
	ctx := awslocal.Context(t)
	store, table, endpoint := newAWSTable(t)

	// A run writes the state to the table, as the AWS functions do.
	env := newReconcileEnv(t, []string{"finance", "sales"}, "")
	cfg, err := config.Load(env.cfg)
	must(t, err)
	eng := tableEngine(t, cfg, store)
	_, err = eng.Reconcile(context.Background(), engine.RunOptions{})
	must(t, err)

	// The operator's configuration names the table instead of a file.
	useAWSState(t, env, table, endpoint, "")

	fin, _ := mirrorOf(env.em, env.nick["finance"])
	code, out, errs := xtsync(t, "status", "--config", env.cfg)
	if code != 0 || !strings.Contains(out, fin.ID) || !strings.Contains(out, "Finance") {
		t.Fatalf("status from the table: exit %d\n%s\n%s", code, out, errs)
	}
	code, out, errs = xtsync(t, "audit", "--config", env.cfg, "--action", "create-group", "--outcome", "ok", "--json")
	var entries []engine.AuditEntry
	if code != 0 || json.Unmarshal([]byte(out), &entries) != nil || len(entries) != 2 {
		t.Errorf("audit from the table: exit %d, %d create-group ok entries, want 2\n%s\n%s", code, len(entries), out, errs)
	}
	var invited graphemu.User
	for _, u := range env.em.Users(graphemu.SampleTargetTenant) {
		if u.UserType == "Member" && u.CreationType == "Invitation" {
			invited = u
			break
		}
	}
	if code, out, errs := xtsync(t, "explain", "--config", env.cfg, "--user", invited.Mail); code != 0 || !strings.Contains(out, "(created)") {
		t.Errorf("explain from the table (%s): exit %d\n%s\n%s", invited.Mail, code, out, errs)
	}
	if code, out, errs := xtsync(t, "reconcile", "--config", env.cfg, "--dry-run"); code != 0 {
		t.Errorf("dry run against the table: exit %d\n%s\n%s", code, out, errs)
	}
	writes := env.em.Stats(graphemu.SampleTargetTenant).Writes()
	for _, args := range [][]string{{"reconcile"}, {"sync", "--group", env.nick["finance"]}} {
		code, _, errs := xtsync(t, append(args, "--config", env.cfg)...)
		if code != exitUsage || !strings.Contains(errs, "state.dynamodb_table") || !strings.Contains(errs, "only its functions write") {
			t.Errorf("%v against the table: exit %d, stderr %q; want %d naming state.dynamodb_table", args, code, errs, exitUsage)
		}
	}
	if got := env.em.Stats(graphemu.SampleTargetTenant).Writes(); got != writes {
		t.Errorf("the refused commands wrote %d times", got-writes)
	}

	// With the deployment's queue, sync --group sends the group's shard to
	// the workers, through the same FIFO queue their work comes by.
	sq := sqs.NewFromConfig(awslocal.Config(t), func(o *sqs.Options) { o.BaseEndpoint = aws.String(awslocal.SQSEndpoint(t)) })
	q, err := sq.CreateQueue(ctx, &sqs.CreateQueueInput{
		QueueName:  aws.String(awslocal.UniqueName(t) + ".fifo"),
		Attributes: map[string]string{"FifoQueue": "true"},
	})
	must(t, err)
	raw, err := os.ReadFile(env.cfg)
	must(t, err)
	must(t, os.WriteFile(env.cfg, []byte(strings.Replace(string(raw), "state:\n", "state:\n  queue_url: "+*q.QueueUrl+"\n", 1)), 0o600))
	t.Setenv("AWS_ENDPOINT_URL_SQS", awslocal.SQSEndpoint(t))
	code, out, errs = xtsync(t, "sync", "--config", env.cfg, "--group", env.nick["finance"])
	if code != 0 || !strings.Contains(out, "sent") {
		t.Fatalf("sync to the queue: exit %d\n%s\n%s", code, out, errs)
	}
	got, err := sq.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: q.QueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1})
	must(t, err)
	if len(got.Messages) != 1 {
		t.Fatalf("%d messages on the queue, want 1", len(got.Messages))
	}
	tk, err := task.Decode(*got.Messages[0].Body)
	must(t, err)
	if want := task.Of(task.SyncShard, engine.NewSharding(cfg.Scope.Groups).ShardOf(env.nick["finance"])); tk != want {
		t.Errorf("queued %v, want %v", tk, want)
	}
	if got := env.em.Stats(graphemu.SampleTargetTenant).Writes(); got != writes {
		t.Errorf("sync to the queue wrote %d times itself", got-writes)
	}
}

// tableEngine is the engine of cfg's tenants over store, as the AWS
// functions build it.
func tableEngine(t *testing.T, cfg *config.Config, store engine.Store) *engine.Engine {
	t.Helper()
	log := testlog.New(t, slog.LevelInfo)
	src, err := msgraph.ForTenant("source", cfg.Source, log, nil)
	must(t, err)
	dst, err := msgraph.ForTenant("target", cfg.Target, log, nil)
	must(t, err)
	schema := msgraph.SchemaOf(cfg.EngineOptions())
	eng, err := engine.New(msgraph.NewSource(src, schema), msgraph.NewTarget(dst, schema), store, cfg.EngineOptions(), log, engine.SystemClock{})
	must(t, err)
	return eng
}

// newAWSTable creates a state table of its own in dynalite and returns
// its store, its name and dynalite's endpoint.
func newAWSTable(t *testing.T) (*dynamostore.Store, string, string) {
	t.Helper()
	endpoint := awslocal.DynamoDBEndpoint(t)
	table := awslocal.UniqueName(t)
	client := dynamodb.NewFromConfig(awslocal.Config(t), func(o *dynamodb.Options) { o.BaseEndpoint = aws.String(endpoint) })
	store := dynamostore.New(client, table, dynamostore.Options{})
	must(t, store.CreateTable(awslocal.Context(t)))
	return store, table, endpoint
}

// useAWSState rewrites env's configuration to name the table (in
// dynalite at endpoint) instead of a state file, with extra YAML lines
// under state:, and sets the AWS environment the CLI reads.
func useAWSState(t *testing.T, env *reconcileEnv, table, endpoint, extra string) {
	t.Helper()
	raw, err := os.ReadFile(env.cfg)
	must(t, err)
	doc := regexp.MustCompile(`(?m)^state:\n  path: .*$`).ReplaceAllString(string(raw), "state:\n  dynamodb_table: "+table+"\n  region: "+awslocal.Config(t).Region+extra)
	must(t, os.WriteFile(env.cfg, []byte(doc), 0o600))
	t.Setenv("AWS_ENDPOINT_URL_DYNAMODB", endpoint)
	creds, _ := awslocal.Config(t).Credentials.Retrieve(awslocal.Context(t))
	t.Setenv("AWS_ACCESS_KEY_ID", creds.AccessKeyID)
	t.Setenv("AWS_SECRET_ACCESS_KEY", creds.SecretAccessKey)
}
