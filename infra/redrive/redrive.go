// Package redrive moves messages from a dead-letter queue back to the queue
// they came from, after the cause of their failure has been fixed. It is what
// `make redrive QUEUE=...` (infra/cmd/redrive) runs; in AWS,
// StartMessageMoveTask does the same for standard queues.
//
// A message is deleted from the dead-letter queue only after the target queue
// accepted it, so a redrive never loses one. If it stops half-way (an error,
// a crash), running it again moves what is left; a message whose delete
// failed after its send is sent again then, which the consumers absorb: they
// deduplicate by business key (shared/consumer).
package redrive

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/labchain/appointments/shared/consumer"
)

// Client is the part of *sqs.Client that Redrive and DeadLetterQueueURL use.
type Client interface {
	ReceiveMessage(ctx context.Context, in *sqs.ReceiveMessageInput, optFns ...func(*sqs.Options)) (*sqs.ReceiveMessageOutput, error)
	SendMessage(ctx context.Context, in *sqs.SendMessageInput, optFns ...func(*sqs.Options)) (*sqs.SendMessageOutput, error)
	DeleteMessage(ctx context.Context, in *sqs.DeleteMessageInput, optFns ...func(*sqs.Options)) (*sqs.DeleteMessageOutput, error)
	ChangeMessageVisibility(ctx context.Context, in *sqs.ChangeMessageVisibilityInput, optFns ...func(*sqs.Options)) (*sqs.ChangeMessageVisibilityOutput, error)
	GetQueueAttributes(ctx context.Context, in *sqs.GetQueueAttributesInput, optFns ...func(*sqs.Options)) (*sqs.GetQueueAttributesOutput, error)
	GetQueueUrl(ctx context.Context, in *sqs.GetQueueUrlInput, optFns ...func(*sqs.Options)) (*sqs.GetQueueUrlOutput, error)
}

var _ Client = (*sqs.Client)(nil)

// visibilityTimeout hides a received message from other readers of the
// dead-letter queue while it is sent and deleted.
const visibilityTimeout = 60

// waitSeconds is the long poll of each receive: with long polling SQS asks
// all its servers, so an empty answer means the queue has no visible message.
const waitSeconds = 1

// Redrive moves up to max messages (max <= 0: as many as the dead-letter
// queue held when it started, so messages that fail again and come back
// during the run are not moved in circles) from dlqURL to targetURL and
// returns how many it moved. It stops early when the dead-letter queue has no
// visible message left.
//
// Each message keeps its body, its message attributes except those the
// consumer kit adds when dead-lettering (consumer.DeadLetterAttributes: the
// failure reason and detail, source queue, original message id and receive
// count) and its AWSTraceHeader; for a FIFO target it keeps its message group
// and uses its message id as deduplication id. It is deleted from the
// dead-letter queue only after the send succeeded. On error, the messages
// received but not moved are made visible again at once, and moved counts
// those moved before the error.
func Redrive(ctx context.Context, client Client, dlqURL, targetURL string, max int) (moved int, err error) {
	if dlqURL == "" || targetURL == "" {
		return 0, errors.New("redrive: both queue URLs are required")
	}
	if dlqURL == targetURL {
		return 0, errors.New("redrive: the dead-letter queue and the target are the same queue")
	}
	limit := max
	if limit <= 0 {
		if limit, err = approximateCount(ctx, client, dlqURL); err != nil {
			return 0, err
		}
	}
	fifo := strings.HasSuffix(targetURL, ".fifo")
	empty := 0
	for moved < limit {
		out, err := client.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{
			QueueUrl:                    aws.String(dlqURL),
			MaxNumberOfMessages:         int32(min(10, limit-moved)),
			WaitTimeSeconds:             waitSeconds,
			VisibilityTimeout:           visibilityTimeout,
			MessageAttributeNames:       []string{"All"},
			MessageSystemAttributeNames: []types.MessageSystemAttributeName{types.MessageSystemAttributeNameAll},
		})
		if err != nil {
			return moved, fmt.Errorf("redrive: receive from %s: %w", dlqURL, err)
		}
		if len(out.Messages) == 0 {
			// One empty long poll can happen with messages left (a busy
			// emulator, a freshly sent message); two in a row end the run.
			if empty++; empty >= 2 {
				return moved, nil
			}
			continue
		}
		empty = 0
		for i, m := range out.Messages {
			if err := move(ctx, client, dlqURL, targetURL, fifo, m); err != nil {
				release(ctx, client, dlqURL, out.Messages[i+1:])
				return moved, err
			}
			moved++
		}
	}
	return moved, nil
}

// move sends one message to the target, then deletes it from the DLQ.
func move(ctx context.Context, client Client, dlqURL, targetURL string, fifo bool, m types.Message) error {
	id := aws.ToString(m.MessageId)
	in := &sqs.SendMessageInput{
		QueueUrl:          aws.String(targetURL),
		MessageBody:       m.Body,
		MessageAttributes: withoutFailureAttributes(m.MessageAttributes),
	}
	if h := m.Attributes[string(types.MessageSystemAttributeNameAWSTraceHeader)]; h != "" {
		in.MessageSystemAttributes = map[string]types.MessageSystemAttributeValue{
			string(types.MessageSystemAttributeNameForSendsAWSTraceHeader): {DataType: aws.String("String"), StringValue: aws.String(h)},
		}
	}
	if fifo {
		in.MessageGroupId = aws.String(m.Attributes[string(types.MessageSystemAttributeNameMessageGroupId)])
		in.MessageDeduplicationId = aws.String(id)
	}
	if _, err := client.SendMessage(ctx, in); err != nil {
		// Still in the DLQ: make it visible again at once.
		release(ctx, client, dlqURL, []types.Message{m})
		return fmt.Errorf("redrive: send message %s to %s: %w", id, targetURL, err)
	}
	if _, err := client.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: aws.String(dlqURL), ReceiptHandle: m.ReceiptHandle}); err != nil {
		return fmt.Errorf("redrive: message %s was sent to %s but not deleted from %s (a re-run sends it again; consumers deduplicate): %w",
			id, targetURL, dlqURL, err)
	}
	return nil
}

// withoutFailureAttributes returns the message attributes minus those the
// consumer kit added when dead-lettering.
func withoutFailureAttributes(in map[string]types.MessageAttributeValue) map[string]types.MessageAttributeValue {
	out := make(map[string]types.MessageAttributeValue, len(in))
	for k, v := range in {
		out[k] = v
	}
	for _, k := range consumer.DeadLetterAttributes {
		delete(out, k)
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// release makes received messages visible again (best effort: otherwise they
// reappear when their visibility timeout ends).
func release(ctx context.Context, client Client, dlqURL string, msgs []types.Message) {
	ctx = context.WithoutCancel(ctx)
	for _, m := range msgs {
		_, _ = client.ChangeMessageVisibility(ctx, &sqs.ChangeMessageVisibilityInput{
			QueueUrl: aws.String(dlqURL), ReceiptHandle: m.ReceiptHandle, VisibilityTimeout: 0,
		})
	}
}

// approximateCount returns the number of visible messages in a queue.
func approximateCount(ctx context.Context, client Client, url string) (int, error) {
	out, err := client.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{
		QueueUrl:       aws.String(url),
		AttributeNames: []types.QueueAttributeName{types.QueueAttributeNameApproximateNumberOfMessages},
	})
	if err != nil {
		return 0, fmt.Errorf("redrive: attributes of %s: %w", url, err)
	}
	n, err := strconv.Atoi(out.Attributes[string(types.QueueAttributeNameApproximateNumberOfMessages)])
	if err != nil {
		return 0, fmt.Errorf("redrive: ApproximateNumberOfMessages of %s: %w", url, err)
	}
	return n, nil
}

// ErrNoDeadLetterQueue is returned by DeadLetterQueueURL for a queue without
// a RedrivePolicy.
var ErrNoDeadLetterQueue = errors.New("redrive: the queue has no dead-letter queue (no RedrivePolicy)")

// DeadLetterQueueURL returns the URL of the dead-letter queue of the queue at
// queueURL: the deadLetterTargetArn of its RedrivePolicy, resolved with
// GetQueueUrl. It returns ErrNoDeadLetterQueue when the queue has none.
func DeadLetterQueueURL(ctx context.Context, client Client, queueURL string) (string, error) {
	out, err := client.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{
		QueueUrl:       aws.String(queueURL),
		AttributeNames: []types.QueueAttributeName{types.QueueAttributeNameRedrivePolicy},
	})
	if err != nil {
		return "", fmt.Errorf("redrive: attributes of %s: %w", queueURL, err)
	}
	raw := out.Attributes[string(types.QueueAttributeNameRedrivePolicy)]
	if raw == "" {
		return "", fmt.Errorf("%w: %s", ErrNoDeadLetterQueue, queueURL)
	}
	var policy struct {
		DeadLetterTargetArn string `json:"deadLetterTargetArn"`
	}
	if err := json.Unmarshal([]byte(raw), &policy); err != nil || policy.DeadLetterTargetArn == "" {
		return "", fmt.Errorf("redrive: RedrivePolicy of %s has no deadLetterTargetArn: %q", queueURL, raw)
	}
	// arn:aws:sqs:<region>:<account>:<name>
	parts := strings.Split(policy.DeadLetterTargetArn, ":")
	if len(parts) != 6 || parts[2] != "sqs" || parts[5] == "" {
		return "", fmt.Errorf("redrive: malformed deadLetterTargetArn %q", policy.DeadLetterTargetArn)
	}
	in := &sqs.GetQueueUrlInput{QueueName: aws.String(parts[5])}
	if parts[4] != "" {
		in.QueueOwnerAWSAccountId = aws.String(parts[4])
	}
	u, err := client.GetQueueUrl(ctx, in)
	if err != nil {
		return "", fmt.Errorf("redrive: URL of dead-letter queue %s: %w", policy.DeadLetterTargetArn, err)
	}
	return aws.ToString(u.QueueUrl), nil
}
