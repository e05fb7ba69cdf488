package testenv

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"regexp"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/labchain/appointments/infra/sqslocal"
)

// SQSEndpointVariable names the environment variable that points the tests at
// an already running SQS emulator (e.g. the one of `make dev`).
const SQSEndpointVariable = "SQS_ENDPOINT"

var (
	sqsMu       sync.Mutex
	sqsServer   *sqslocal.Server
	sqsClient   *sqs.Client
	sqsStartErr error
)

// SQS returns the test binary's SQS emulator client, starting the emulator
// (infra/sqslocal) on first use, or using SQS_ENDPOINT when set. Main stops
// it. It skips the test in -short mode and fails it if the emulator cannot
// start ("run make tools" when it is not installed).
func SQS(tb testing.TB) *sqs.Client {
	tb.Helper()
	if testing.Short() {
		tb.Skip("integration test: needs the SQS emulator")
	}
	mu.Lock()
	ok := inMain
	mu.Unlock()
	if !ok {
		tb.Fatal("testenv: call testenv.Main from TestMain: func TestMain(m *testing.M) { os.Exit(testenv.Main(m)) }")
	}
	sqsMu.Lock()
	defer sqsMu.Unlock()
	if sqsClient != nil {
		return sqsClient
	}
	if sqsStartErr != nil {
		tb.Fatal(sqsStartErr)
	}
	if ep := os.Getenv(SQSEndpointVariable); ep != "" {
		sqsClient = sqslocal.NewClient(ep)
		return sqsClient
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*sqslocal.StartTimeout)
	defer cancel()
	s, err := sqslocal.Start(ctx, sqslocal.Options{})
	if err != nil {
		if errors.Is(err, sqslocal.ErrNotInstalled) {
			sqsStartErr = fmt.Errorf("testenv: %v: run `make tools` (or `make test`)", err)
		} else {
			sqsStartErr = fmt.Errorf("testenv: %w", err)
		}
		tb.Fatal(sqsStartErr)
	}
	sqsServer = s
	sqsClient = s.Client()
	return sqsClient
}

// stopSQS stops the emulator SQS started, if any (called by Main).
func stopSQS() {
	sqsMu.Lock()
	defer sqsMu.Unlock()
	if sqsServer != nil {
		sqsServer.Stop()
		sqsServer = nil
	}
	sqsClient = nil
}

// QueueOption changes how NewQueue creates a queue.
type QueueOption func(attrs map[string]string)

// WithVisibilityTimeout sets the queue's VisibilityTimeout (default 30 s),
// e.g. to a second or two in tests of retries and redrive.
func WithVisibilityTimeout(d time.Duration) QueueOption {
	return func(a map[string]string) { a["VisibilityTimeout"] = strconv.Itoa(int(d / time.Second)) }
}

// WithQueueAttribute sets one CreateQueue attribute of the main queue, e.g.
// ("DelaySeconds", "1").
func WithQueueAttribute(name, value string) QueueOption {
	return func(a map[string]string) { a[name] = value }
}

// NewQueue creates a fresh standard queue with a unique name derived from the
// test's name and deletes it when the test ends. With withDLQ it first
// creates a dead-letter queue and gives the queue a RedrivePolicy sending a
// message there after maxReceive receives (0 means 5, the template's value);
// without it dlqURL is "" and maxReceive is ignored.
func NewQueue(tb testing.TB, client *sqs.Client, withDLQ bool, maxReceive int, opts ...QueueOption) (url, dlqURL string) {
	tb.Helper()
	if testing.Short() {
		tb.Skip("integration test: needs the SQS emulator")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	name := queueName(tb.Name())
	attrs := map[string]string{}
	for _, o := range opts {
		o(attrs)
	}
	if withDLQ {
		if maxReceive <= 0 {
			maxReceive = 5
		}
		dlqURL = createQueue(ctx, tb, client, name+"-dlq", map[string]string{"MessageRetentionPeriod": "1209600"})
		arn := queueARN(ctx, tb, client, dlqURL)
		policy, _ := json.Marshal(map[string]any{"deadLetterTargetArn": arn, "maxReceiveCount": maxReceive})
		attrs["RedrivePolicy"] = string(policy)
	}
	url = createQueue(ctx, tb, client, name, attrs)
	return url, dlqURL
}

func createQueue(ctx context.Context, tb testing.TB, c *sqs.Client, name string, attrs map[string]string) string {
	tb.Helper()
	out, err := c.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(name), Attributes: attrs})
	if err != nil {
		tb.Fatalf("testenv: create queue %s: %v", name, err)
	}
	url := aws.ToString(out.QueueUrl)
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := c.DeleteQueue(ctx, &sqs.DeleteQueueInput{QueueUrl: aws.String(url)}); err != nil {
			tb.Errorf("testenv: delete queue %s: %v", name, err)
		}
	})
	return url
}

func queueARN(ctx context.Context, tb testing.TB, c *sqs.Client, url string) string {
	tb.Helper()
	out, err := c.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: aws.String(url),
		AttributeNames: []types.QueueAttributeName{types.QueueAttributeNameQueueArn}})
	if err != nil {
		tb.Fatalf("testenv: queue ARN of %s: %v", url, err)
	}
	return out.Attributes[string(types.QueueAttributeNameQueueArn)]
}

// queueName makes a valid, unique queue name (at most 80 characters of
// letters, digits, '-' and '_', leaving room for a "-dlq" suffix) that still
// says which test made it.
func queueName(test string) string {
	base := unsafeQueueChars.ReplaceAllString(test, "_")
	if len(base) > 59 {
		base = base[len(base)-59:]
	}
	var b [6]byte
	_, _ = rand.Read(b[:])
	return base + "-" + hex.EncodeToString(b[:])
}

var unsafeQueueChars = regexp.MustCompile(`[^a-zA-Z0-9_-]+`)
