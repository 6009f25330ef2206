package awslocal_test

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/xtsync/xtsync/internal/awslocal"
)

func testContext(t *testing.T) context.Context { return awslocal.Context(t) }

// TestDynamoDB checks the local DynamoDB with what the state store will do:
// create a table, write an item only if absent, refuse a second such write,
// read it back consistently, and update it under a version condition.
func TestDynamoDB(t *testing.T) {
	endpoint := awslocal.DynamoDBEndpoint(t)
	ctx := testContext(t)
	db := dynamodb.NewFromConfig(awslocal.Config(t), func(o *dynamodb.Options) { o.BaseEndpoint = aws.String(endpoint) })
	table := awslocal.UniqueName(t)

	_, err := db.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:            aws.String(table),
		BillingMode:          ddbtypes.BillingModePayPerRequest,
		AttributeDefinitions: []ddbtypes.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: ddbtypes.ScalarAttributeTypeS}, {AttributeName: aws.String("sk"), AttributeType: ddbtypes.ScalarAttributeTypeS}},
		KeySchema:            []ddbtypes.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: ddbtypes.KeyTypeHash}, {AttributeName: aws.String("sk"), KeyType: ddbtypes.KeyTypeRange}},
	})
	if err != nil {
		t.Fatalf("CreateTable: %v", err)
	}
	t.Cleanup(func() {
		_, _ = db.DeleteTable(context.Background(), &dynamodb.DeleteTableInput{TableName: aws.String(table)})
	})
	waiter := dynamodb.NewTableExistsWaiter(db, func(o *dynamodb.TableExistsWaiterOptions) {
		o.MinDelay = 50 * time.Millisecond
		o.MaxDelay = time.Second
	})
	if err := waiter.Wait(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(table)}, 30*time.Second); err != nil {
		t.Fatalf("table did not become active: %v", err)
	}

	key := map[string]ddbtypes.AttributeValue{
		"pk": &ddbtypes.AttributeValueMemberS{Value: "GROUP#6f1c2b9e"},
		"sk": &ddbtypes.AttributeValueMemberS{Value: "MAP"},
	}
	item := func(target string, version int) map[string]ddbtypes.AttributeValue {
		m := map[string]ddbtypes.AttributeValue{
			"target":  &ddbtypes.AttributeValueMemberS{Value: target},
			"version": &ddbtypes.AttributeValueMemberN{Value: strconv.Itoa(version)},
		}
		for k, v := range key {
			m[k] = v
		}
		return m
	}
	putIfAbsent := func(target string) error {
		_, err := db.PutItem(ctx, &dynamodb.PutItemInput{
			TableName:           aws.String(table),
			Item:                item(target, 1),
			ConditionExpression: aws.String("attribute_not_exists(pk)"),
		})
		return err
	}
	if err := putIfAbsent("first"); err != nil {
		t.Fatalf("first conditional PutItem: %v", err)
	}
	err = putIfAbsent("second")
	var ccf *ddbtypes.ConditionalCheckFailedException
	if !errors.As(err, &ccf) {
		t.Fatalf("second conditional PutItem: got %v, want ConditionalCheckFailedException", err)
	}

	got, err := db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(table), Key: key, ConsistentRead: aws.Bool(true)})
	if err != nil {
		t.Fatalf("GetItem: %v", err)
	}
	if s, ok := got.Item["target"].(*ddbtypes.AttributeValueMemberS); !ok || s.Value != "first" {
		t.Fatalf("GetItem target = %#v, want \"first\" (the refused write must not have landed)", got.Item["target"])
	}

	update := func(from, to int) error {
		_, err := db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
			TableName:                 aws.String(table),
			Key:                       key,
			UpdateExpression:          aws.String("SET #t = :t, #v = :to"),
			ConditionExpression:       aws.String("#v = :from"),
			ExpressionAttributeNames:  map[string]string{"#t": "target", "#v": "version"},
			ExpressionAttributeValues: map[string]ddbtypes.AttributeValue{":t": &ddbtypes.AttributeValueMemberS{Value: "updated"}, ":from": &ddbtypes.AttributeValueMemberN{Value: strconv.Itoa(from)}, ":to": &ddbtypes.AttributeValueMemberN{Value: strconv.Itoa(to)}},
		})
		return err
	}
	if err := update(1, 2); err != nil {
		t.Fatalf("UpdateItem at version 1: %v", err)
	}
	if err := update(1, 2); !errors.As(err, &ccf) {
		t.Fatalf("stale UpdateItem: got %v, want ConditionalCheckFailedException", err)
	}
}

// TestSQSFIFO checks the local SQS with what the queue adapter will do: a
// FIFO queue, messages with a group id and a deduplication id, a duplicate
// dropped, order kept within the group, receive and delete.
func TestSQSFIFO(t *testing.T) {
	endpoint := awslocal.SQSEndpoint(t)
	ctx := testContext(t)
	q := sqs.NewFromConfig(awslocal.Config(t), func(o *sqs.Options) { o.BaseEndpoint = aws.String(endpoint) })

	created, err := q.CreateQueue(ctx, &sqs.CreateQueueInput{
		QueueName: aws.String(awslocal.UniqueName(t) + ".fifo"),
		Attributes: map[string]string{
			string(sqstypes.QueueAttributeNameFifoQueue):                 "true",
			string(sqstypes.QueueAttributeNameContentBasedDeduplication): "false",
			string(sqstypes.QueueAttributeNameVisibilityTimeout):         "30",
		},
	})
	if err != nil {
		t.Fatalf("CreateQueue: %v", err)
	}
	url := created.QueueUrl
	t.Cleanup(func() { _, _ = q.DeleteQueue(context.Background(), &sqs.DeleteQueueInput{QueueUrl: url}) })

	send := func(body, group, dedup string) string {
		t.Helper()
		out, err := q.SendMessage(ctx, &sqs.SendMessageInput{
			QueueUrl: url, MessageBody: aws.String(body),
			MessageGroupId: aws.String(group), MessageDeduplicationId: aws.String(dedup),
		})
		if err != nil {
			t.Fatalf("SendMessage %s: %v", body, err)
		}
		if aws.ToString(out.MessageId) == "" || aws.ToString(out.SequenceNumber) == "" {
			t.Errorf("SendMessage %s: message id %q, sequence number %q: want both for a FIFO queue", body, aws.ToString(out.MessageId), aws.ToString(out.SequenceNumber))
		}
		return aws.ToString(out.MessageId)
	}
	first := send("group-a changed (1)", "group-a", "a-1")
	send("group-a changed (2)", "group-a", "a-2")
	if dup := send("group-a changed (1)", "group-a", "a-1"); dup != first {
		t.Errorf("a duplicate deduplication id got message id %s, want the first message's %s", dup, first)
	}

	var bodies []string
	for attempt := 0; attempt < 5 && len(bodies) < 2; attempt++ {
		out, err := q.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{
			QueueUrl: url, MaxNumberOfMessages: 10, WaitTimeSeconds: 1,
			MessageSystemAttributeNames: []sqstypes.MessageSystemAttributeName{sqstypes.MessageSystemAttributeNameMessageGroupId},
		})
		if err != nil {
			t.Fatalf("ReceiveMessage: %v", err)
		}
		for _, m := range out.Messages {
			bodies = append(bodies, aws.ToString(m.Body))
			if g := m.Attributes[string(sqstypes.MessageSystemAttributeNameMessageGroupId)]; g != "group-a" {
				t.Errorf("message %q: MessageGroupId %q, want group-a", aws.ToString(m.Body), g)
			}
			if _, err := q.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: url, ReceiptHandle: m.ReceiptHandle}); err != nil {
				t.Fatalf("DeleteMessage: %v", err)
			}
		}
	}
	if want := []string{"group-a changed (1)", "group-a changed (2)"}; !slices.Equal(bodies, want) {
		t.Fatalf("received %q, want %q (once each, in order)", bodies, want)
	}

	out, err := q.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: url, MaxNumberOfMessages: 10, WaitTimeSeconds: 0})
	if err != nil {
		t.Fatalf("ReceiveMessage after delete: %v", err)
	}
	if len(out.Messages) != 0 {
		t.Fatalf("%d messages left after delete, want 0", len(out.Messages))
	}
}
