package e2e_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/xtsync/xtsync/internal/rie"
	"github.com/xtsync/xtsync/internal/waitfor"
	"github.com/xtsync/xtsync/pkg/engine"
	"github.com/xtsync/xtsync/pkg/graphemu"
)

// The issue 5 scenario: the scheduled reconcile subscribes (Graph validates
// the webhook, answered without any AWS call) and fans the initial sync out;
// real notifications flow webhook → SQS → worker; a dropped notification and
// target drift are repaired by the next reconcile; the DynamoDB items are as
// expected.
func TestLambdaScenario(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()

	w.reconcile()
	if n := len(w.em.Subscriptions(src)); n != len(w.scope)+1 { // and the users one
		t.Fatalf("subscriptions after the first reconcile: %d, want %d", n, len(w.scope)+1)
	}
	w.settle(w.worker)

	// Real notifications.
	eng, sales := w.nick["engineering"], w.nick["sales"]
	salesGroup, _ := w.em.Group(src, sales)
	must(t, w.em.AddMember(src, eng, salesGroup.Members[0]))
	must(t, w.em.RemoveMember(src, sales, salesGroup.Members[1]))
	must(t, w.em.UpdateGroup(src, w.nick["finance"], func(g *graphemu.Group) { g.DisplayName = "Finance & Legal" }))
	waitfor.WaitFor(t, 10*time.Second, "the three notifications delivered", func() bool { return w.em.DeliveryStats().Delivered >= 3 })
	w.settle(w.worker)

	// A dropped notification and target drift: the reconcile repairs both.
	must(t, w.em.SetFaults(src, graphemu.Faults{NotifyDropRate: 1}))
	must(t, w.em.AddMember(src, sales, salesGroup.Members[1]))
	var tEng graphemu.Group
	for _, g := range w.em.Groups(dst) {
		if g.MailNickname == engine.TargetNickname(eng) {
			tEng = g
		}
	}
	rogue, err := w.em.CreateUser(dst, graphemu.User{UserPrincipalName: "rogue@" + graphemu.SampleTargetDomain, Mail: "rogue@fabrikam.com", AccountEnabled: true})
	must(t, err)
	must(t, w.em.AddMember(dst, tEng.ID, rogue.ID))
	w.drain(w.worker)
	if w.mirrored() == nil {
		t.Fatal("converged without the reconcile: the test proves nothing")
	}
	w.reconcile()
	w.settle(w.worker)

	// DynamoDB holds the mappings, the delta link, the subscriptions and
	// the audit log.
	groups, err := w.store.List(ctx, engine.RecordGroup)
	must(t, err)
	if len(groups) != len(w.scope)-1 { // the distribution list is not mirrored
		t.Errorf("group mappings: %d, want %d", len(groups), len(w.scope)-1)
	}
	users, _ := w.store.List(ctx, engine.RecordUser)
	if len(users) != len(w.em.Users(dst))-1 { // all but the rogue
		t.Errorf("user mappings: %d, target users %d", len(users), len(w.em.Users(dst)))
	}
	// The shard's delta link, and the users delta link once a users pass
	// has run.
	// The shard's mirror link too (server.watch_mirrors).
	deltas, _ := w.store.List(ctx, engine.RecordDelta)
	shardLinks, mirrorLinks := 0, 0
	for _, r := range deltas {
		switch {
		case strings.HasPrefix(r.Key, "mirrors:"):
			mirrorLinks++
		case r.Key != "users" && r.Key != "target-users":
			shardLinks++
		}
	}
	if shardLinks != 1 || mirrorLinks != 1 || len(deltas) > 4 {
		t.Errorf("delta links: %d (%d of shards, %d of mirrors), want the shard's, its mirrors' and at most the users ones of both tenants", len(deltas), shardLinks, mirrorLinks)
	}
	meta, _ := w.store.List(ctx, engine.RecordMeta)
	subs := 0
	for _, r := range meta {
		if strings.HasPrefix(r.Key, "subscription:") {
			subs++
		}
	}
	// One per group and the users one on the source, one per mirror and
	// the users one on the target.
	if want := len(w.scope) + 1 + len(groups) + 1; subs != want {
		t.Errorf("subscription records: %d, want %d (one per group and the users one, one per mirror and the target's users one)", subs, want)
	}
	audit, _ := w.store.Audit(ctx, engine.AuditQuery{})
	// Writes are audited twice: started before they are sent, then their
	// outcome; count the outcomes.
	actions := map[string]int{}
	for _, a := range audit {
		if a.Outcome != engine.OutcomeStarted {
			actions[a.Action]++
		}
	}
	if actions["create-group"] != len(w.scope)-1 || actions["remove-members"] == 0 || actions["update-group"] == 0 {
		t.Errorf("audit actions: %v", actions)
	}
	for _, f := range []struct {
		name string
		reps int
	}{{"webhook", len(w.webhook.Reports())}, {"worker", len(w.worker.Reports())}, {"reconcile", len(w.recon.Reports())}} {
		if f.reps == 0 {
			t.Errorf("%s: no REPORT lines", f.name)
		}
	}
	logInit(t, "webhook", w.webhook.Reports())
	logInit(t, "worker", w.worker.Reports())
	logInit(t, "reconcile", w.recon.Reports())
}

// A worker killed in the middle of a batch loses nothing: the message comes
// back after its visibility timeout and is applied once.
func TestWorkerCrashLosesNothing(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	w.reconcile()
	w.settle(w.worker)

	// Slow the target down so the worker is mid-apply when it dies.
	eng := w.nick["engineering"]
	newcomer := w.em.Users(src)[40]
	must(t, w.em.AddMember(src, eng, newcomer.ID))
	var msgs []sqstypes.Message
	waitfor.WaitFor(t, 10*time.Second, "the notification in the queue", func() bool {
		out, err := w.sqs.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(w.queue), MaxNumberOfMessages: 10,
			MessageSystemAttributeNames: []sqstypes.MessageSystemAttributeName{sqstypes.MessageSystemAttributeNameAll}})
		must(t, err)
		msgs = out.Messages
		return len(msgs) > 0
	})
	must(t, w.em.SetFaults(dst, graphemu.Faults{Latency: graphemu.Duration(3 * time.Second)}))
	// The emulator counts a request when it arrives, before the latency:
	// once the target has seen one more, the worker is waiting 3 s for its
	// answer, inside the slowed apply.
	targetCalls := func() int {
		n := 0
		for _, c := range w.em.Stats(dst).Routes {
			n += c
		}
		return n
	}
	before := targetCalls()
	done := make(chan error, 1)
	go func() {
		payload, _ := json.Marshal(sqsEvent(w.queue, msgs))
		_, err := w.worker.Invoke(ctx, payload)
		done <- err
	}()
	waitfor.WaitFor(t, 10*time.Second, "the worker's first call to the target", func() bool { return targetCalls() > before })
	w.worker.Kill()
	if err := <-done; err == nil {
		t.Fatal("the killed worker's invoke succeeded: it was not killed mid-batch")
	}
	must(t, w.em.SetFaults(dst, graphemu.Faults{}))
	// The message was never deleted: after its visibility timeout a new
	// worker gets it.
	fresh := w.restartWorker()
	w.settle(fresh)
	tg := w.targetOf(eng)
	count := 0
	for _, m := range tg.Members {
		if u, _ := w.em.User(dst, m); strings.EqualFold(u.Mail, newcomer.Mail) {
			count++
		}
	}
	if count != 1 {
		t.Fatalf("the newcomer is a member %d times, want once", count)
	}
}

// The webhook function answers Graph's validation request with no AWS call
// (here every AWS endpoint is closed), from both event shapes; a
// notification it cannot check against DynamoDB is not acted on, and
// answered 503, so that Graph delivers it again once the table answers.
func TestWebhookWithoutAWS(t *testing.T) {
	env := []string{
		"XTSYNC_CONFIG_PARAMETER=/xtsync/config", "XTSYNC_TABLE=xtsync", "XTSYNC_QUEUE_URL=http://127.0.0.1:1/000000000000/xtsync.fifo",
		"AWS_ENDPOINT_URL=http://127.0.0.1:1", "AWS_REGION=us-east-1", "AWS_ACCESS_KEY_ID=local", "AWS_SECRET_ACCESS_KEY=local",
	}
	fn := rie.Start(t, rie.Build(t, "github.com/xtsync/xtsync/functions/webhook"), env)
	for _, tc := range []struct {
		file, wantBody string
		wantStatus     int
	}{
		{"apigw-v2-validation.json", "Validation: Testing client application reachability for subscription Request-Id: 5d2e8f1a-3c7b-4d9e-a2f6-1b8c4e0d7a53", 200},
		{"apigw-v2-notification.json", "Service Unavailable\n", 503},
		{"function-url-notification.json", "Service Unavailable\n", 503},
	} {
		payload, err := os.ReadFile(filepath.Join("..", "..", "events", tc.file))
		must(t, err)
		start := time.Now()
		out, err := fn.Invoke(context.Background(), payload)
		must(t, err)
		var resp events.APIGatewayV2HTTPResponse
		must(t, json.Unmarshal(out, &resp))
		if resp.StatusCode != tc.wantStatus || resp.Body != tc.wantBody {
			t.Errorf("%s: %d %q, want %d %q", tc.file, resp.StatusCode, resp.Body, tc.wantStatus, tc.wantBody)
		}
		if tc.wantStatus == 200 && !strings.HasPrefix(resp.Headers["Content-Type"], "text/plain") {
			t.Errorf("validation content type %q", resp.Headers["Content-Type"])
		}
		t.Logf("%s answered in %s", tc.file, time.Since(start))
	}
}
