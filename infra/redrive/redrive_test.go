package redrive

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sort"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/labchain/appointments/shared/apperr"
	"github.com/labchain/appointments/shared/consumer"
	"github.com/labchain/appointments/shared/dynamo"
	"github.com/labchain/appointments/shared/sqsx"
	"github.com/labchain/appointments/shared/testenv"
)

func TestMain(m *testing.M) { os.Exit(testenv.Main(m)) }

// event is a message type like a real consumer's.
type event struct {
	ID     string `json:"id"`
	Action string `json:"action"`
}

func (e event) DedupeKey() string { return e.ID }
func (e event) Validate() error {
	if e.Action == "invalid" {
		return errors.New("action is not allowed")
	}
	return nil
}

func queueARN(t *testing.T, c *sqs.Client, url string) string {
	t.Helper()
	out, err := c.GetQueueAttributes(context.Background(), &sqs.GetQueueAttributesInput{
		QueueUrl: aws.String(url), AttributeNames: []types.QueueAttributeName{types.QueueAttributeNameQueueArn}})
	if err != nil {
		t.Fatal(err)
	}
	return out.Attributes[string(types.QueueAttributeNameQueueArn)]
}

// toEvent builds the Lambda event of received messages, as the event source
// mapping does.
func toEvent(arn string, msgs []types.Message) events.SQSEvent {
	var ev events.SQSEvent
	for _, m := range msgs {
		r := events.SQSMessage{
			MessageId: aws.ToString(m.MessageId), ReceiptHandle: aws.ToString(m.ReceiptHandle), Body: aws.ToString(m.Body),
			Md5OfBody: aws.ToString(m.MD5OfBody), Attributes: m.Attributes, EventSource: "aws:sqs", EventSourceARN: arn,
			AWSRegion: "ap-southeast-1", MessageAttributes: map[string]events.SQSMessageAttribute{},
		}
		for k, v := range m.MessageAttributes {
			r.MessageAttributes[k] = events.SQSMessageAttribute{DataType: aws.ToString(v.DataType), StringValue: v.StringValue, BinaryValue: v.BinaryValue}
		}
		ev.Records = append(ev.Records, r)
	}
	return ev
}

// pump receives one batch from url and hands it to h as Lambda's event
// source mapping would: acknowledged records are deleted, failed ones stay
// (and come back after the visibility timeout). It returns the batch size.
func pump(t *testing.T, c *sqs.Client, url string, h func(context.Context, events.SQSEvent) (events.SQSEventResponse, error)) int {
	t.Helper()
	ctx := context.Background()
	out, err := c.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{
		QueueUrl: aws.String(url), MaxNumberOfMessages: 10, WaitTimeSeconds: 1,
		MessageAttributeNames:       []string{"All"},
		MessageSystemAttributeNames: []types.MessageSystemAttributeName{types.MessageSystemAttributeNameAll},
	})
	if err != nil {
		t.Fatalf("receive: %v", err)
	}
	if len(out.Messages) == 0 {
		return 0
	}
	resp, err := h(ctx, toEvent(queueARN(t, c, url), out.Messages))
	failed := map[string]bool{}
	for _, f := range resp.BatchItemFailures {
		failed[f.ItemIdentifier] = true
	}
	for _, m := range out.Messages {
		if err != nil || failed[aws.ToString(m.MessageId)] {
			continue
		}
		if _, err := c.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: aws.String(url), ReceiptHandle: m.ReceiptHandle}); err != nil {
			t.Fatalf("delete: %v", err)
		}
	}
	return len(out.Messages)
}

// receiveAll receives and deletes every visible message of url.
func receiveAll(t *testing.T, c *sqs.Client, url string) []types.Message {
	t.Helper()
	var all []types.Message
	for {
		out, err := c.ReceiveMessage(context.Background(), &sqs.ReceiveMessageInput{
			QueueUrl: aws.String(url), MaxNumberOfMessages: 10, WaitTimeSeconds: 1,
			MessageAttributeNames:       []string{"All"},
			MessageSystemAttributeNames: []types.MessageSystemAttributeName{types.MessageSystemAttributeNameAll},
		})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.Messages) == 0 {
			return all
		}
		for _, m := range out.Messages {
			if _, err := c.DeleteMessage(context.Background(), &sqs.DeleteMessageInput{QueueUrl: aws.String(url), ReceiptHandle: m.ReceiptHandle}); err != nil {
				t.Fatal(err)
			}
		}
		all = append(all, out.Messages...)
	}
}

func count(t *testing.T, c *sqs.Client, url string) int {
	t.Helper()
	n, err := approximateCount(context.Background(), c, url)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// waitCount waits until the queue's approximate count is n: the emulator,
// like SQS, counts sent messages with a lag.
func waitCount(t *testing.T, c *sqs.Client, url string, n int) {
	t.Helper()
	got := 0
	for end := time.Now().Add(10 * time.Second); time.Now().Before(end); time.Sleep(50 * time.Millisecond) {
		if got = count(t, c, url); got == n {
			return
		}
	}
	t.Fatalf("queue count %d, want %d", got, n)
}

func send(t *testing.T, c *sqs.Client, url string, n int, action string) {
	t.Helper()
	var es []sqsx.Entry
	for i := range n {
		id := fmt.Sprintf("ev%02d", i)
		es = append(es, sqsx.Entry{ID: id, Body: fmt.Sprintf(`{"id":%q,"action":%q}`, id, action),
			Attributes: map[string]string{"ce-type": "appointment.booked", "traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"}})
	}
	failed, err := sqsx.NewBatchSender(c).SendAll(context.Background(), url, es)
	if err != nil || len(failed) > 0 {
		t.Fatalf("send: %v %v", failed, err)
	}
}

func TestDeadLetteredMessageIsRedrivenWithoutFailureAttributes(t *testing.T) {
	c := testenv.SQS(t)
	db, table := testenv.Table(t)
	url, dlqURL := testenv.NewQueue(t, c, true, 5)
	got, err := DeadLetterQueueURL(context.Background(), c, url)
	if err != nil || got != dlqURL {
		t.Fatalf("DeadLetterQueueURL = %q, %v; want %q", got, err, dlqURL)
	}

	// The consumer dead-letters a message its version cannot handle.
	var fixed atomic.Bool
	var effects sync.Map
	h := func(_ context.Context, e event, _ consumer.Meta) error {
		if !fixed.Load() {
			return apperr.MarkPermanent(errors.New("appointment type not supported yet"))
		}
		n, _ := effects.LoadOrStore(e.ID, new(atomic.Int32))
		n.(*atomic.Int32).Add(1)
		return nil
	}
	cons := consumer.New(consumer.Options{Name: "redrive-test", Store: dynamo.New(db, table), DeadLetters: sqsx.NewDLQ(c, dlqURL)}, h)
	send(t, c, url, 1, "")
	if n := pump(t, c, url, cons.Handle); n != 1 {
		t.Fatalf("pumped %d messages, want 1", n)
	}
	if n := count(t, c, url); n != 0 {
		t.Fatalf("source queue holds %d messages, want 0 (dead-lettered and acknowledged)", n)
	}

	// In the DLQ with the failure attributes.
	peek, err := c.ReceiveMessage(context.Background(), &sqs.ReceiveMessageInput{QueueUrl: aws.String(dlqURL), WaitTimeSeconds: 1,
		MessageAttributeNames: []string{"All"}, VisibilityTimeout: 0})
	if err != nil || len(peek.Messages) != 1 {
		t.Fatalf("DLQ receive: %v, %d messages", err, len(peek.Messages))
	}
	a := peek.Messages[0].MessageAttributes
	if aws.ToString(a[consumer.AttrFailureReason].StringValue) != "permanent" ||
		aws.ToString(a[consumer.AttrFailureDetail].StringValue) != "appointment type not supported yet" ||
		aws.ToString(a[consumer.AttrSourceQueue].StringValue) != queueARN(t, c, url) ||
		aws.ToString(a[consumer.AttrOriginalMessageID].StringValue) == "" || aws.ToString(a["ce-type"].StringValue) == "" {
		t.Fatalf("dead letter attributes = %v", a)
	}
	// Make it visible again for the redrive.
	if _, err := c.ChangeMessageVisibility(context.Background(), &sqs.ChangeMessageVisibilityInput{
		QueueUrl: aws.String(dlqURL), ReceiptHandle: peek.Messages[0].ReceiptHandle, VisibilityTimeout: 0}); err != nil {
		t.Fatal(err)
	}

	// Fix deployed; redrive.
	fixed.Store(true)
	moved, err := Redrive(context.Background(), c, dlqURL, url, 0)
	if err != nil || moved != 1 {
		t.Fatalf("Redrive = %d, %v", moved, err)
	}
	if n := count(t, c, dlqURL); n != 0 {
		t.Errorf("DLQ holds %d messages after the redrive", n)
	}
	back := receiveAll(t, c, url)
	if len(back) != 1 {
		t.Fatalf("source queue got %d messages, want 1", len(back))
	}
	m := back[0]
	if aws.ToString(m.Body) != `{"id":"ev00","action":""}` {
		t.Errorf("body = %s", aws.ToString(m.Body))
	}
	for _, k := range consumer.DeadLetterAttributes {
		if _, ok := m.MessageAttributes[k]; ok {
			t.Errorf("redriven message still has %s", k)
		}
	}
	if aws.ToString(m.MessageAttributes["ce-type"].StringValue) != "appointment.booked" || m.MessageAttributes["traceparent"].StringValue == nil {
		t.Errorf("producer attributes lost: %v", m.MessageAttributes)
	}

	// Re-running the redrive is harmless.
	if moved, err := Redrive(context.Background(), c, dlqURL, url, 0); err != nil || moved != 0 {
		t.Errorf("second Redrive = %d, %v", moved, err)
	}
}

func TestTransientFailuresReachTheDLQAndComeBack(t *testing.T) {
	// End to end: a consumer whose dependency is down fails transiently; SQS
	// moves the messages to the DLQ after maxReceiveCount; once the
	// dependency is back, a redrive brings them back and each is processed
	// once. No message is lost on the way.
	c := testenv.SQS(t)
	db, table := testenv.Table(t)
	url, dlqURL := testenv.NewQueue(t, c, true, 2, testenv.WithVisibilityTimeout(time.Second))
	var up atomic.Bool
	var mu sync.Mutex
	effects := map[string]int{}
	cons := consumer.New(consumer.Options{Name: "e2e", Store: dynamo.New(db, table), DeadLetters: sqsx.NewDLQ(c, dlqURL), Concurrency: 3},
		func(_ context.Context, e event, _ consumer.Meta) error {
			if !up.Load() {
				return errors.New("notification provider unavailable")
			}
			mu.Lock()
			effects[e.ID]++
			mu.Unlock()
			return nil
		})
	const n = 12
	send(t, c, url, n, "")
	deadline := time.Now().Add(30 * time.Second)
	for count(t, c, dlqURL) < n {
		if time.Now().After(deadline) {
			t.Fatalf("DLQ holds %d of %d messages after 30 s", count(t, c, dlqURL), n)
		}
		pump(t, c, url, cons.Handle)
	}

	up.Store(true)
	moved, err := Redrive(context.Background(), c, dlqURL, url, 0)
	if err != nil || moved != n {
		t.Fatalf("Redrive = %d, %v", moved, err)
	}
	for pump(t, c, url, cons.Handle) > 0 {
	}
	if count(t, c, url) != 0 || count(t, c, dlqURL) != 0 {
		t.Errorf("left: %d in the queue, %d in the DLQ", count(t, c, url), count(t, c, dlqURL))
	}
	mu.Lock()
	defer mu.Unlock()
	if len(effects) != n {
		t.Errorf("%d messages processed, want %d", len(effects), n)
	}
	for id, k := range effects {
		if k != 1 {
			t.Errorf("%s processed %d times", id, k)
		}
	}
}

func TestRedriveMax(t *testing.T) {
	c := testenv.SQS(t)
	url, _ := testenv.NewQueue(t, c, false, 0)
	dlq, _ := testenv.NewQueue(t, c, false, 0)
	send(t, c, dlq, 25, "")
	if moved, err := Redrive(context.Background(), c, dlq, url, 10); err != nil || moved != 10 {
		t.Fatalf("Redrive(max 10) = %d, %v", moved, err)
	}
	if moved, err := Redrive(context.Background(), c, dlq, url, 0); err != nil || moved != 15 {
		t.Fatalf("Redrive(all) = %d, %v", moved, err)
	}
	var ids []string
	for _, m := range receiveAll(t, c, url) {
		ids = append(ids, aws.ToString(m.Body))
	}
	sort.Strings(ids)
	if len(ids) != 25 || ids[0] == ids[1] {
		t.Errorf("target got %d messages", len(ids))
	}
}

// faulty wraps the real client and fails chosen calls.
type faulty struct {
	*sqs.Client
	sends, deletes       atomic.Int32
	failSend, failDelete int32 // 1-based call numbers to fail; 0 = never
}

func (f *faulty) SendMessage(ctx context.Context, in *sqs.SendMessageInput, o ...func(*sqs.Options)) (*sqs.SendMessageOutput, error) {
	if f.sends.Add(1) == f.failSend {
		return nil, errors.New("injected send failure")
	}
	return f.Client.SendMessage(ctx, in, o...)
}

func (f *faulty) DeleteMessage(ctx context.Context, in *sqs.DeleteMessageInput, o ...func(*sqs.Options)) (*sqs.DeleteMessageOutput, error) {
	if f.deletes.Add(1) == f.failDelete {
		return nil, errors.New("injected delete failure")
	}
	return f.Client.DeleteMessage(ctx, in, o...)
}

func TestRedriveNeverLosesAMessage(t *testing.T) {
	c := testenv.SQS(t)
	url, _ := testenv.NewQueue(t, c, false, 0)
	dlq, _ := testenv.NewQueue(t, c, false, 0)
	send(t, c, dlq, 8, "")
	waitCount(t, c, dlq, 8) // Redrive bounds itself by the DLQ's (approximate) size

	// A send fails: the message stays in the DLQ, visible at once.
	f := &faulty{Client: c, failSend: 3}
	moved, err := Redrive(context.Background(), f, dlq, url, 0)
	if err == nil || moved != 2 {
		t.Fatalf("Redrive with a failing send = %d, %v", moved, err)
	}
	if n := count(t, c, dlq); n != 6 {
		t.Errorf("DLQ holds %d visible messages, want 6", n)
	}

	// A delete fails after the send: an error, and the message is both at
	// the target and (once its visibility ends) in the DLQ: never lost; the
	// consumer deduplicates the copy.
	f = &faulty{Client: c, failDelete: 1}
	moved, err = Redrive(context.Background(), f, dlq, url, 0)
	if err == nil || moved != 0 {
		t.Fatalf("Redrive with a failing delete = %d, %v", moved, err)
	}

	// The re-run moves the rest.
	if moved, err := Redrive(context.Background(), c, dlq, url, 0); err != nil || moved != 5 {
		t.Fatalf("re-run = %d, %v; want 5 (the undeleted message is still hidden)", moved, err)
	}
	if got := len(receiveAll(t, c, url)); got != 8 {
		t.Errorf("target holds %d messages, want 8", got)
	}
}

func TestDeadLetterQueueURLErrors(t *testing.T) {
	c := testenv.SQS(t)
	url, _ := testenv.NewQueue(t, c, false, 0)
	if _, err := DeadLetterQueueURL(context.Background(), c, url); !errors.Is(err, ErrNoDeadLetterQueue) {
		t.Errorf("queue without DLQ: %v", err)
	}
	if _, err := Redrive(context.Background(), c, url, url, 0); err == nil {
		t.Error("Redrive to the same queue accepted")
	}
}
