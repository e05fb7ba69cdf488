package localdev

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/labchain/appointments/infra/benchab"
)

// BenchmarkSQSEventSourceMapping measures messages per second through the
// SQS event source mapping (BenchQueue → the test consumer, BatchSize 10,
// MaximumConcurrency 5: receive, invoke through aws-lambda-rie, delete)
// against a bare consumer doing ReceiveMessage + DeleteMessageBatch with 5
// goroutines on the same emulator (BenchRawQueue, no mapping), in the same
// run. Both phases send the same messages the same way while they consume.
// b.N rounds of roundSize messages each, mapping then bare (A B A B), after
// a warm-up round; reported through infra/benchab (not asserted).
func BenchmarkSQSEventSourceMapping(b *testing.B) {
	p := eventsPlatform(b)
	const roundSize = 200
	ctx := context.Background()
	c := p.sqsClient
	benchab.Values(b, benchab.Spec{Figure: "SQS messages/s through the event source mapping", Baseline: "bare receive+delete consumer", Unit: "msgs/s", WarmUp: 1},
		func(int) float64 { return esmRound(b, ctx, p, roundSize) },
		func(int) float64 { return rawRound(b, ctx, c, p.QueueURL("BenchRawQueue"), roundSize) })
}

// esmRound sends n messages to BenchQueue and returns messages per second
// until the mapping has consumed them all.
func esmRound(b *testing.B, ctx context.Context, p *Platform, n int) float64 {
	return throughput(b, ctx, p.sqsClient, p.QueueURL("BenchQueue"), n, func(ctx context.Context, url string, sent func() bool) {
		for {
			v, f := queueDepth(b, p, "BenchQueue")
			if sent() && v+f == 0 {
				return
			}
			time.Sleep(5 * time.Millisecond)
		}
	})
}

// rawRound sends n messages to url and returns messages per second until 5
// bare consumers have received and deleted them all.
func rawRound(b *testing.B, ctx context.Context, c *sqs.Client, url string, n int) float64 {
	return throughput(b, ctx, c, url, n, func(ctx context.Context, url string, sent func() bool) {
		var deleted atomic.Int64
		var wg sync.WaitGroup
		ctx, cancel := context.WithCancel(ctx)
		defer cancel()
		for range 5 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for deleted.Load() < int64(n) {
					out, err := c.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(url), MaxNumberOfMessages: 10, WaitTimeSeconds: 1,
						MessageSystemAttributeNames: []types.MessageSystemAttributeName{types.MessageSystemAttributeNameAll}, MessageAttributeNames: []string{"All"}})
					if err != nil {
						if ctx.Err() == nil {
							b.Error(err)
						}
						return
					}
					if len(out.Messages) == 0 {
						continue
					}
					entries := make([]types.DeleteMessageBatchRequestEntry, len(out.Messages))
					for i, m := range out.Messages {
						entries[i] = types.DeleteMessageBatchRequestEntry{Id: aws.String(strconv.Itoa(i)), ReceiptHandle: m.ReceiptHandle}
					}
					if _, err := c.DeleteMessageBatch(ctx, &sqs.DeleteMessageBatchInput{QueueUrl: aws.String(url), Entries: entries}); err != nil {
						b.Error(err)
						return
					}
					if deleted.Add(int64(len(out.Messages))) >= int64(n) {
						cancel() // the others stop waiting in their long polls
					}
				}
			}()
		}
		wg.Wait()
	})
}

// throughput sends n messages (4 senders, batches of 10) while consume runs,
// and returns messages per second from the first send to consume's return.
func throughput(b *testing.B, ctx context.Context, c *sqs.Client, url string, n int, consume func(ctx context.Context, url string, sent func() bool)) float64 {
	b.Helper()
	var sentAll atomic.Bool
	var next atomic.Int64
	begin := time.Now()
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				start := next.Add(10) - 10
				if start >= int64(n) {
					return
				}
				var entries []types.SendMessageBatchRequestEntry
				for i := start; i < min(start+10, int64(n)); i++ {
					entries = append(entries, types.SendMessageBatchRequestEntry{Id: aws.String(strconv.FormatInt(i, 10)),
						MessageBody: aws.String(fmt.Sprintf(`{"key":"bench-%d","mode":"bench"}`, i))})
				}
				if _, err := c.SendMessageBatch(ctx, &sqs.SendMessageBatchInput{QueueUrl: aws.String(url), Entries: entries}); err != nil {
					b.Error(err)
					return
				}
			}
		}()
	}
	go func() {
		wg.Wait()
		sentAll.Store(true)
	}()
	consume(ctx, url, sentAll.Load)
	wg.Wait()
	return float64(n) / time.Since(begin).Seconds()
}
