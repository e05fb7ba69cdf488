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
            - {Effect: Allow, Action: [sns:Publish], NotResource: "arn:aws:sns:*:*:alarms"}
            - !If [C, {Effect: Allow, Action: [sns:Publish], Resource: !Ref Topic}, !Ref AWS::NoValue]
  AppClient:
    Type: AWS::Cognito::UserPoolClient
    Properties: {UserPoolId: x, WriteAttributes: [email, custom:branch_ids]}
  DefaultClient:
    Type: AWS::Cognito::UserPoolClient
    Properties: {UserPoolId: x}
  AvailabilityFunction:
    Type: AWS::Serverless::Function
    Properties:
      Events: {Http: {Type: HttpApi, Properties: {Method: GET, Path: /v1/availability}}}
  NoFunctionNameAlarm:
    Type: AWS::CloudWatch::Alarm
    Properties:
      Namespace: LabAppointments
      MetricName: BookingOutcome
      Dimensions: [{Name: Operation, Value: book}, {Name: Outcome, Value: error}]
  UnknownMetricAlarm:
    Type: AWS::CloudWatch::Alarm
    Properties:
      AlarmDescription: 'Booked. See docs/runbook.md "No such section".'
      Namespace: LabAppointments
      MetricName: AppointmentsBooked
      Dimensions: [{Name: FunctionName, Value: !Ref WorkerFunction}]
      TreatMissingData: notBreaching
      AlarmActions: [!Ref Table]
  JobErrorsAlarm:
    Type: AWS::CloudWatch::Alarm
    Properties:
      AlarmDescription: 'Job failed. See docs/runbook.md "Known section" and docs/metrics.md "Nothing".'
      Namespace: AWS/Lambda
      MetricName: Errors
      Dimensions: [{Name: FunctionName, Value: !Ref Topic}]
      TreatMissingData: notBreaching
      AlarmActions: [!Ref Topic]
  MathAlarm:
    Type: AWS::CloudWatch::Alarm
    Properties:
      AlarmDescription: 'See docs/runbook.md "Known section".'
      TreatMissingData: breaching
      AlarmActions: [!Ref Topic]
      Metrics:
        - Id: done
          MetricStat:
            Metric:
              Namespace: LabAppointments
              MetricName: MessagesProcessed
              Dimensions: [{Name: FunctionName, Value: WorkerFunction}, {Name: Consumer, Value: jobs}, {Name: Outcome, Value: done}]
            Period: 60
            Stat: Sum
        - Id: slow
          MetricStat:
            Metric:
              Namespace: LabAppointments
              MetricName: ApiLatency
              Dimensions: [{Name: FunctionName, Value: !Ref AvailabilityFunction}, {Name: Route, Value: BookAppointment}, {Name: StatusClass, Value: 2xx}]
            Period: 300
            Stat: p99
        - {Id: both, Expression: done + slwo}
        - {Id: found, ReturnData: false, Expression: "SEARCH('{LabAppointments} done', 'Sum', 60)"}
  BadJsonDashboard:
    Type: AWS::CloudWatch::Dashboard
    Properties:
      DashboardBody: !Sub '{"widgets": [${Topic}]}'
  Dashboard:
    Type: AWS::CloudWatch::Dashboard
    Properties:
      DashboardBody: !Sub |
        {"widgets": [
          {"type": "alarm", "properties": {"title": "Alarms", "alarms": ["${JobsAge.Arn}", "${Topic.Arn}", "arn:aws:cloudwatch:${AWS::Region}:${AWS::AccountId}:alarm:MathAlarm"]}},
          {"type": "metric", "properties": {"title": "Graphs (%)", "region": "${AWS::Region}", "metrics": [
            ["LabAppointments", "BookingOutcome", "FunctionName", "${WorkerFunction}", "Operation", "book"],
            [".", "ApiLatency", "FunctionName", "${AvailabilityFunction}"],
            ["LabAppointments", "NotificationOutcome", "FunctionName", "WorkerFunction", "Channel", "fax", "Outcome", "sent"],
            [{"expression": "SUM(METRICS())", "id": "e1"}]
          ]}},
          {"type": "text", "properties": {"markdown": "${NoSuchThing}"}}
        ]}
`

// brokenRunbook is the runbook the broken template's alarms point at.
const brokenRunbook = "# Runbook\n\n```sh\n# Not a section\n```\n\n## Known section\n"

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
	errs := append(append(append(CheckQueues(tpl), CheckStreams(tpl)...), CheckPolicies(tpl)...), CheckDeployments(tpl)...)
	errs = append(errs, CheckUserPoolClients(tpl)...)
	errs = append(errs, CheckAlarms(tpl, routeNames())...)
	errs = append(errs, CheckDashboards(tpl, routeNames())...)
	errs = append(errs, CheckDocRefs(tpl, map[string]string{"docs/runbook.md": brokenRunbook, "docs/metrics.md": "# Metrics\n"})...)
	for _, e := range errs {
		all = append(all, e.Error())
	}
	text := strings.Join(all, "\n")
	// Alarms that break nothing are not reported.
	for _, fine := range []string{"JobsAge: AlarmActions", "JobsAge: metric", "MathAlarm: AlarmActions", `runbook.md has no section "Not a section"`, "JobsAge: not on the alarm widget"} {
		if strings.Contains(text, fine) {
			t.Errorf("reported %q; got:\n%s", fine, text)
		}
	}
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
		"JobsDLQ: no ApproximateAgeOfOldestMessage",
		"WorkerFunction: inline statement: sns:Publish on * can publish to any topic",
		"SenderFunction: inline statement: sns:Publish NotResource arn:aws:sns:*:*:alarms must be",
		"SenderFunction: inline statement: sns:Publish on map[Ref:Topic] can publish to any topic",
		// CheckUserPoolClients
		"AppClient: users may write custom:branch_ids",
		"DefaultClient: no WriteAttributes",
		// CheckAlarms
		"NoFunctionNameAlarm: metric BookingOutcome: dimensions [Operation Outcome], want [FunctionName Operation Outcome]",
		"NoFunctionNameAlarm: no AlarmDescription",
		"NoFunctionNameAlarm: TreatMissingData must be set",
		"NoFunctionNameAlarm: AlarmActions must notify the alarm topic",
		"UnknownMetricAlarm: AlarmActions must notify the alarm topic", // !Ref Table is no SNS topic
		"UnknownMetricAlarm: metric AppointmentsBooked: not in the shared/metrics catalog",
		"JobErrorsAlarm: metric Errors: FunctionName must be !Ref <function>",
		`MathAlarm (done): metric MessagesProcessed: Outcome="done" is not one of`,
		`MathAlarm (done): metric MessagesProcessed: FunctionName must be !Ref <function> (the name lambdakit and Lambda report), got "WorkerFunction"`,
		`MathAlarm (slow): metric ApiLatency: Route "BookAppointment" is not the route of AvailabilityFunction ([GetAvailability])`,
		"MathAlarm: 3 metrics or expressions return data, want exactly 1",
		"MathAlarm: metrics with different periods ([300 60])",
		`MathAlarm: expression "done + slwo" uses slwo, which is no Id of the alarm`,
		"MathAlarm: expression \"SEARCH('{LabAppointments} done', 'Sum', 60)\": SEARCH cannot be used in an alarm",
		// CheckDashboards
		"BadJsonDashboard: DashboardBody is not JSON after !Sub",
		"Dashboard: !Sub names ${NoSuchThing}, which is no parameter, resource or pseudo parameter",
		`Dashboard widget 1 ("Alarms"): alarm entry getatt:Topic.Arn must be ${<alarm of this template>.Arn}`,
		`Dashboard widget 1 ("Alarms"): alarm entry arn:aws:cloudwatch:ap-southeast-1:000000000000:alarm:MathAlarm must be`,
		`Dashboard widget 2 ("Graphs (%)") metric 1: metric BookingOutcome: dimensions [FunctionName Operation], want [FunctionName Operation Outcome]`,
		`Dashboard widget 2 ("Graphs (%)") metric 2: [. ApiLatency FunctionName ref:AvailabilityFunction]: write the metric in full (no "." shorthand)`,
		`Dashboard widget 2 ("Graphs (%)") metric 3: metric NotificationOutcome: Channel="fax" is not one of [sms email push]`,
		`Dashboard widget 2 ("Graphs (%)") metric 3: metric NotificationOutcome: FunctionName must be !Ref <function>`,
		"MathAlarm: not on the alarm widget of any dashboard",
		// CheckDocRefs
		`UnknownMetricAlarm: docs/runbook.md has no section "No such section"`,
		`JobErrorsAlarm: docs/metrics.md has no section "Nothing"`,
		"NoFunctionNameAlarm: AlarmDescription names no docs/runbook.md section",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("no error %q; got:\n%s", want, text)
		}
	}
}
