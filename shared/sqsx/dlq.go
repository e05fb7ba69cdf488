// Package sqsx holds the project's SQS adapters: DLQ, the consumer kit's
// DeadLetterSender, and BatchSender, which sends many messages with
// SendMessageBatch and retries only the entries that failed. Build them once
// per cold start from a *sqs.Client (sqs.NewFromConfig(awssdk.MustLoad(rt))) and share
// them; they are safe for concurrent use.
package sqsx

import (
	"context"
	"fmt"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/labchain/appointments/shared/consumer"
)

var _ consumer.DeadLetterSender = (*DLQ)(nil)

// SendMessageAPI is the part of *sqs.Client that DLQ uses.
type SendMessageAPI interface {
	SendMessage(ctx context.Context, in *sqs.SendMessageInput, optFns ...func(*sqs.Options)) (*sqs.SendMessageOutput, error)
}

// DLQ sends a consumer's permanently failed messages to its queue's
// dead-letter queue.
type DLQ struct {
	client SendMessageAPI
	url    string
}

// NewDLQ returns a DeadLetterSender for the dead-letter queue at url (the
// queue's RedrivePolicy target, passed to the function in its configuration).
func NewDLQ(client SendMessageAPI, url string) *DLQ {
	return &DLQ{client: client, url: url}
}

// SendDeadLetter sends dl with SendMessage: the original body, the message
// attributes given (original plus failure attributes), the AWSTraceHeader
// system attribute if any, and for a FIFO queue the message group and
// deduplication ids. The SDK retries transient errors; an error returned
// means the message may not be in the queue.
func (d *DLQ) SendDeadLetter(ctx context.Context, dl consumer.DeadLetter) error {
	in := &sqs.SendMessageInput{
		QueueUrl:          aws.String(d.url),
		MessageBody:       aws.String(dl.Body),
		MessageAttributes: MessageAttributes(dl.Attributes),
	}
	if dl.TraceHeader != "" {
		in.MessageSystemAttributes = map[string]types.MessageSystemAttributeValue{
			string(types.MessageSystemAttributeNameForSendsAWSTraceHeader): {DataType: aws.String("String"), StringValue: aws.String(dl.TraceHeader)},
		}
	}
	if dl.MessageGroupID != "" {
		in.MessageGroupId = aws.String(dl.MessageGroupID)
		if dl.DeduplicationID != "" {
			in.MessageDeduplicationId = aws.String(dl.DeduplicationID)
		}
	}
	if _, err := d.client.SendMessage(ctx, in); err != nil {
		return fmt.Errorf("sqsx: send dead letter: %w", err)
	}
	return nil
}

// MessageAttributes converts the message attributes of a Lambda SQS event
// record to those of a send request. List values, which SQS does not
// support, are dropped.
func MessageAttributes(in map[string]events.SQSMessageAttribute) map[string]types.MessageAttributeValue {
	if len(in) == 0 {
		return nil
	}
	out := make(map[string]types.MessageAttributeValue, len(in))
	for k, v := range in {
		a := types.MessageAttributeValue{DataType: aws.String(v.DataType), StringValue: v.StringValue}
		if len(v.BinaryValue) > 0 {
			a.BinaryValue = v.BinaryValue
		}
		out[k] = a
	}
	return out
}
