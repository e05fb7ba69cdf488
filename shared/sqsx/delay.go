package sqsx

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/labchain/appointments/shared/consumer"
)

var _ consumer.Delayer = (*Delayer)(nil)

// VisibilityAPI is the part of *sqs.Client that Delayer uses.
type VisibilityAPI interface {
	ChangeMessageVisibility(ctx context.Context, in *sqs.ChangeMessageVisibilityInput, optFns ...func(*sqs.Options)) (*sqs.ChangeMessageVisibilityOutput, error)
}

var _ VisibilityAPI = (*sqs.Client)(nil)

// Delayer is the consumer kit's Delayer over SQS for the queue a function
// consumes: it hides a received message with ChangeMessageVisibility on its
// receipt handle, so that after the Lambda reports it as failed it is
// delivered again only when the delay is over. (The function needs
// sqs:ChangeMessageVisibility on the queue: SAM's SQSPollerPolicy.)
type Delayer struct {
	client VisibilityAPI
	url    string
}

// NewDelayer returns a Delayer for the queue at url.
func NewDelayer(client VisibilityAPI, url string) *Delayer {
	return &Delayer{client: client, url: url}
}

// Delay hides r for d, rounded up to whole seconds (SQS's unit) and at most
// consumer.MaxRetryDelay. Rounding up matters for holds: a job held until
// quiet hours end must come back after that instant, not a fraction of a
// second before it, when it would only be held again and burn a delivery.
func (d *Delayer) Delay(ctx context.Context, r events.SQSMessage, delay time.Duration) error {
	delay = min(max(delay, 0), consumer.MaxRetryDelay)
	secs := int32((delay + time.Second - 1) / time.Second)
	_, err := d.client.ChangeMessageVisibility(ctx, &sqs.ChangeMessageVisibilityInput{
		QueueUrl: aws.String(d.url), ReceiptHandle: aws.String(r.ReceiptHandle), VisibilityTimeout: secs,
	})
	if err != nil {
		return fmt.Errorf("sqsx: change visibility: %w", err)
	}
	return nil
}
