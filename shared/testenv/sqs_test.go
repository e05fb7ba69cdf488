package testenv

import (
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

func TestQueueName(t *testing.T) {
	valid := regexp.MustCompile(`^[a-zA-Z0-9_-]{1,76}$`) // room for "-dlq"
	for _, in := range []string{"TestX/sub case#1", strings.Repeat("TestLong/", 30)} {
		a, b := queueName(in), queueName(in)
		if a == b || !valid.MatchString(a) {
			t.Fatalf("queueName(%q) = %q, %q", in, a, b)
		}
	}
}

func TestNewQueueRedrive(t *testing.T) {
	c := SQS(t)
	url, dlq := NewQueue(t, c, true, 1, WithVisibilityTimeout(time.Second))
	if dlq == "" || url == dlq {
		t.Fatalf("url %q, dlq %q", url, dlq)
	}
	ctx := context.Background()
	if _, err := c.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(url), MessageBody: aws.String("x")}); err != nil {
		t.Fatal(err)
	}
	out, err := c.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(url), WaitTimeSeconds: 2})
	if err != nil || len(out.Messages) != 1 {
		t.Fatalf("receive: %+v, %v", out, err)
	}
	// Not deleted: after the visibility timeout it moves to the DLQ (maxReceive 1).
	out, err = c.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(dlq), WaitTimeSeconds: 5,
		MessageSystemAttributeNames: []types.MessageSystemAttributeName{types.MessageSystemAttributeNameAll}})
	if err != nil || len(out.Messages) != 1 || aws.ToString(out.Messages[0].Body) != "x" {
		t.Fatalf("DLQ receive: %+v, %v", out, err)
	}
	if SQS(t) != c {
		t.Fatal("SQS returned another client")
	}
	plain, none := NewQueue(t, c, false, 0)
	if plain == "" || none != "" {
		t.Fatalf("without DLQ: %q, %q", plain, none)
	}
}
