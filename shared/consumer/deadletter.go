package consumer

import (
	"context"
	"sort"
	"strconv"

	"github.com/aws/aws-lambda-go/events"

	"github.com/labchain/appointments/shared/lambdakit"
)

// The message attributes the consumer adds to a dead-lettered message. They
// take precedence over producer attributes of the same names. A redrive
// (infra/redrive) removes all of them before sending the message back.
const (
	// AttrFailureReason is the Reason, such as "invalid".
	AttrFailureReason = "failure-reason"
	// AttrFailureDetail is the error text, at most 1 KiB; never the body.
	AttrFailureDetail = "failure-detail"
	// AttrSourceQueue is the ARN of the queue the message came from.
	AttrSourceQueue = "source-queue"
	// AttrOriginalMessageID is the message's id in the source queue.
	AttrOriginalMessageID = "original-message-id"
	// AttrReceiveCount is how often the source queue had delivered it.
	AttrReceiveCount = "receive-count"
)

// DeadLetterAttributes lists the attributes the consumer adds, in the order
// they are kept when the SQS limit forces a choice.
var DeadLetterAttributes = []string{AttrFailureReason, AttrFailureDetail, AttrSourceQueue, AttrOriginalMessageID, AttrReceiveCount}

// MaxMessageAttributes is SQS's limit of message attributes per message.
const MaxMessageAttributes = 10

// DeadLetter is a message to put in a dead-letter queue.
type DeadLetter struct {
	// Body is the original body, unchanged.
	Body string
	// Attributes are the original message attributes plus the failure
	// attributes, at most MaxMessageAttributes; every value is non-empty.
	Attributes map[string]events.SQSMessageAttribute
	// TraceHeader is the original AWSTraceHeader system attribute, if any.
	TraceHeader string
	// MessageGroupID is the original FIFO message group id; "" for a standard
	// queue. A FIFO queue's dead-letter queue is FIFO too and needs it.
	MessageGroupID string
	// DeduplicationID is the original message id, for a FIFO dead-letter
	// queue, so that sending the same dead letter twice stores it once.
	DeduplicationID string
}

// DeadLetterSender puts a message in the dead-letter queue of the consumer's
// queue (sqsx.DLQ for SQS). An error means the message may not be there: the
// consumer then reports the record as failed, so that SQS delivers it again,
// rather than acknowledge a message that is nowhere.
type DeadLetterSender interface {
	SendDeadLetter(ctx context.Context, dl DeadLetter) error
}

// deadLetter sends r to the dead-letter queue because of the permanent error
// err and returns the record's outcome: dead-lettered, or retry if the send
// failed.
func (c *Consumer[T]) deadLetter(ctx context.Context, r events.SQSMessage, key string, err error) result {
	reason := reasonOf(err)
	detail := truncate(err.Error(), maxDetail)
	if detail == "" {
		detail = string(reason) // SQS refuses empty attribute values
	}
	ours := map[string]events.SQSMessageAttribute{
		AttrFailureReason: stringAttr(string(reason)),
		AttrFailureDetail: stringAttr(detail),
	}
	if r.EventSourceARN != "" {
		ours[AttrSourceQueue] = stringAttr(r.EventSourceARN)
	}
	if r.MessageId != "" {
		ours[AttrOriginalMessageID] = stringAttr(r.MessageId)
	}
	if n := metaOf(r).ReceiveCount; n > 0 {
		s := strconv.Itoa(n)
		ours[AttrReceiveCount] = events.SQSMessageAttribute{DataType: "Number", StringValue: &s}
	}
	attrs, dropped := mergeAttributes(ours, r.MessageAttributes)
	if len(dropped) > 0 {
		lambdakit.Logger(ctx).WarnContext(ctx, "consumer: dead letter exceeds the SQS attribute limit; producer attributes dropped",
			"consumer", c.opts.Name, "messageId", r.MessageId, "dropped", dropped)
	}
	dl := DeadLetter{
		Body:           r.Body,
		Attributes:     attrs,
		TraceHeader:    r.Attributes["AWSTraceHeader"],
		MessageGroupID: r.Attributes["MessageGroupId"],
	}
	if dl.MessageGroupID != "" {
		dl.DeduplicationID = r.MessageId
	}
	if serr := c.opts.DeadLetters.SendDeadLetter(ctx, dl); serr != nil {
		return result{outcome: OutcomeRetry, key: key,
			detail: "dead-letter send failed (" + serr.Error() + ") for " + string(reason) + ": " + detail}
	}
	return result{outcome: OutcomeDeadLettered, reason: reason, detail: detail, key: key}
}

// traceAttributes are the producer attributes kept first when some must be
// dropped: they join the dead letter to its trace.
var traceAttributes = []string{"traceparent", "tracestate", "baggage"}

// mergeAttributes returns ours plus as many of the producer's attributes as
// fit in MaxMessageAttributes (ours win a name clash; trace context first,
// then by name), and the names of the producer attributes dropped. Producer
// attributes without a value are dropped too, since SQS would refuse them.
func mergeAttributes(ours, theirs map[string]events.SQSMessageAttribute) (map[string]events.SQSMessageAttribute, []string) {
	out := make(map[string]events.SQSMessageAttribute, MaxMessageAttributes)
	for k, v := range ours {
		out[k] = v
	}
	names := make([]string, 0, len(theirs))
	for k := range theirs {
		if _, clash := ours[k]; !clash {
			names = append(names, k)
		}
	}
	rank := func(name string) int {
		for i, t := range traceAttributes {
			if name == t {
				return i
			}
		}
		return len(traceAttributes)
	}
	sort.Slice(names, func(i, j int) bool {
		if ri, rj := rank(names[i]), rank(names[j]); ri != rj {
			return ri < rj
		}
		return names[i] < names[j]
	})
	var dropped []string
	for _, k := range names {
		v := theirs[k]
		if len(out) >= MaxMessageAttributes || !hasValue(v) {
			dropped = append(dropped, k)
			continue
		}
		out[k] = v
	}
	return out, dropped
}

func hasValue(a events.SQSMessageAttribute) bool {
	return a.DataType != "" && ((a.StringValue != nil && *a.StringValue != "") || len(a.BinaryValue) > 0)
}

func stringAttr(s string) events.SQSMessageAttribute {
	return events.SQSMessageAttribute{DataType: "String", StringValue: &s}
}
