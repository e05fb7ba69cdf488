package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/labchain/appointments/shared/consumer"
	"github.com/labchain/appointments/shared/testenv"
)

func TestMain(m *testing.M) { os.Exit(testenv.Main(m)) }

// queues serves the local platform's GET /_local/queues.
func queues(t *testing.T, m map[string]string) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet || r.URL.Path != "/_local/queues" {
			http.NotFound(w, r)
			return
		}
		_ = json.NewEncoder(w).Encode(m)
	}))
	t.Cleanup(srv.Close)
	return srv.URL + "/_local/queues"
}

// deadLetter puts n messages in the DLQ as the consumer kit does.
func deadLetter(t *testing.T, c *sqs.Client, dlq string, n int) {
	t.Helper()
	for i := range n {
		_, err := c.SendMessage(context.Background(), &sqs.SendMessageInput{
			QueueUrl: aws.String(dlq), MessageBody: aws.String(fmt.Sprintf(`{"id":"e%d"}`, i)),
			MessageAttributes: map[string]types.MessageAttributeValue{
				consumer.AttrFailureReason: {DataType: aws.String("String"), StringValue: aws.String("invalid")},
				consumer.AttrFailureDetail: {DataType: aws.String("String"), StringValue: aws.String("bad")},
				"ce-type":                  {DataType: aws.String("String"), StringValue: aws.String("appointment.booked")},
			},
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}

func received(t *testing.T, c *sqs.Client, url string) []types.Message {
	t.Helper()
	var all []types.Message
	for {
		out, err := c.ReceiveMessage(context.Background(), &sqs.ReceiveMessageInput{
			QueueUrl: aws.String(url), MaxNumberOfMessages: 10, WaitTimeSeconds: 1, MessageAttributeNames: []string{"All"}})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.Messages) == 0 {
			return all
		}
		for _, m := range out.Messages {
			_, _ = c.DeleteMessage(context.Background(), &sqs.DeleteMessageInput{QueueUrl: aws.String(url), ReceiptHandle: m.ReceiptHandle})
		}
		all = append(all, out.Messages...)
	}
}

func TestRedriveByLogicalID(t *testing.T) {
	c := testenv.SQS(t)
	url, dlq := testenv.NewQueue(t, c, true, 5)
	deadLetter(t, c, dlq, 3)
	list := queues(t, map[string]string{"NotificationsQueue": url, "NotificationsDLQ": dlq})

	var out, errOut bytes.Buffer
	// The endpoint comes from the queue URL (the local emulator's).
	if err := run(context.Background(), []string{"-queue", "NotificationsQueue", "-queues-url", list}, &out, &errOut); err != nil {
		t.Fatalf("run: %v\n%s", err, errOut.String())
	}
	if !strings.HasPrefix(out.String(), "moved 3 message(s) from "+dlq+" to "+url) {
		t.Errorf("output = %q", out.String())
	}
	msgs := received(t, c, url)
	if len(msgs) != 3 {
		t.Fatalf("queue got %d messages, want 3", len(msgs))
	}
	for _, m := range msgs {
		if _, ok := m.MessageAttributes[consumer.AttrFailureReason]; ok {
			t.Error("failure attributes kept")
		}
		if aws.ToString(m.MessageAttributes["ce-type"].StringValue) != "appointment.booked" {
			t.Errorf("attributes = %v", m.MessageAttributes)
		}
	}

	// The DLQ itself is not a valid -queue.
	err := run(context.Background(), []string{"-queue", "NotificationsDLQ", "-queues-url", list}, &out, &errOut)
	if err == nil || !strings.Contains(err.Error(), "not its dead-letter queue") {
		t.Errorf("DLQ as -queue: %v", err)
	}
	// An unknown logical id names the known ones.
	err = run(context.Background(), []string{"-queue", "Nope", "-queues-url", list}, &out, &errOut)
	if err == nil || !strings.Contains(err.Error(), "NotificationsQueue") {
		t.Errorf("unknown id: %v", err)
	}
}

func TestRedriveByURLWithEndpointAndMax(t *testing.T) {
	c := testenv.SQS(t)
	url, dlq := testenv.NewQueue(t, c, true, 5)
	deadLetter(t, c, dlq, 4)
	endpoint := localEndpoint(url)
	if !strings.HasPrefix(endpoint, "http://127.0.0.1:") {
		t.Fatalf("localEndpoint(%s) = %q", url, endpoint)
	}
	var out bytes.Buffer
	if err := run(context.Background(), []string{"-queue", url, "-endpoint", endpoint, "-max", "1"}, &out, &out); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(out.String(), "moved 1 message(s)") {
		t.Errorf("output = %q", out.String())
	}
	if n := len(received(t, c, url)); n != 1 {
		t.Errorf("queue got %d, want 1", n)
	}
}

func TestUsage(t *testing.T) {
	var out, errOut bytes.Buffer
	for _, args := range [][]string{{}, {"-bogus"}, {"-queue", "Q", "extra"}} {
		if err := run(context.Background(), args, &out, &errOut); !errors.Is(err, errUsage) {
			t.Errorf("run(%q) = %v, want a usage error", args, err)
		}
	}
	if !strings.Contains(errOut.String(), "-queue") {
		t.Errorf("usage text = %q", errOut.String())
	}
	// No local platform listening: a clear error.
	err := run(context.Background(), []string{"-queue", "Q", "-queues-url", "http://127.0.0.1:1/_local/queues"}, &out, &errOut)
	if err == nil || !strings.Contains(err.Error(), "make dev") {
		t.Errorf("no platform: %v", err)
	}
}

func TestLocalEndpoint(t *testing.T) {
	for u, want := range map[string]string{
		"http://127.0.0.1:9324/000000000000/q":                           "http://127.0.0.1:9324",
		"http://localhost:9324/000000000000/q":                           "http://localhost:9324",
		"https://sqs.ap-southeast-1.amazonaws.com/123456789012/bookings": "",
		"::bad": "",
	} {
		if got := localEndpoint(u); got != want {
			t.Errorf("localEndpoint(%q) = %q, want %q", u, got, want)
		}
	}
}
