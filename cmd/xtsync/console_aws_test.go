package main

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/xtsync/xtsync/internal/awslocal"
	"github.com/xtsync/xtsync/internal/testlog"
	"github.com/xtsync/xtsync/pkg/config"
	"github.com/xtsync/xtsync/pkg/engine"
	"github.com/xtsync/xtsync/pkg/graphemu"
	"github.com/xtsync/xtsync/pkg/task"
)

// TestConsoleAWS: xtsync console's pages over the AWS deployment's table
// (dynalite): the overview shows the mirrors a run stored there, the log
// its entries, the user page explains a user it invited, the charts point
// to CloudWatch; the sync form sends the group's shard to the queue and
// writes nothing itself; the approval without state.reconcile_function is
// refused naming it; a configuration without the table is refused.
func TestConsoleAWS(t *testing.T) {
	ctx := awslocal.Context(t)
	store, table, endpoint := newAWSTable(t)

	env := newReconcileEnv(t, []string{"finance", "sales"}, "")
	if code, _, errs := xtsync(t, "console", "--config", env.cfg); code != exitUsage || !strings.Contains(errs, "state.dynamodb_table") {
		t.Errorf("console without the table: exit %d, %q; want %d naming state.dynamodb_table", code, errs, exitUsage)
	}
	cfg, err := config.Load(env.cfg)
	must(t, err)
	threshold := 2
	cfg.Sync.DeletionThreshold = &threshold
	eng := tableEngine(t, cfg, store)
	_, err = eng.Reconcile(context.Background(), engine.RunOptions{})
	must(t, err)
	// Then finance loses three members: the run halts, and the table keeps
	// the halt.
	fin := env.nick["finance"]
	fg, _ := env.em.Group(graphemu.SampleSourceTenant, fin)
	for _, id := range fg.Members[:3] {
		must(t, env.em.RemoveMember(graphemu.SampleSourceTenant, fin, id))
	}
	if _, err := eng.Reconcile(context.Background(), engine.RunOptions{}); !errors.Is(err, engine.ErrThreshold) {
		t.Fatalf("the run after the removals: %v, want a halt", err)
	}

	sq := sqs.NewFromConfig(awslocal.Config(t), func(o *sqs.Options) { o.BaseEndpoint = aws.String(awslocal.SQSEndpoint(t)) })
	q, err := sq.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(awslocal.UniqueName(t) + ".fifo"), Attributes: map[string]string{"FifoQueue": "true"}})
	must(t, err)
	useAWSState(t, env, table, endpoint, "\n  queue_url: "+*q.QueueUrl)
	t.Setenv("AWS_ENDPOINT_URL_SQS", awslocal.SQSEndpoint(t))
	cfg, err = config.Load(env.cfg)
	must(t, err)

	h, err := awsConsoleHandler(cfg, consoleEnv(t), "")
	must(t, err)
	ts := httptest.NewServer(h)
	t.Cleanup(ts.Close)
	c := newConsoleClient(t, strings.TrimPrefix(ts.URL, "http://"))

	_, body := c.get("/", http.StatusOK)
	rows := overviewRows(body)
	for _, nick := range []string{"finance", "sales"} {
		m, _ := mirrorOf(env.em, env.nick[nick])
		if r := rows[env.nick[nick]]; r["target"] != m.ID || m.ID == "" {
			t.Errorf("overview row of %s: %v, want target %s\n%s", nick, r, m.ID, body)
		}
	}
	if !strings.Contains(body, "state.dynamodb_table "+table) {
		t.Errorf("the overview does not say it reads the table:\n%s", body)
	}
	if _, body := c.get("/log?action=create-group&outcome=ok", http.StatusOK); strings.Count(body, `<tr class="entry">`) != 2 {
		t.Errorf("log from the table: %d create-group entries, want 2\n%s", strings.Count(body, `<tr class="entry">`), body)
	}
	var invited graphemu.User
	for _, u := range env.em.Users(graphemu.SampleTargetTenant) {
		if u.UserType == "Member" && u.CreationType == "Invitation" {
			invited = u
			break
		}
	}
	if _, body := c.get("/user?user="+url.QueryEscape(invited.Mail), http.StatusOK); !strings.Contains(body, `<section id="explain"`) || !strings.Contains(body, "(created)") {
		t.Errorf("user page from the table (%s):\n%s", invited.Mail, body)
	}
	if _, body := c.get("/charts", http.StatusOK); !strings.Contains(body, "CloudWatch dashboard") || strings.Contains(body, "<svg") {
		t.Errorf("charts on AWS:\n%s", body)
	}

	// The halt and its plan; the sync form sends the shard to the queue;
	// nothing is written here.
	writes := env.em.Stats(graphemu.SampleTargetTenant).Writes()
	if _, body := c.get("/", http.StatusOK); !strings.Contains(body, `<a id="halt-link" href="/halt">`) || !strings.Contains(overviewRows(body)[fin]["note"], "HOLDING removals") {
		t.Errorf("overview on AWS with a halt:\n%s", body)
	}
	_, body = c.get("/halt", http.StatusOK)
	if !strings.Contains(body, `<p id="halt" class="held">Deletion guard: HOLDING`) || !strings.Contains(body, `<table id="plan">`) || !strings.Contains(body, "remove-members") {
		t.Errorf("halt page on AWS:\n%s", body)
	}
	if resp, _ := c.post("/console/sync", url.Values{"csrf": {csrfOf(t, body)}, "group": {fin}}, "same-origin"); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("sync form: %d, want 303", resp.StatusCode)
	}
	got, err := sq.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: q.QueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1})
	must(t, err)
	if len(got.Messages) != 1 {
		t.Fatalf("%d messages on the queue, want 1", len(got.Messages))
	}
	tk, err := task.Decode(*got.Messages[0].Body)
	must(t, err)
	if want := task.Of(task.SyncShard, engine.NewSharding(cfg.Scope.Groups).ShardOf(fin)); tk != want {
		t.Errorf("queued %v, want %v", tk, want)
	}
	if _, body := c.get("/", http.StatusOK); !strings.Contains(body, "sent "+tk.String()) {
		t.Errorf("the overview does not tell the sync was sent:\n%s", body)
	}
	// The approval needs the reconcile function.
	if resp, _ := c.post("/console/approve", url.Values{"csrf": {csrfOf(t, body)}}, "same-origin"); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("approve form: %d, want 303", resp.StatusCode)
	}
	if _, body := c.get("/halt", http.StatusOK); !strings.Contains(body, "FAILED") || !strings.Contains(body, "state.reconcile_function") {
		t.Errorf("the approval without state.reconcile_function:\n%s", body)
	}
	if got := env.em.Stats(graphemu.SampleTargetTenant).Writes(); got != writes {
		t.Errorf("the console wrote %d times itself", got-writes)
	}
}

// consoleEnv is a command environment that logs to the test.
func consoleEnv(t *testing.T) env {
	return env{stdout: io.Discard, stderr: io.Discard, log: testlog.New(t, slog.LevelInfo)}
}
