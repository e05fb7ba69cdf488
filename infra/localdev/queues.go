package localdev

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/labchain/appointments/infra/samtemplate"
	"github.com/labchain/appointments/infra/sqslocal"
)

// DefaultSQSPort is the SQS emulator's port of `localdev up` (the port
// ElasticMQ and most SQS emulators use).
const DefaultSQSPort = 9324

// queueSpec is an AWS::SQS::Queue of the template, ready for CreateQueue.
type queueSpec struct {
	id         string            // logical id
	name       string            // local queue name: the logical id (+ ".fifo")
	attrs      map[string]string // CreateQueue attributes
	dlq        string            // logical id of its dead-letter queue, if any
	maxReceive int
}

// queueAttributes are the template properties passed to CreateQueue as they
// are (after resolving intrinsics).
var queueAttributes = []string{
	"VisibilityTimeout", "MessageRetentionPeriod", "DelaySeconds", "MaximumMessageSize",
	"ReceiveMessageWaitTimeSeconds", "FifoQueue", "ContentBasedDeduplication",
	"DeduplicationScope", "FifoThroughputLimit",
}

// queueName is the local name of a queue: its logical id, with ".fifo" for a
// FIFO queue (which SQS requires).
func (a *app) queueName(id string) string {
	r := a.tpl.Resources[id]
	if v, _, _ := a.tpl.Resolve(r.Properties["FifoQueue"], a.resolver()); v == "true" {
		return id + ".fifo"
	}
	return id
}

// queueURL is the URL the SQS emulator gives the queue.
func (a *app) queueURL(id string) string {
	ep := a.sqsEndpoint
	if ep == "" {
		ep = "http://127.0.0.1:" + strconv.Itoa(DefaultSQSPort)
	}
	return ep + "/" + sqslocal.AccountID + "/" + a.queueName(id)
}

// queueSpecs returns the template's queues (those whose Condition holds) in
// creation order: every dead-letter queue before the queues that use it.
func (a *app) queueSpecs() ([]queueSpec, error) {
	var specs []queueSpec
	byID := map[string]bool{}
	for _, r := range a.tpl.ResourcesOfType("AWS::SQS::Queue") {
		if !a.conditionHolds(r) {
			continue
		}
		s := queueSpec{id: r.LogicalID, name: a.queueName(r.LogicalID), attrs: map[string]string{}}
		for _, k := range queueAttributes {
			v, ok := r.Properties[k]
			if !ok {
				continue
			}
			val, present, err := a.tpl.Resolve(v, a.resolver())
			if err != nil {
				return nil, fmt.Errorf("localdev: queue %s: %s: %w", r.LogicalID, k, err)
			}
			if present && val != "" {
				s.attrs[k] = val
			}
		}
		if rp, ok := r.Properties["RedrivePolicy"].(map[string]any); ok {
			target := rp["deadLetterTargetArn"]
			arn, _, err := a.tpl.Resolve(target, a.resolver())
			if err != nil {
				return nil, fmt.Errorf("localdev: queue %s: RedrivePolicy: %w", r.LogicalID, err)
			}
			s.dlq = a.queueIDOfARN(arn)
			if s.dlq == "" {
				return nil, fmt.Errorf("localdev: queue %s: RedrivePolicy: dead-letter queue %s is not a queue of the template", r.LogicalID, arn)
			}
			n, _ := number(rp["maxReceiveCount"])
			if txt, ok := rp["maxReceiveCount"].(string); ok {
				n, _ = strconv.Atoi(txt)
			}
			if n < 1 {
				return nil, fmt.Errorf("localdev: queue %s: RedrivePolicy needs maxReceiveCount ≥ 1", r.LogicalID)
			}
			s.maxReceive = n
			policy, _ := json.Marshal(map[string]any{"deadLetterTargetArn": arn, "maxReceiveCount": n})
			s.attrs["RedrivePolicy"] = string(policy)
		}
		specs = append(specs, s)
		byID[s.id] = true
	}
	// Dead-letter queues first (a DLQ may itself have a DLQ).
	var ordered []queueSpec
	done := map[string]bool{}
	for len(ordered) < len(specs) {
		progress := false
		for _, s := range specs {
			if done[s.id] || (s.dlq != "" && !done[s.dlq]) {
				continue
			}
			if s.dlq != "" && !byID[s.dlq] {
				return nil, fmt.Errorf("localdev: queue %s: its dead-letter queue %s is not created (Condition)", s.id, s.dlq)
			}
			ordered = append(ordered, s)
			done[s.id] = true
			progress = true
		}
		if !progress {
			return nil, errors.New("localdev: the queues' RedrivePolicy references form a cycle")
		}
	}
	return ordered, nil
}

// queueIDOfARN returns the logical id of the template queue with this ARN.
func (a *app) queueIDOfARN(arn string) string {
	name := arn[strings.LastIndexByte(arn, ':')+1:]
	for _, r := range a.tpl.ResourcesOfType("AWS::SQS::Queue") {
		if a.queueName(r.LogicalID) == name {
			return r.LogicalID
		}
	}
	return ""
}

// conditionHolds reports whether a resource's Condition (if any) is true
// with the platform's parameters.
func (a *app) conditionHolds(r samtemplate.Resource) bool {
	if r.Condition == "" {
		return true
	}
	v, _, err := a.tpl.Resolve(map[string]any{"Fn::If": []any{r.Condition, "true", "false"}}, a.resolver())
	return err == nil && v == "true"
}

// createQueues creates the queues in order and returns their URLs by logical
// id. A queue that exists already (a running emulator) is kept as it is.
func createQueues(ctx context.Context, c *sqs.Client, specs []queueSpec) (map[string]string, error) {
	urls := map[string]string{}
	for _, s := range specs {
		out, err := c.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(s.name), Attributes: s.attrs})
		if err != nil {
			got, gerr := c.GetQueueUrl(ctx, &sqs.GetQueueUrlInput{QueueName: aws.String(s.name)})
			if gerr != nil {
				return nil, fmt.Errorf("localdev: create queue %s: %w", s.id, err)
			}
			urls[s.id] = aws.ToString(got.QueueUrl)
			continue
		}
		urls[s.id] = aws.ToString(out.QueueUrl)
	}
	return urls, nil
}

// describeQueues is the log line listing the queues.
func describeQueues(specs []queueSpec) []string {
	var out []string
	for _, s := range specs {
		line := s.name
		if s.dlq != "" {
			line += fmt.Sprintf(" (→ %s after %d receives)", s.dlq, s.maxReceive)
		}
		out = append(out, line)
	}
	sort.Strings(out)
	return out
}
