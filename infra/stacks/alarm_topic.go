package stacks

import (
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssnssubscriptions"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// NewAlarmTopic returns the SNS topic the alarms notify: the existing topic
// existingARN (the platform's own alerting), or a new one that refuses
// plain HTTP, subscribed by email when email is set.
func NewAlarmTopic(scope constructs.Construct, id, existingARN, email string) awssns.ITopic {
	if existingARN != "" {
		return awssns.Topic_FromTopicArn(scope, jsii.String(id), jsii.String(existingARN))
	}
	topic := awssns.NewTopic(scope, jsii.String(id), &awssns.TopicProps{
		DisplayName: jsii.String("xtsync alarms"),
		EnforceSSL:  jsii.Bool(true),
	})
	if email != "" {
		topic.AddSubscription(awssnssubscriptions.NewEmailSubscription(jsii.String(email), nil))
	}
	return topic
}
