package localdev

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

// sqsMapping runs one SQS event source mapping the way Lambda does: up to
// maxConcurrency pollers long-poll the queue, each gathers a batch (up to
// BatchSize messages within MaximumBatchingWindowInSeconds), invokes the
// function synchronously with an SQS event and then deletes what succeeded:
//
//   - function error or timeout: nothing is deleted; the messages come back
//     after the queue's visibility timeout, and its RedrivePolicy moves them to
//     the dead-letter queue after maxReceiveCount receives;
//   - success without ReportBatchItemFailures: every message is deleted;
//   - success with ReportBatchItemFailures: every message but those listed in
//     batchItemFailures is deleted. A response that is not a batch response,
//     or an itemIdentifier that is empty, missing or not a message of the
//     batch, fails the whole batch, as in Lambda;
//   - messages that match none of the FilterCriteria are deleted unseen.
type sqsMapping struct {
	src    *sqsSource
	url    string
	arn    string
	client *sqs.Client
	fn     *function
	log    io.Writer // one line per batch
	logf   func(format string, args ...any)
}

// run starts the pollers; they stop when ctx is done.
func (m *sqsMapping) run(ctx context.Context, wg *sync.WaitGroup) {
	for i := 0; i < m.src.maxConcurrency; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			m.poll(ctx)
		}()
	}
}

func (m *sqsMapping) poll(ctx context.Context) {
	failures := 0
	for ctx.Err() == nil {
		batch, err := m.gather(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			failures++
			if failures == 1 || failures%60 == 0 {
				m.logf("SQS %s → %s: ReceiveMessage: %v (retrying)", m.src.queue, m.src.function, err)
			}
			sleep(ctx, time.Second)
			continue
		}
		failures = 0
		if len(batch) > 0 {
			m.process(ctx, batch)
		}
	}
}

// gather receives one batch: a long poll for the first messages, then, with a
// batching window, more receives until BatchSize messages, the window's end
// or a payload near Lambda's 6 MB limit.
func (m *sqsMapping) gather(ctx context.Context) ([]types.Message, error) {
	var batch []types.Message
	var deadline time.Time
	size := 0
	for {
		want := min(10, m.src.batchSize-len(batch))
		wait := int32(20)
		if len(batch) > 0 {
			left := time.Until(deadline)
			if left <= 0 {
				return batch, nil
			}
			wait = int32(left / time.Second) // whole seconds; 0 is a short poll
		}
		out, err := m.client.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{
			QueueUrl:                    aws.String(m.url),
			MaxNumberOfMessages:         int32(want),
			WaitTimeSeconds:             wait,
			MessageSystemAttributeNames: []types.MessageSystemAttributeName{types.MessageSystemAttributeNameAll},
			MessageAttributeNames:       []string{"All"},
		})
		if err != nil {
			if len(batch) > 0 && ctx.Err() == nil {
				return batch, nil
			}
			return batch, err
		}
		msgs := m.filter(ctx, out.Messages)
		if len(batch) == 0 && len(msgs) > 0 {
			deadline = time.Now().Add(m.src.window)
		}
		batch = append(batch, msgs...)
		for _, msg := range msgs {
			size += len(aws.ToString(msg.Body))
		}
		if len(batch) == 0 {
			if len(out.Messages) > 0 {
				continue // all filtered out: poll again
			}
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			continue
		}
		// Lambda also stops at a 6 MB payload; stop before the next receive
		// (10 × 256 KiB) could pass it.
		if m.src.window == 0 || len(batch) >= m.src.batchSize || time.Now().After(deadline) || size > 6<<20-10*256<<10 {
			return batch, nil
		}
	}
}

// filter deletes the messages that match no filter (Lambda does) and
// returns the others.
func (m *sqsMapping) filter(ctx context.Context, msgs []types.Message) []types.Message {
	if len(m.src.filters) == 0 {
		return msgs
	}
	var keep, drop []types.Message
	for _, msg := range msgs {
		if m.src.filters.match(sqsFilterObject(m.record(msg))) {
			keep = append(keep, msg)
		} else {
			drop = append(drop, msg)
		}
	}
	if len(drop) > 0 {
		m.delete(ctx, drop)
	}
	return keep
}

// sqsFilterObject is what SQS filter patterns see: the record, with the
// body decoded when it is a JSON object.
func sqsFilterObject(r events.SQSMessage) map[string]any {
	obj := eventObject(r)
	var body map[string]any
	if json.Unmarshal([]byte(r.Body), &body) == nil && body != nil {
		obj["body"] = body
	}
	return obj
}

// record turns a received message into the record Lambda delivers.
func (m *sqsMapping) record(msg types.Message) events.SQSMessage {
	r := events.SQSMessage{
		MessageId:              aws.ToString(msg.MessageId),
		ReceiptHandle:          aws.ToString(msg.ReceiptHandle),
		Body:                   aws.ToString(msg.Body),
		Md5OfBody:              aws.ToString(msg.MD5OfBody),
		Md5OfMessageAttributes: aws.ToString(msg.MD5OfMessageAttributes),
		Attributes:             map[string]string{},
		MessageAttributes:      map[string]events.SQSMessageAttribute{},
		EventSourceARN:         m.arn,
		EventSource:            "aws:sqs",
		AWSRegion:              Region,
	}
	for k, v := range msg.Attributes {
		r.Attributes[k] = v
	}
	for k, v := range msg.MessageAttributes {
		r.MessageAttributes[k] = events.SQSMessageAttribute{
			StringValue:      v.StringValue,
			BinaryValue:      v.BinaryValue,
			StringListValues: append([]string{}, v.StringListValues...),
			BinaryListValues: append([][]byte{}, v.BinaryListValues...),
			DataType:         aws.ToString(v.DataType),
		}
	}
	return r
}

// process invokes the function with one batch and deletes what succeeded.
func (m *sqsMapping) process(ctx context.Context, batch []types.Message) {
	ev := events.SQSEvent{Records: make([]events.SQSMessage, len(batch))}
	for i, msg := range batch {
		ev.Records[i] = m.record(msg)
	}
	payload, err := json.Marshal(ev)
	if err != nil {
		m.logf("SQS %s → %s: %v", m.src.queue, m.src.function, err)
		return
	}
	begin := time.Now()
	inv, err := m.fn.invoke(ctx, payload)
	took := time.Since(begin).Round(100 * time.Microsecond)
	line := fmt.Sprintf("%s SQS %s %d msgs → %s", begin.Format("15:04:05"), m.src.queue, len(batch), m.src.function)
	if err != nil {
		if !errors.Is(err, errClosed) && ctx.Err() == nil {
			fmt.Fprintf(m.log, "%s invoke failed %s: %v (messages return after the visibility timeout)\n", line, took, err)
		}
		return
	}
	switch classify(inv) {
	case functionError:
		fmt.Fprintf(m.log, "%s function error %s (messages return after the visibility timeout)\n", line, took)
		return
	case timedOut:
		fmt.Fprintf(m.log, "%s timed out %s (messages return after the visibility timeout)\n", line, took)
		return
	}
	keep := map[string]bool{}
	if m.src.reportFailures {
		failed, err := batchItemFailures(inv.body, func(id string) bool {
			for _, r := range ev.Records {
				if r.MessageId == id {
					return true
				}
			}
			return false
		})
		if err != nil {
			fmt.Fprintf(m.log, "%s ok %s, but the whole batch fails: %v\n", line, took, err)
			return
		}
		for _, id := range failed {
			keep[id] = true
		}
	}
	var done []types.Message
	for _, msg := range batch {
		if !keep[aws.ToString(msg.MessageId)] {
			done = append(done, msg)
		}
	}
	m.delete(ctx, done)
	if len(keep) > 0 {
		fmt.Fprintf(m.log, "%s ok %s, %d failed item(s) return after the visibility timeout\n", line, took, len(keep))
	} else {
		fmt.Fprintf(m.log, "%s ok %s\n", line, took)
	}
}

// delete deletes messages in batches of ten.
func (m *sqsMapping) delete(ctx context.Context, msgs []types.Message) {
	for len(msgs) > 0 {
		n := min(10, len(msgs))
		entries := make([]types.DeleteMessageBatchRequestEntry, n)
		for i, msg := range msgs[:n] {
			entries[i] = types.DeleteMessageBatchRequestEntry{Id: aws.String(strconv.Itoa(i)), ReceiptHandle: msg.ReceiptHandle}
		}
		// Not tied to ctx: a batch that succeeded is deleted even when the
		// platform is closing.
		dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		out, err := m.client.DeleteMessageBatch(dctx, &sqs.DeleteMessageBatchInput{QueueUrl: aws.String(m.url), Entries: entries})
		cancel()
		if err != nil {
			m.logf("SQS %s: DeleteMessageBatch: %v", m.src.queue, err)
		} else if len(out.Failed) > 0 {
			m.logf("SQS %s: DeleteMessageBatch: %d entries failed: %s", m.src.queue, len(out.Failed), aws.ToString(out.Failed[0].Message))
		}
		msgs = msgs[n:]
	}
}

// batchItemFailures reads a partial batch response ({"batchItemFailures":
// [{"itemIdentifier": "..."}]}) and returns the identifiers. An empty or null
// response, or an empty or null list, means no failure. Anything else that
// is not such a response, and any identifier that is missing, empty or not
// known (valid false), is an error: Lambda then fails the whole batch.
func batchItemFailures(body []byte, valid func(string) bool) ([]string, error) {
	if len(body) == 0 || string(body) == "null" {
		return nil, nil
	}
	var resp map[string]json.RawMessage
	if err := json.Unmarshal(body, &resp); err != nil {
		return nil, fmt.Errorf("the response is not a batch response object")
	}
	raw, ok := resp["batchItemFailures"]
	if !ok || string(raw) == "null" {
		return nil, nil
	}
	var items []map[string]json.RawMessage
	if err := json.Unmarshal(raw, &items); err != nil {
		return nil, fmt.Errorf("batchItemFailures is not a list of objects")
	}
	var ids []string
	for _, it := range items {
		var id string
		if err := json.Unmarshal(it["itemIdentifier"], &id); err != nil || id == "" {
			return nil, fmt.Errorf("a batchItemFailures entry has no itemIdentifier (or an empty one)")
		}
		if !valid(id) {
			return nil, fmt.Errorf("itemIdentifier %q is not in the batch", id)
		}
		ids = append(ids, id)
	}
	return ids, nil
}

// sleep waits d or until ctx is done.
func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}
