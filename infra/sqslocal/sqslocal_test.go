package sqslocal

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

func TestNotInstalled(t *testing.T) {
	_, err := Start(context.Background(), Options{Dir: t.TempDir()})
	if !errors.Is(err, ErrNotInstalled) {
		t.Fatalf("err = %v, want ErrNotInstalled", err)
	}
}

// TestJSONProtocol checks every call the platform and the consumers make,
// through aws-sdk-go-v2's JSON protocol.
func TestJSONProtocol(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test: needs the SQS emulator")
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	begin := time.Now()
	s, err := Start(ctx, Options{})
	if errors.Is(err, ErrNotInstalled) {
		t.Fatalf("%v: run `make tools` (or `make test`)", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	defer s.Stop()
	t.Logf("SQS emulator answered on %s after %v", s.Endpoint(), time.Since(begin))
	c := s.Client()

	dlq, err := c.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("jobs-dlq")})
	if err != nil {
		t.Fatal(err)
	}
	attrs, err := c.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: dlq.QueueUrl, AttributeNames: []types.QueueAttributeName{types.QueueAttributeNameQueueArn}})
	if err != nil {
		t.Fatal(err)
	}
	dlqARN := attrs.Attributes["QueueArn"]
	if dlqARN != QueueARN("jobs-dlq") {
		t.Fatalf("QueueArn = %q, want %q", dlqARN, QueueARN("jobs-dlq"))
	}
	q, err := c.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("jobs"), Attributes: map[string]string{
		"VisibilityTimeout": "1",
		"RedrivePolicy":     fmt.Sprintf(`{"deadLetterTargetArn":%q,"maxReceiveCount":2}`, dlqARN),
	}})
	if err != nil {
		t.Fatal(err)
	}
	wantURL := s.Endpoint() + "/" + AccountID + "/jobs"
	if aws.ToString(q.QueueUrl) != wantURL {
		t.Fatalf("queue url = %q, want %q", aws.ToString(q.QueueUrl), wantURL)
	}

	// Long polling: a receive that starts first gets a message sent later.
	got := make(chan *sqs.ReceiveMessageOutput, 1)
	go func() {
		out, err := c.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{
			QueueUrl: q.QueueUrl, WaitTimeSeconds: 5, MaxNumberOfMessages: 10,
			MessageSystemAttributeNames: []types.MessageSystemAttributeName{types.MessageSystemAttributeNameAll},
			MessageAttributeNames:       []string{"All"},
		})
		if err != nil {
			t.Error(err)
		}
		got <- out
	}()
	time.Sleep(300 * time.Millisecond)
	if _, err := c.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: q.QueueUrl, MessageBody: aws.String(`{"n":0}`),
		MessageAttributes: map[string]types.MessageAttributeValue{
			"kind":  {DataType: aws.String("String"), StringValue: aws.String("reminder")},
			"count": {DataType: aws.String("Number"), StringValue: aws.String("3")},
		}}); err != nil {
		t.Fatal(err)
	}
	out := <-got
	if out == nil || len(out.Messages) != 1 {
		t.Fatalf("long poll got %+v", out)
	}
	m := out.Messages[0]
	if aws.ToString(m.Body) != `{"n":0}` || aws.ToString(m.MessageAttributes["kind"].StringValue) != "reminder" ||
		aws.ToString(m.MessageAttributes["count"].DataType) != "Number" || m.Attributes["ApproximateReceiveCount"] != "1" ||
		m.Attributes["SentTimestamp"] == "" || m.Attributes["SenderId"] == "" || m.Attributes["ApproximateFirstReceiveTimestamp"] == "" || aws.ToString(m.MD5OfBody) == "" {
		t.Fatalf("message = %+v", m)
	}
	// ChangeMessageVisibility to 0 makes it visible again at once.
	if _, err := c.ChangeMessageVisibility(ctx, &sqs.ChangeMessageVisibilityInput{QueueUrl: q.QueueUrl, ReceiptHandle: m.ReceiptHandle, VisibilityTimeout: 0}); err != nil {
		t.Fatal(err)
	}
	// Second receive: receive count 2 = maxReceiveCount.
	out, err = c.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: q.QueueUrl, WaitTimeSeconds: 2,
		MessageSystemAttributeNames: []types.MessageSystemAttributeName{types.MessageSystemAttributeNameAll}})
	if err != nil || len(out.Messages) != 1 || out.Messages[0].Attributes["ApproximateReceiveCount"] != "2" {
		t.Fatalf("second receive: %+v, %v", out, err)
	}
	// After the visibility timeout, a third receive moves it to the DLQ.
	time.Sleep(1100 * time.Millisecond)
	out, err = c.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: q.QueueUrl, WaitTimeSeconds: 1})
	if err != nil || len(out.Messages) != 0 {
		t.Fatalf("third receive should find nothing (moved to DLQ): %+v, %v", out, err)
	}
	out, err = c.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: dlq.QueueUrl, WaitTimeSeconds: 2})
	if err != nil || len(out.Messages) != 1 || aws.ToString(out.Messages[0].Body) != `{"n":0}` {
		t.Fatalf("DLQ receive: %+v, %v", out, err)
	}

	// SendMessageBatch, then ReceiveMessage and DeleteMessageBatch.
	var entries []types.SendMessageBatchRequestEntry
	for i := range 10 {
		entries = append(entries, types.SendMessageBatchRequestEntry{Id: aws.String(strconv.Itoa(i)), MessageBody: aws.String(strconv.Itoa(i)),
			MessageAttributes: map[string]types.MessageAttributeValue{"i": {DataType: aws.String("Number"), StringValue: aws.String(strconv.Itoa(i))}}})
	}
	sent, err := c.SendMessageBatch(ctx, &sqs.SendMessageBatchInput{QueueUrl: q.QueueUrl, Entries: entries})
	if err != nil || len(sent.Successful) != 10 || len(sent.Failed) != 0 {
		t.Fatalf("send batch: %+v, %v", sent, err)
	}
	seen := 0
	for seen < 10 {
		out, err := c.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: q.QueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1, MessageAttributeNames: []string{"All"}})
		if err != nil || len(out.Messages) == 0 {
			t.Fatalf("receive batch after %d: %+v, %v", seen, out, err)
		}
		var del []types.DeleteMessageBatchRequestEntry
		for i, m := range out.Messages {
			if aws.ToString(m.MessageAttributes["i"].StringValue) != aws.ToString(m.Body) {
				t.Fatalf("attribute i = %v, body %q", m.MessageAttributes["i"], aws.ToString(m.Body))
			}
			del = append(del, types.DeleteMessageBatchRequestEntry{Id: aws.String(strconv.Itoa(i)), ReceiptHandle: m.ReceiptHandle})
		}
		res, err := c.DeleteMessageBatch(ctx, &sqs.DeleteMessageBatchInput{QueueUrl: q.QueueUrl, Entries: del})
		if err != nil || len(res.Failed) != 0 || len(res.Successful) != len(del) {
			t.Fatalf("delete batch: %+v, %v", res, err)
		}
		seen += len(out.Messages)
	}
	a, err := c.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: q.QueueUrl, AttributeNames: []types.QueueAttributeName{types.QueueAttributeNameAll}})
	if err != nil || a.Attributes["ApproximateNumberOfMessages"] != "0" || a.Attributes["ApproximateNumberOfMessagesNotVisible"] != "0" {
		t.Fatalf("attributes after deleting all: %v, %v", a.Attributes, err)
	}

	pid := s.Pid()
	s.Stop()
	s.Stop()
	if err := syscall.Kill(pid, 0); !errors.Is(err, syscall.ESRCH) {
		t.Fatalf("process %d still there after Stop (kill -0: %v)", pid, err)
	}
}
