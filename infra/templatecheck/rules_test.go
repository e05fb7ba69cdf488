package templatecheck

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/labchain/appointments/infra/samtemplate"
)

// brokenTemplate breaks each rule once; the checks must name every break.
const brokenTemplate = `
Resources:
  Table: {Type: AWS::DynamoDB::Table, Properties: {}}
  Topic: {Type: AWS::SNS::Topic}
  JobsQueue:
    Type: AWS::SQS::Queue
    Properties:
      VisibilityTimeout: 60
      RedrivePolicy: {deadLetterTargetArn: !GetAtt JobsDLQ.Arn, maxReceiveCount: 3}
  JobsDLQ: {Type: AWS::SQS::Queue}
  LonelyQueue: {Type: AWS::SQS::Queue}
  JobsAge:
    Type: AWS::CloudWatch::Alarm
    Properties: {Namespace: AWS/SQS, MetricName: ApproximateAgeOfOldestMessage, Dimensions: [{Name: QueueName, Value: !GetAtt JobsQueue.QueueName}], AlarmActions: [!Ref Topic]}
  WorkerFunction:
    Type: AWS::Serverless::Function
    Properties:
      Timeout: 30
      Environment: {Variables: {TABLE_NAME: !Ref Table, OUT: !Ref LonelyQueue}}
      Policies:
        - DynamoDBReadPolicy: {TableName: !Ref Table}
        - SQSSendMessagePolicy: {QueueName: !GetAtt JobsQueue.QueueName}
        - AdministratorAccess: {}
        - Statement: [{Effect: Allow, Action: [sns:Publish], Resource: "*"}]
      Events:
        Jobs: {Type: SQS, Properties: {Queue: !GetAtt JobsQueue.Arn, BatchSize: 10}}
        Dead: {Type: SQS, Properties: {Queue: !GetAtt JobsDLQ.Arn, BatchSize: 10, FunctionResponseTypes: [ReportBatchItemFailures], ScalingConfig: {MaximumConcurrency: 2}}}
        Stream: {Type: DynamoDB, Properties: {Stream: !GetAtt Table.StreamArn}}
  SenderFunction:
    Type: AWS::Serverless::Function
    Properties:
      Environment: {Variables: {EMAIL_PROVIDER: ses}}
      Policies:
        - Statement:
            - {Effect: Allow, Action: [ses:SendEmail, sns:DeleteTopic], Resource: "*"}
            - {Effect: Deny, Action: [sns:Publish], Resource: "*"}
`

func TestRulesCatchEveryBreak(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "template.yaml")
	if err := os.WriteFile(p, []byte(brokenTemplate), 0o644); err != nil {
		t.Fatal(err)
	}
	tpl, err := samtemplate.Load(p)
	if err != nil {
		t.Fatal(err)
	}
	var all []string
	for _, e := range append(append(append(CheckQueues(tpl), CheckStreams(tpl)...), CheckPolicies(tpl)...), CheckDeployments(tpl)...) {
		all = append(all, e.Error())
	}
	text := strings.Join(all, "\n")
	for _, want := range []string{
		"JobsQueue: maxReceiveCount 3, want 5",
		"LonelyQueue: a queue that is no DLQ needs a RedrivePolicy",
		"WorkerFunction.Jobs: FunctionResponseTypes must include ReportBatchItemFailures",
		"WorkerFunction.Jobs: ScalingConfig.MaximumConcurrency must be set",
		"WorkerFunction.Jobs: JobsQueue VisibilityTimeout 60 < 6 × function timeout 30",
		"WorkerFunction.Dead: consumes a DLQ",
		"JobsDLQ: DLQ has no depth > 0 alarm",
		"LonelyQueue: no ApproximateAgeOfOldestMessage",
		"WorkerFunction.Stream: FunctionResponseTypes must include ReportBatchItemFailures",
		"WorkerFunction.Stream: no FilterCriteria",
		"WorkerFunction.Stream: MaximumRetryAttempts must be bounded",
		"WorkerFunction: env OUT holds a queue URL; name it *_QUEUE_URL",
		"WorkerFunction: may send to JobsQueue but its environment does not name it",
		"WorkerFunction: policy AdministratorAccess is not on the reviewed list",
		"WorkerFunction: names queue LonelyQueue in its environment but has no SQSSendMessagePolicy",
		"WorkerFunction: no AutoPublishAlias",
		"WorkerFunction: DeploymentPreference with rollback Alarms required",
		"WorkerFunction: an inline Statement is reviewed only for the notification senders",
		"SenderFunction: inline statement: action sns:DeleteTopic is not a reviewed send action",
		"SenderFunction: inline statement: only Allow statements are reviewed",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("no error %q; got:\n%s", want, text)
		}
	}
}
