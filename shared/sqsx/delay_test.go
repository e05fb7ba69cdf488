package sqsx

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/labchain/appointments/shared/testenv"
)

// TestDelayerHidesTheMessage: on the real SQS emulator, a received message
// delayed by 3 s is not received again at once, then is.
func TestDelayerHidesTheMessage(t *testing.T) {
	c := testenv.SQS(t)
	url, _ := testenv.NewQueue(t, c, false, 0)
	ctx := context.Background()
	if _, err := c.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: &url, MessageBody: aws.String("held")}); err != nil {
		t.Fatal(err)
	}
	receive := func(wait int32) []types.Message {
		out, err := c.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: &url, MaxNumberOfMessages: 1, WaitTimeSeconds: wait, VisibilityTimeout: 1})
		if err != nil {
			t.Fatal(err)
		}
		return out.Messages
	}
	msgs := receive(1)
	if len(msgs) != 1 {
		t.Fatal("message not received")
	}
	d := NewDelayer(c, url)
	rec := events.SQSMessage{MessageId: aws.ToString(msgs[0].MessageId), ReceiptHandle: aws.ToString(msgs[0].ReceiptHandle)}
	if err := d.Delay(ctx, rec, 3*time.Second); err != nil {
		t.Fatal(err)
	}
	// Without the delay it would be back after its 1 s visibility timeout.
	time.Sleep(1500 * time.Millisecond)
	if got := receive(0); len(got) != 0 {
		t.Fatal("the delayed message came back before its delay")
	}
	if got := receive(5); len(got) != 1 || aws.ToString(got[0].Body) != "held" {
		t.Fatalf("the delayed message did not come back: %v", got)
	}
	if err := d.Delay(ctx, events.SQSMessage{ReceiptHandle: "not-a-receipt-handle"}, time.Second); err == nil {
		t.Error("a bad receipt handle was accepted")
	}
}
