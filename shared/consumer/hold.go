package consumer

import (
	"context"

	"github.com/aws/aws-lambda-go/events"

	"github.com/labchain/appointments/shared/held"
)

// Holder keeps held messages outside the queue (shared/dynamo: records in
// the table) until a release job (sqsx.Releaser) sends them back to the
// queue at their time. Holding and releasing are at least once: a message
// sent back twice is deduplicated by its key like any redelivery, so the
// handler's effect still happens once.
type Holder interface {
	Hold(ctx context.Context, m held.Message) error
}

// stringAttributes returns the message attributes of r that carry a string
// (those the producers and the publisher set: ce-id, ce-type, traceparent).
func stringAttributes(r events.SQSMessage) map[string]string {
	out := map[string]string{}
	for k, v := range r.MessageAttributes {
		if v.StringValue != nil && *v.StringValue != "" {
			out[k] = *v.StringValue
		}
	}
	return out
}
