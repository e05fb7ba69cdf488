package templatecheck

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/labchain/appointments/infra/samtemplate"
)

// RequiredMaxReceiveCount is how often a consumer queue delivers a message
// before SQS moves it to the queue's DLQ.
const RequiredMaxReceiveCount = 5

// VisibilityFactor: a queue's visibility timeout must be at least this many
// times its consumer's timeout (AWS's advice for SQS event sources), so a
// message is not redelivered while a batch is still being processed.
const VisibilityFactor = 6

// CheckQueues checks every SQS queue, SQS event source mapping and their
// alarms: a source queue has a DLQ with maxReceiveCount 5; a mapping reports
// batch item failures, sets a batch size and a maximum concurrency, and its
// queue's visibility timeout is ≥ 6 × the function timeout; every DLQ has a
// depth > 0 alarm and every queue, DLQs included, an age-of-oldest-message
// alarm (consumer lag; for a DLQ, messages close to expiry), each notifying
// the alarm topic.
func CheckQueues(tpl *samtemplate.Template) []error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	queues := tpl.ResourcesOfType("AWS::SQS::Queue")
	dlqs := map[string]bool{}
	for _, q := range queues {
		rp := samtemplate.Map(q.Properties["RedrivePolicy"])
		if len(rp) == 0 {
			continue
		}
		target := getAtt(rp["deadLetterTargetArn"])
		if target[1] != "Arn" || tpl.Resources[target[0]].Type != "AWS::SQS::Queue" {
			bad("%s: RedrivePolicy.deadLetterTargetArn must be !GetAtt <queue>.Arn, got %v", q.LogicalID, rp["deadLetterTargetArn"])
			continue
		}
		dlqs[target[0]] = true
		if n, _ := num(rp["maxReceiveCount"]); n != RequiredMaxReceiveCount {
			bad("%s: maxReceiveCount %v, want %d", q.LogicalID, rp["maxReceiveCount"], RequiredMaxReceiveCount)
		}
	}
	for _, q := range queues {
		if !dlqs[q.LogicalID] && len(samtemplate.Map(q.Properties["RedrivePolicy"])) == 0 {
			bad("%s: a queue that is no DLQ needs a RedrivePolicy (a DLQ)", q.LogicalID)
		}
	}
	for _, f := range tpl.Functions() {
		timeout, ok := num(f.Properties["Timeout"])
		if !ok {
			timeout = 3 // Lambda's default
		}
		for _, e := range f.Events {
			if e.Type != "SQS" {
				continue
			}
			where := f.LogicalID + "." + e.Name
			q := getAtt(e.Properties["Queue"])
			queue, ok := tpl.Resources[q[0]]
			if q[1] != "Arn" || !ok || queue.Type != "AWS::SQS::Queue" {
				bad("%s: Queue must be !GetAtt <queue>.Arn, got %v", where, e.Properties["Queue"])
				continue
			}
			if dlqs[q[0]] {
				bad("%s: consumes a DLQ (%s); redrive instead", where, q[0])
			}
			if !hasString(e.Properties["FunctionResponseTypes"], "ReportBatchItemFailures") {
				bad("%s: FunctionResponseTypes must include ReportBatchItemFailures", where)
			}
			if n, ok := num(e.Properties["BatchSize"]); !ok || n < 1 || n > 10000 {
				bad("%s: BatchSize must be set (1..10000), got %v", where, e.Properties["BatchSize"])
			}
			mc, ok := num(samtemplate.Map(e.Properties["ScalingConfig"])["MaximumConcurrency"])
			if !ok || mc < 2 || mc > 1000 {
				bad("%s: ScalingConfig.MaximumConcurrency must be set (2..1000)", where)
			}
			if vt, ok := num(queue.Properties["VisibilityTimeout"]); !ok || vt < VisibilityFactor*timeout {
				bad("%s: %s VisibilityTimeout %v < %d × function timeout %d", where, q[0], queue.Properties["VisibilityTimeout"], VisibilityFactor, timeout)
			}
		}
	}
	depth, age := map[string]bool{}, map[string]bool{}
	for _, a := range tpl.ResourcesOfType("AWS::CloudWatch::Alarm") {
		p := a.Properties
		if samtemplate.Str(p["Namespace"]) != "AWS/SQS" {
			continue
		}
		var queue string
		for _, d := range list(p["Dimensions"]) {
			dm := samtemplate.Map(d)
			if samtemplate.Str(dm["Name"]) == "QueueName" {
				if ga := getAtt(dm["Value"]); ga[1] == "QueueName" {
					queue = ga[0]
				}
			}
		}
		if queue == "" {
			bad("%s: SQS alarm without a QueueName dimension (!GetAtt <queue>.QueueName)", a.LogicalID)
			continue
		}
		if !alarmsTopic(tpl, p) {
			bad("%s: AlarmActions must notify the alarm topic", a.LogicalID)
		}
		switch samtemplate.Str(p["MetricName"]) {
		case "ApproximateNumberOfMessagesVisible":
			if th, _ := num(p["Threshold"]); th == 0 && samtemplate.Str(p["ComparisonOperator"]) == "GreaterThanThreshold" {
				depth[queue] = true
			}
		case "ApproximateAgeOfOldestMessage":
			age[queue] = true
		}
	}
	for _, q := range queues {
		if dlqs[q.LogicalID] && !depth[q.LogicalID] {
			bad("%s: DLQ has no depth > 0 alarm", q.LogicalID)
		}
		if !age[q.LogicalID] && dlqs[q.LogicalID] {
			bad("%s: no ApproximateAgeOfOldestMessage alarm (DLQ messages close to expiry)", q.LogicalID)
		} else if !age[q.LogicalID] {
			bad("%s: no ApproximateAgeOfOldestMessage (consumer lag) alarm", q.LogicalID)
		}
	}
	return errs
}

// CheckStreams checks DynamoDB stream event sources: filtered, reporting batch
// item failures, with bounded retries (the outbox sweep picks up the rest).
func CheckStreams(tpl *samtemplate.Template) []error {
	var errs []error
	for _, f := range tpl.Functions() {
		for _, e := range f.Events {
			if e.Type != "DynamoDB" {
				continue
			}
			where := f.LogicalID + "." + e.Name
			if !hasString(e.Properties["FunctionResponseTypes"], "ReportBatchItemFailures") {
				errs = append(errs, fmt.Errorf("%s: FunctionResponseTypes must include ReportBatchItemFailures", where))
			}
			if len(list(samtemplate.Map(e.Properties["FilterCriteria"])["Filters"])) == 0 {
				errs = append(errs, fmt.Errorf("%s: no FilterCriteria (the function would see every table write)", where))
			}
			if n, ok := num(e.Properties["MaximumRetryAttempts"]); !ok || n < 0 {
				errs = append(errs, fmt.Errorf("%s: MaximumRetryAttempts must be bounded", where))
			}
		}
	}
	return errs
}

// CheckPolicies checks that each function is granted only what it uses: a
// DynamoDB policy exactly when TABLE_NAME names a table (read-only for GET
// routes), and an SQS policy for a queue exactly when the function's
// environment or events name that queue.
func CheckPolicies(tpl *samtemplate.Template) []error {
	var errs []error
	for _, f := range tpl.Functions() {
		bad := func(format string, args ...any) {
			errs = append(errs, fmt.Errorf(f.LogicalID+": "+format, args...))
		}
		usedQueues := map[string]bool{}
		for k, v := range f.Env {
			if ref := samtemplate.Str(samtemplate.Map(v)["Ref"]); tpl.Resources[ref].Type == "AWS::SQS::Queue" {
				usedQueues[ref] = true
				if !strings.HasSuffix(k, "_QUEUE_URL") {
					bad("env %s holds a queue URL; name it *_QUEUE_URL", k)
				}
			}
		}
		polledQueues := map[string]bool{}
		for _, e := range f.Events {
			if e.Type == "SQS" {
				polledQueues[getAtt(e.Properties["Queue"])[0]] = true
			}
		}
		tableRef := samtemplate.Str(samtemplate.Map(f.Env["TABLE_NAME"])["Ref"])
		readOnly := false
		if rs := f.Routes(); len(rs) == 1 && rs[0].Method == "GET" {
			readOnly = true
		}
		var dynamoPolicies int
		sent, pollerPolicy := map[string]bool{}, map[string]bool{}
		for _, p := range list(f.Properties["Policies"]) {
			pm := samtemplate.Map(p)
			if len(pm) != 1 {
				bad("policy %v: use one SAM policy template per entry", p)
				continue
			}
			for name, args := range pm {
				am := samtemplate.Map(args)
				switch name {
				case "DynamoDBReadPolicy", "DynamoDBCrudPolicy":
					dynamoPolicies++
					if got := samtemplate.Str(samtemplate.Map(am["TableName"])["Ref"]); got != tableRef || tableRef == "" {
						bad("%s on %q but TABLE_NAME refers to %q", name, got, tableRef)
					}
					if readOnly && name != "DynamoDBReadPolicy" {
						bad("a GET route needs only DynamoDBReadPolicy")
					}
					if !readOnly && len(f.Routes()) == 1 && name != "DynamoDBCrudPolicy" {
						bad("a writing route needs DynamoDBCrudPolicy")
					}
				case "SQSSendMessagePolicy", "SQSPollerPolicy":
					q := getAtt(am["QueueName"])
					if q[1] != "QueueName" {
						bad("%s QueueName must be !GetAtt <queue>.QueueName", name)
						continue
					}
					if name == "SQSSendMessagePolicy" {
						sent[q[0]] = true
						if !usedQueues[q[0]] {
							bad("may send to %s but its environment does not name it", q[0])
						}
					} else if !polledQueues[q[0]] && !usedQueues[q[0]] {
						bad("may poll %s but neither consumes nor names it", q[0])
					} else {
						pollerPolicy[q[0]] = true
					}
				case "Statement":
					// An inline statement only for the patient-message senders,
					// and only with the reviewed send actions.
					if _, sends := f.Env["EMAIL_PROVIDER"]; !sends {
						bad("an inline Statement is reviewed only for the notification senders (EMAIL_PROVIDER)")
					}
					for _, sm := range statements(list(args)) {
						if samtemplate.Str(sm["Effect"]) != "Allow" {
							bad("inline statement: only Allow statements are reviewed")
						}
						acts := list(sm["Action"])
						if len(acts) == 0 {
							bad("inline statement: Action must be a list")
						}
						for _, a := range acts {
							if !senderActions[samtemplate.Str(a)] {
								bad("inline statement: action %v is not a reviewed send action", a)
							}
							if samtemplate.Str(a) == "sns:Publish" {
								if err := checkSNSPublish(sm); err != nil {
									bad("inline statement: %v", err)
								}
							}
						}
					}
				default:
					bad("policy %s is not on the reviewed list; add a rule for it here", name)
				}
			}
		}
		if (tableRef != "") != (dynamoPolicies == 1) {
			bad("TABLE_NAME=%q with %d DynamoDB policies; want exactly one policy iff it uses the table", tableRef, dynamoPolicies)
		}
		for q := range usedQueues {
			// Naming the queue it polls, with SQSPollerPolicy, is for
			// changing its messages' visibility, not for sending.
			if !sent[q] && !(polledQueues[q] && pollerPolicy[q]) {
				bad("names queue %s in its environment but has no SQSSendMessagePolicy for it", q)
			}
		}
	}
	return errs
}

// senderActions are the provider calls the notification senders make:
// SES v2 SendEmail, SNS Publish (see checkSNSPublish) and
// CreatePlatformEndpoint for push devices.
var senderActions = map[string]bool{"ses:SendEmail": true, "sns:Publish": true, "sns:CreatePlatformEndpoint": true}

// statements expands inline policy statements: both branches of a
// statement-level !If (AWS::NoValue dropped).
func statements(sts []any) []map[string]any {
	var out []map[string]any
	for _, st := range sts {
		sm := samtemplate.Map(st)
		if args, ok := sm["Fn::If"].([]any); ok && len(args) == 3 {
			out = append(out, statements(args[1:])...)
			continue
		}
		if samtemplate.Str(sm["Ref"]) == "AWS::NoValue" {
			continue
		}
		out = append(out, sm)
	}
	return out
}

// allSNSARNs is what a Publish statement's NotResource must be: IAM checks a
// Publish to a phone number (SMS) against the number itself, not an ARN, so
// "every resource but an SNS ARN" allows SMS and no topic or endpoint.
var allSNSARNs = map[string]bool{"arn:${AWS::Partition}:sns:*:*:*": true, "arn:aws:sns:*:*:*": true}

// checkSNSPublish allows sns:Publish for direct sends only: either SMS
// (NotResource all SNS ARNs) or push endpoints (every Resource an
// ":endpoint/" ARN). "*" or a topic ARN would let the function publish to any
// topic, such as the alarm topic.
func checkSNSPublish(st map[string]any) error {
	if nr, ok := st["NotResource"]; ok {
		v := nr
		if sub, ok := samtemplate.Map(nr)["Fn::Sub"]; ok {
			v = sub
		}
		if !allSNSARNs[samtemplate.Str(v)] {
			return fmt.Errorf("sns:Publish NotResource %v must be arn:${AWS::Partition}:sns:*:*:* (SMS only)", nr)
		}
		return nil
	}
	res := list(st["Resource"])
	if len(res) == 0 {
		res = []any{st["Resource"]}
	}
	for _, r := range res {
		if !strings.Contains(fmt.Sprint(r), ":endpoint/") {
			return fmt.Errorf("sns:Publish on %v can publish to any topic; allow SMS with NotResource arn:${AWS::Partition}:sns:*:*:* and push with endpoint ARNs", r)
		}
	}
	return nil
}

// alarmsTopic reports whether an alarm's AlarmActions notify an SNS topic of
// the template.
func alarmsTopic(tpl *samtemplate.Template, p map[string]any) bool {
	for _, a := range list(p["AlarmActions"]) {
		if tpl.Resources[samtemplate.Str(samtemplate.Map(a)["Ref"])].Type == "AWS::SNS::Topic" {
			return true
		}
	}
	return false
}

// getAtt returns [resource, attribute] of a !GetAtt, or two empty strings.
func getAtt(v any) [2]string {
	ga, _ := samtemplate.Map(v)["Fn::GetAtt"].([]any)
	if len(ga) != 2 {
		return [2]string{}
	}
	return [2]string{samtemplate.Str(ga[0]), samtemplate.Str(ga[1])}
}

func hasString(v any, want string) bool {
	for _, x := range list(v) {
		if samtemplate.Str(x) == want {
			return true
		}
	}
	return false
}

func num(v any) (int, bool) {
	switch x := v.(type) {
	case int:
		return x, true
	case float64:
		return int(x), true
	case string:
		n, err := strconv.Atoi(x)
		return n, err == nil
	}
	return 0, false
}

func list(v any) []any {
	l, _ := v.([]any)
	return l
}

// CheckDeployments checks that every function publishes an alias and deploys
// through CodeDeploy with rollback alarms that exist in the template.
func CheckDeployments(tpl *samtemplate.Template) []error {
	var errs []error
	for _, f := range tpl.Functions() {
		if samtemplate.Str(f.Properties["AutoPublishAlias"]) == "" {
			errs = append(errs, fmt.Errorf("%s: no AutoPublishAlias (no version to roll back to)", f.LogicalID))
		}
		dp := samtemplate.Map(f.Properties["DeploymentPreference"])
		alarms := list(dp["Alarms"])
		if len(dp) == 0 || len(alarms) == 0 {
			errs = append(errs, fmt.Errorf("%s: DeploymentPreference with rollback Alarms required", f.LogicalID))
		}
		for _, a := range alarms {
			ref := samtemplate.Str(samtemplate.Map(a)["Ref"])
			if tpl.Resources[ref].Type != "AWS::CloudWatch::Alarm" {
				errs = append(errs, fmt.Errorf("%s: rollback alarm %v is not an alarm of this template", f.LogicalID, a))
			}
		}
	}
	return errs
}
