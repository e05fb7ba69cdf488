package localdev

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	dtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/labchain/appointments/infra/dynamolocal"
	"github.com/labchain/appointments/infra/sqslocal"
)

// The event source tests share one platform over testdata/events.yaml (queue,
// stream and schedule test functions; one stream-enabled table, created once
// because each such table slows DynamoDB Local's later writes). The test
// functions record their invocations in recordsDir.
var (
	eventsOnce sync.Once
	eventsP    *Platform
	eventsErr  error
	recordsDir string
	eventsLog  = &lockedBuffer{}
)

func eventsPlatform(t testing.TB) *Platform {
	t.Helper()
	if testing.Short() {
		t.Skip("integration test (DynamoDB Local, the SQS emulator and aws-lambda-rie); skipped with -short")
	}
	if tt, ok := t.(*testing.T); ok {
		requireTools(tt)
	}
	eventsOnce.Do(func() {
		recordsDir, eventsErr = os.MkdirTemp("", "localdev-records-")
		if eventsErr != nil {
			return
		}
		tempMu.Lock()
		tempDirs = append(tempDirs, recordsDir)
		tempMu.Unlock()
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		defer cancel()
		o := testOptions(eventsLog, Options{Template: filepath.Join("testdata", "events.yaml"), NoSchedules: true,
			Env: map[string]string{"RECORD_DIR": recordsDir}})
		eventsP, eventsErr = Start(ctx, o)
	})
	if eventsErr != nil {
		t.Fatalf("start platform: %v\n%s", eventsErr, eventsLog.String())
	}
	return eventsP
}

// invocations reads the records of a test function.
func invocations(t testing.TB, fn string) []testInvocation {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(recordsDir, fn+".jsonl"))
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	var out []testInvocation
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		var inv testInvocation
		if err := json.Unmarshal([]byte(line), &inv); err != nil {
			continue // a line being written
		}
		out = append(out, inv)
	}
	return out
}

// testInvocation is one record of testdata/functions/internal/testfn.
type testInvocation struct {
	Start, End int64
	Keys       []string
	Items      []string
	Counts     []string
	Event      json.RawMessage
	Outcome    string
	Env        map[string]string
}

// invsWithKey returns the invocations that carried key, and the receive counts
// (SQS) it had in each.
func invsWithKey(invs []testInvocation, key string) (out []testInvocation, counts []string) {
	for _, inv := range invs {
		for i, k := range inv.Keys {
			if k == key {
				out = append(out, inv)
				if i < len(inv.Counts) {
					counts = append(counts, inv.Counts[i])
				}
				break
			}
		}
	}
	return out, counts
}

func waitFor(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s\n--- platform log tail ---\n%s", timeout, what, eventsLog.Tail(4<<10))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func uniqueKey(t testing.TB, suffix string) string {
	return fmt.Sprintf("%s-%s-%d", t.Name(), suffix, time.Now().UnixNano())
}

// send puts messages on a template queue in one SendMessageBatch.
func send(t testing.TB, p *Platform, queue string, bodies ...string) {
	t.Helper()
	var entries []types.SendMessageBatchRequestEntry
	for i, b := range bodies {
		entries = append(entries, types.SendMessageBatchRequestEntry{Id: aws.String(strconv.Itoa(i)), MessageBody: aws.String(b),
			MessageAttributes: map[string]types.MessageAttributeValue{"origin": {DataType: aws.String("String"), StringValue: aws.String("test")}}})
	}
	out, err := p.sqsClient.SendMessageBatch(context.Background(), &sqs.SendMessageBatchInput{QueueUrl: aws.String(p.QueueURL(queue)), Entries: entries})
	if err != nil || len(out.Failed) > 0 {
		t.Fatalf("send to %s: %v %+v", queue, err, out)
	}
}

func body(key, mode string) string {
	b, _ := json.Marshal(map[string]any{"key": key, "mode": mode})
	return string(b)
}

func queueDepth(t testing.TB, p *Platform, queue string) (visible, inFlight int) {
	t.Helper()
	out, err := p.sqsClient.GetQueueAttributes(context.Background(), &sqs.GetQueueAttributesInput{QueueUrl: aws.String(p.QueueURL(queue)),
		AttributeNames: []types.QueueAttributeName{types.QueueAttributeNameAll}})
	if err != nil {
		t.Fatal(err)
	}
	v, _ := strconv.Atoi(out.Attributes["ApproximateNumberOfMessages"])
	f, _ := strconv.Atoi(out.Attributes["ApproximateNumberOfMessagesNotVisible"])
	return v, f
}

func TestQueuesFromTemplate(t *testing.T) {
	p := eventsPlatform(t)
	resp, data := call(t, http.MethodGet, p.URL()+"/_local/queues", "", nil, nil)
	var got map[string]string
	if resp.StatusCode != 200 || json.Unmarshal(data, &got) != nil {
		t.Fatalf("GET /_local/queues: %d %s", resp.StatusCode, data)
	}
	if _, ok := got["NeverQueue"]; ok {
		t.Error("NeverQueue's Condition is false: it must not exist")
	}
	for _, id := range []string{"JobsQueue", "JobsDLQ", "PlainQueue", "OffQueue", "CondQueue"} {
		if got[id] != p.SQSEndpoint()+"/"+sqslocal.AccountID+"/"+id || p.QueueURL(id) != got[id] {
			t.Errorf("queue %s: URL %q (QueueURL %q)", id, got[id], p.QueueURL(id))
		}
	}
	out, err := p.sqsClient.GetQueueAttributes(context.Background(), &sqs.GetQueueAttributesInput{QueueUrl: aws.String(got["JobsQueue"]),
		AttributeNames: []types.QueueAttributeName{types.QueueAttributeNameAll}})
	if err != nil {
		t.Fatal(err)
	}
	if out.Attributes["VisibilityTimeout"] != "1" || !strings.Contains(out.Attributes["RedrivePolicy"], sqslocal.QueueARN("JobsDLQ")) ||
		!strings.Contains(out.Attributes["RedrivePolicy"], `"maxReceiveCount":2`) {
		t.Errorf("JobsQueue attributes: %v", out.Attributes)
	}
	// Resolver: !Ref → URL, !GetAtt .Arn and .QueueName; SQS endpoint in the environment.
	fn, err := p.app.function("QueueConsumerFunction")
	if err != nil {
		t.Fatal(err)
	}
	s, err := p.app.settings(fn, p.endpoint, "/task", nil)
	if err != nil {
		t.Fatal(err)
	}
	if s.env["JOBS_QUEUE_URL"] != got["JobsQueue"] || s.env["JOBS_QUEUE_ARN"] != sqslocal.QueueARN("JobsQueue") ||
		s.env["JOBS_QUEUE_NAME"] != "JobsQueue" || s.env["AWS_ENDPOINT_URL_SQS"] != p.SQSEndpoint() {
		t.Errorf("env of QueueConsumerFunction = %v", s.env)
	}
}

func TestSQSEventShape(t *testing.T) {
	p := eventsPlatform(t)
	key := uniqueKey(t, "shape")
	b := body(key, "ok")
	send(t, p, "JobsQueue", b)
	var inv testInvocation
	waitFor(t, 20*time.Second, "the message's invocation", func() bool {
		got, _ := invsWithKey(invocations(t, "QueueConsumerFunction"), key)
		if len(got) > 0 {
			inv = got[0]
		}
		return len(got) > 0
	})
	var ev events.SQSEvent
	if err := json.Unmarshal(inv.Event, &ev); err != nil {
		t.Fatal(err)
	}
	var r events.SQSMessage
	for _, rec := range ev.Records {
		if rec.Body == b {
			r = rec
		}
	}
	sum := md5.Sum([]byte(b))
	if r.EventSource != "aws:sqs" || r.EventSourceARN != sqslocal.QueueARN("JobsQueue") || r.AWSRegion != Region ||
		r.MessageId == "" || r.ReceiptHandle == "" || r.Md5OfBody != hex.EncodeToString(sum[:]) || r.Md5OfMessageAttributes == "" {
		t.Errorf("record = %+v", r)
	}
	for _, a := range []string{"ApproximateReceiveCount", "SentTimestamp", "SenderId", "ApproximateFirstReceiveTimestamp"} {
		if r.Attributes[a] == "" {
			t.Errorf("attribute %s missing: %v", a, r.Attributes)
		}
	}
	if a := r.MessageAttributes["origin"]; aws.ToString(a.StringValue) != "test" || a.DataType != "String" {
		t.Errorf("messageAttributes = %+v", r.MessageAttributes)
	}
	// The raw JSON has the field names Lambda uses.
	for _, field := range []string{`"messageId"`, `"receiptHandle"`, `"md5OfBody"`, `"eventSourceARN"`, `"stringValue"`, `"dataType"`, `"stringListValues":[]`} {
		if !strings.Contains(string(inv.Event), field) {
			t.Errorf("event JSON lacks %s: %s", field, inv.Event)
		}
	}
	if inv.Env["AWS_ENDPOINT_URL_SQS"] != p.SQSEndpoint() {
		t.Errorf("AWS_ENDPOINT_URL_SQS = %q", inv.Env["AWS_ENDPOINT_URL_SQS"])
	}
	waitFor(t, 5*time.Second, "the message to be deleted", func() bool { v, f := queueDepth(t, p, "JobsQueue"); return v+f == 0 })
}

// dlqBodies drains the test's messages from JobsDLQ.
func dlqBodies(t testing.TB, p *Platform, prefix string, want int) []string {
	t.Helper()
	var got []string
	deadline := time.Now().Add(20 * time.Second)
	for len(got) < want && time.Now().Before(deadline) {
		out, err := p.sqsClient.ReceiveMessage(context.Background(), &sqs.ReceiveMessageInput{QueueUrl: aws.String(p.QueueURL("JobsDLQ")),
			MaxNumberOfMessages: 10, WaitTimeSeconds: 1})
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range out.Messages {
			if strings.Contains(aws.ToString(m.Body), prefix) {
				got = append(got, aws.ToString(m.Body))
				_, _ = p.sqsClient.DeleteMessage(context.Background(), &sqs.DeleteMessageInput{QueueUrl: aws.String(p.QueueURL("JobsDLQ")), ReceiptHandle: m.ReceiptHandle})
			}
		}
	}
	return got
}

func TestSQSPartialBatchFailure(t *testing.T) {
	p := eventsPlatform(t)
	ok1, ok2, bad := uniqueKey(t, "ok1"), uniqueKey(t, "ok2"), uniqueKey(t, "bad")
	send(t, p, "JobsQueue", body(ok1, "ok"), body(bad, "fail-item"), body(ok2, "ok"))
	// The failed item comes back after the visibility timeout (1 s), fails
	// again and then moves to the DLQ (maxReceiveCount 2).
	dlq := dlqBodies(t, p, t.Name(), 1)
	if len(dlq) != 1 || !strings.Contains(dlq[0], bad) {
		t.Fatalf("DLQ got %v, want the failed item only", dlq)
	}
	invs := invocations(t, "QueueConsumerFunction")
	if got, counts := invsWithKey(invs, bad); len(got) != 2 || counts[0] != "1" || counts[1] != "2" {
		t.Errorf("failed item: %d invocations, receive counts %v; want 2 (1, 2)", len(got), counts)
	}
	for _, k := range []string{ok1, ok2} {
		if got, _ := invsWithKey(invs, k); len(got) != 1 {
			t.Errorf("%s: %d invocations, want 1 (deleted after success)", k, len(got))
		}
	}
}

func TestSQSWholeBatchFailure(t *testing.T) {
	p := eventsPlatform(t)
	for _, mode := range []string{"fail-batch", "bad-id", "empty-id"} {
		t.Run(mode, func(t *testing.T) {
			// Which poller receives which message is not fixed (as in SQS):
			// try until the two messages sent together share a batch.
			for attempt := 1; ; attempt++ {
				ok, trigger := uniqueKey(t, "ok"), uniqueKey(t, "trigger")
				send(t, p, "JobsQueue", body(ok, "ok"), body(trigger, mode))
				// The trigger fails every batch it is in: after two receives
				// it is in the DLQ.
				dlq := dlqBodies(t, p, trigger, 1)
				if len(dlq) != 1 {
					t.Fatalf("DLQ got %v, want the %s message", dlq, mode)
				}
				got, counts := invsWithKey(invocations(t, "QueueConsumerFunction"), ok)
				if len(got) == 0 || len(got[0].Keys) != 2 {
					if attempt < 5 {
						continue
					}
					t.Fatalf("the two messages sent together were never received together (%d attempts)", attempt)
				}
				// The healthy message shared the failed batch: not deleted,
				// it came back (alone or with the trigger again).
				if len(got) < 2 || counts[0] != "1" || counts[1] != "2" {
					t.Errorf("the healthy message: %d invocations, receive counts %v; want a redelivery with count 2", len(got), counts)
				}
				return
			}
		})
	}
}

func TestSQSWithoutReportBatchItemFailures(t *testing.T) {
	p := eventsPlatform(t)
	key := uniqueKey(t, "x")
	send(t, p, "PlainQueue", body(key, "fail-item")) // ignored: the mapping does not report item failures
	waitFor(t, 20*time.Second, "the invocation", func() bool { got, _ := invsWithKey(invocations(t, "QueueConsumerFunction"), key); return len(got) > 0 })
	time.Sleep(1500 * time.Millisecond) // past the visibility timeout
	if got, _ := invsWithKey(invocations(t, "QueueConsumerFunction"), key); len(got) != 1 {
		t.Errorf("%d invocations, want 1: a success deletes the whole batch", len(got))
	}
	if v, f := queueDepth(t, p, "PlainQueue"); v+f != 0 {
		t.Errorf("PlainQueue holds %d+%d messages", v, f)
	}
}

func TestSQSMaximumConcurrency(t *testing.T) {
	p := eventsPlatform(t)
	prefix := uniqueKey(t, "c")
	var bodies []string
	for i := range 9 {
		b, _ := json.Marshal(map[string]any{"key": fmt.Sprintf("%s-%d", prefix, i), "sleepMs": 400})
		bodies = append(bodies, string(b))
	}
	send(t, p, "SlowQueue", bodies...)
	var mine []testInvocation
	waitFor(t, 30*time.Second, "9 invocations", func() bool {
		mine = mine[:0]
		for _, inv := range invocations(t, "QueueConsumerFunction") {
			if len(inv.Keys) > 0 && strings.HasPrefix(inv.Keys[0], prefix) {
				mine = append(mine, inv)
			}
		}
		return len(mine) == 9
	})
	// The largest number of invocations running at once.
	type edge struct {
		at    int64
		delta int
	}
	var edges []edge
	for _, inv := range mine {
		if len(inv.Keys) != 1 {
			t.Errorf("BatchSize 1: got %d records", len(inv.Keys))
		}
		edges = append(edges, edge{inv.Start, 1}, edge{inv.End, -1})
	}
	sort.Slice(edges, func(i, j int) bool {
		if edges[i].at != edges[j].at {
			return edges[i].at < edges[j].at
		}
		return edges[i].delta < edges[j].delta
	})
	cur, peak := 0, 0
	for _, e := range edges {
		cur += e.delta
		peak = max(peak, cur)
	}
	t.Logf("peak concurrency %d (MaximumConcurrency 3)", peak)
	if peak > 3 || peak < 2 {
		t.Errorf("at most %d invocations ran at once, want MaximumConcurrency 3 (and more than one)", peak)
	}
}

func TestSQSBatchingWindow(t *testing.T) {
	p := eventsPlatform(t)
	prefix := uniqueKey(t, "w")
	begin := time.Now()
	for i := range 3 { // three sends within the 2 s window
		send(t, p, "WindowQueue", body(fmt.Sprintf("%s-%d", prefix, i), "ok"))
		time.Sleep(300 * time.Millisecond)
	}
	var mine []testInvocation
	waitFor(t, 20*time.Second, "the batch", func() bool {
		mine = mine[:0]
		n := 0
		for _, inv := range invocations(t, "QueueConsumerFunction") {
			for _, k := range inv.Keys {
				if strings.HasPrefix(k, prefix) {
					mine = append(mine, inv)
					n += len(inv.Keys)
					break
				}
			}
		}
		return n == 3
	})
	// Two pollers (MaximumConcurrency 2) gather batches: without the window
	// every message would be invoked alone as soon as it arrives.
	if len(mine) > 2 {
		t.Errorf("%d invocations for 3 messages sent 300 ms apart, want batches gathered within the window", len(mine))
	}
	earliest := mine[0].Start
	for _, inv := range mine {
		earliest = min(earliest, inv.Start)
	}
	if first := time.Unix(0, earliest).Sub(begin); first < 1500*time.Millisecond {
		t.Errorf("the first batch was invoked %v after the first message, want about the 2 s window", first)
	}
}

func TestSQSFilterAndDisabled(t *testing.T) {
	p := eventsPlatform(t)
	keep, also, drop := uniqueKey(t, "keep"), uniqueKey(t, "also"), uniqueKey(t, "drop")
	mk := func(key, kind string) string {
		b, _ := json.Marshal(map[string]string{"key": key, "kind": kind})
		return string(b)
	}
	send(t, p, "FilteredQueue", mk(keep, "keep"), mk(drop, "other"), mk(also, "also-this"), "not json")
	send(t, p, "OffQueue", body(uniqueKey(t, "off"), "ok"))
	send(t, p, "CondQueue", body(uniqueKey(t, "cond"), "ok"))
	waitFor(t, 20*time.Second, "the filtered queue to drain", func() bool { v, f := queueDepth(t, p, "FilteredQueue"); return v+f == 0 })
	invs := invocations(t, "QueueConsumerFunction")
	for key, want := range map[string]int{keep: 1, also: 1, drop: 0} {
		if got, _ := invsWithKey(invs, key); len(got) != want {
			t.Errorf("%s: %d invocations, want %d", key, len(got), want)
		}
	}
	time.Sleep(time.Second)
	for _, q := range []string{"OffQueue", "CondQueue"} {
		if v, f := queueDepth(t, p, q); v != 1 || f != 0 {
			t.Errorf("%s (mapping disabled): %d visible, %d in flight; want 1, 0", q, v, f)
		}
	}
}

// putItems writes items to the stream table in one BatchWriteItem.
func putItems(t testing.TB, p *Platform, items ...map[string]string) {
	t.Helper()
	var reqs []dtypes.WriteRequest
	for _, it := range items {
		item := map[string]dtypes.AttributeValue{}
		for k, v := range it {
			item[k] = &dtypes.AttributeValueMemberS{Value: v}
		}
		reqs = append(reqs, dtypes.WriteRequest{PutRequest: &dtypes.PutRequest{Item: item}})
	}
	_, err := dynamolocal.NewClient(p.DynamoEndpoint()).BatchWriteItem(context.Background(), &dynamodb.BatchWriteItemInput{
		RequestItems: map[string][]dtypes.WriteRequest{"StreamTable": reqs}})
	if err != nil {
		t.Fatal(err)
	}
}

func okCount(invs []testInvocation) int {
	n := 0
	for _, inv := range invs {
		if inv.Outcome == "ok" {
			n++
		}
	}
	return n
}

func TestStreamEventsAndFilter(t *testing.T) {
	p := eventsPlatform(t)
	job, other := uniqueKey(t, "job"), uniqueKey(t, "other")
	putItems(t, p, map[string]string{"PK": job, "kind": "job-a", "v": "1"}, map[string]string{"PK": other, "kind": "other"})
	putItems(t, p, map[string]string{"PK": job, "kind": "job-a", "v": "2"}) // MODIFY
	var got []testInvocation
	waitFor(t, 20*time.Second, "INSERT and MODIFY", func() bool {
		got, _ = invsWithKey(invocations(t, "StreamConsumerFunction"), job)
		return okCount(got) >= 2 || (len(got) == 1 && strings.Count(string(got[0].Event), job) >= 4)
	})
	var recs []events.DynamoDBEventRecord
	for _, inv := range got {
		var ev events.DynamoDBEvent
		if err := json.Unmarshal(inv.Event, &ev); err != nil {
			t.Fatal(err)
		}
		for _, r := range ev.Records {
			if r.Change.Keys["PK"].String() == job {
				recs = append(recs, r)
			}
		}
	}
	if len(recs) != 2 || recs[0].EventName != "INSERT" || recs[1].EventName != "MODIFY" {
		t.Fatalf("records = %+v", recs)
	}
	r := recs[1]
	if r.EventSource != "aws:dynamodb" || r.AWSRegion != Region || r.EventVersion == "" || r.EventID == "" ||
		r.EventSourceArn != p.app.streamARNs["StreamTable"] || !strings.Contains(r.EventSourceArn, "/stream/") ||
		r.Change.StreamViewType != "NEW_AND_OLD_IMAGES" || r.Change.SequenceNumber == "" || r.Change.SizeBytes <= 0 ||
		r.Change.NewImage["v"].String() != "2" || r.Change.OldImage["v"].String() != "1" ||
		time.Since(r.Change.ApproximateCreationDateTime.Time) > time.Minute {
		t.Errorf("MODIFY record = %+v", r)
	}
	if got, _ := invsWithKey(invocations(t, "StreamConsumerFunction"), other); len(got) != 0 {
		t.Errorf("the filtered-out item was delivered %d times", len(got))
	}
}

func TestStreamPartialBatchFailure(t *testing.T) {
	p := eventsPlatform(t)
	a, b, c := uniqueKey(t, "a"), uniqueKey(t, "b"), uniqueKey(t, "c")
	putItems(t, p, map[string]string{"PK": a, "kind": "job"}, map[string]string{"PK": b, "kind": "job", "mode": "fail-item-once"},
		map[string]string{"PK": c, "kind": "job"})
	waitFor(t, 20*time.Second, "b to succeed on its retry", func() bool {
		got, _ := invsWithKey(invocations(t, "StreamConsumerFunction"), b)
		return len(got) == 2
	})
	time.Sleep(500 * time.Millisecond)
	invs := invocations(t, "StreamConsumerFunction")
	ga, _ := invsWithKey(invs, a)
	gb, _ := invsWithKey(invs, b)
	gc, _ := invsWithKey(invs, c)
	if len(ga) != 1 || len(gb) != 2 {
		t.Errorf("a delivered %d times (want 1), b %d times (want 2)", len(ga), len(gb))
	}
	// c came after b in the shard: when it shared b's batch it is retried
	// from b's checkpoint, never delivered before b's retry.
	if len(gc) == 0 || len(gc) > 2 {
		t.Errorf("c delivered %d times", len(gc))
	}
	// Retried from b: the retry's first record is b.
	if len(gb) == 2 && gb[1].Keys[0] != b {
		t.Errorf("the retry starts with %s, want %s (the lowest failed sequence number)", gb[1].Keys[0], b)
	}
}

func TestStreamBisectAndMaximumRetryAttempts(t *testing.T) {
	p := eventsPlatform(t)
	x1, x2, x3, x4, y := uniqueKey(t, "x1"), uniqueKey(t, "x2"), uniqueKey(t, "x3"), uniqueKey(t, "x4"), uniqueKey(t, "y")
	putItems(t, p, map[string]string{"PK": x1, "kind": "job"}, map[string]string{"PK": x2, "kind": "job", "mode": "fail-batch"},
		map[string]string{"PK": x3, "kind": "job"}, map[string]string{"PK": x4, "kind": "job"})
	waitFor(t, 30*time.Second, "the skip log line", func() bool { return strings.Contains(eventsLog.String(), "after 3 failed attempts") })
	putItems(t, p, map[string]string{"PK": y, "kind": "job"})
	waitFor(t, 20*time.Second, "the next record", func() bool {
		got, _ := invsWithKey(invocations(t, "StreamConsumerFunction"), y)
		return okCount(got) == 1
	})
	invs := invocations(t, "StreamConsumerFunction")
	if got, _ := invsWithKey(invs, x2); len(got) != 3 || okCount(got) != 0 {
		t.Errorf("the bad record: %d attempts (%d ok), want 3 failed (1 + MaximumRetryAttempts 2)", len(got), okCount(got))
	}
	for _, k := range []string{x1, x3, x4} {
		if got, _ := invsWithKey(invs, k); okCount(got) != 1 {
			t.Errorf("%s: %d successful deliveries, want 1 (bisection isolates the bad record)", k, okCount(got))
		}
	}
	if gx2, _ := invsWithKey(invs, x2); len(gx2) == 3 && len(gx2[2].Keys) != 1 {
		t.Errorf("last attempt had %d records, want the bad record alone", len(gx2[2].Keys))
	}
	if t.Failed() {
		for _, inv := range invs {
			t.Logf("%s %v", inv.Outcome, inv.Keys)
		}
	}
}

func TestSchedulesRunAndList(t *testing.T) {
	p := eventsPlatform(t)
	ctx := context.Background()
	now := time.Date(2026, 12, 1, 19, 30, 0, 0, time.UTC)
	res, err := p.RunSchedule(ctx, "Nightly", now)
	if err != nil || res.Failed() {
		t.Fatalf("RunSchedule: %v %+v", err, res)
	}
	var got struct {
		Got map[string]string `json:"got"`
	}
	if err := json.Unmarshal(res.Payload, &got); err != nil {
		t.Fatalf("%v: %s", err, res.Payload)
	}
	if got.Got["at"] != "2026-12-01T19:30:00Z" || got.Got["arn"] != "arn:aws:scheduler:ap-southeast-1:000000000000:schedule/default/ScheduledFunctionNightly" ||
		len(got.Got["exec"]) != 36 || got.Got["attempt"] != "1" {
		t.Errorf("Input after substitution = %v", got.Got)
	}
	// Over HTTP: classic Schedule sends a Scheduled Event; ScheduleV2 without Input sends {}.
	resp, data := call(t, http.MethodPost, p.URL()+"/_local/schedules/ScheduledFunction.Classic/run", "", strings.NewReader(`{"now":"2026-12-02T03:04:05+07:00"}`), nil)
	var classic struct {
		Got map[string]any `json:"got"`
	}
	if resp.StatusCode != 200 || json.Unmarshal(data, &classic) != nil {
		t.Fatalf("run Classic: %d %s", resp.StatusCode, data)
	}
	ev := classic.Got
	if ev["detail-type"] != "Scheduled Event" || ev["source"] != "aws.events" || ev["time"] != "2026-12-01T20:04:05Z" ||
		ev["version"] != "0" || ev["account"] != AccountID || ev["region"] != Region || fmt.Sprint(ev["resources"]) != "[arn:aws:events:ap-southeast-1:000000000000:rule/ScheduledFunctionClassic]" ||
		fmt.Sprint(ev["detail"]) != "map[]" || ev["id"] == "" {
		t.Errorf("Scheduled Event = %v", ev)
	}
	resp, data = call(t, http.MethodPost, p.URL()+"/_local/schedules/ScheduledFunction.Every/run", "", nil, nil)
	if resp.StatusCode != 200 || string(data) != `{"got":{}}` {
		t.Errorf("run Every: %d %s", resp.StatusCode, data)
	}
	resp, data = call(t, http.MethodPost, p.URL()+"/_local/schedules/ScheduledFunction/run", "", nil, nil)
	if resp.StatusCode != 404 || !strings.Contains(string(data), "names 4 schedules") {
		t.Errorf("ambiguous id: %d %s", resp.StatusCode, data)
	}
	resp, _ = call(t, http.MethodPost, p.URL()+"/_local/schedules/Nope/run", "", nil, nil)
	if resp.StatusCode != 404 {
		t.Errorf("unknown schedule: %d", resp.StatusCode)
	}
	resp, data = call(t, http.MethodGet, p.URL()+"/_local/schedules", "", nil, nil)
	var list struct{ Schedules []ScheduleInfo }
	if resp.StatusCode != 200 || json.Unmarshal(data, &list) != nil || len(list.Schedules) != 4 {
		t.Fatalf("GET /_local/schedules: %d %s", resp.StatusCode, data)
	}
	for _, s := range list.Schedules {
		if s.ID == "ScheduledFunction.Off" && s.Enabled {
			t.Error("State DISABLED must list as disabled")
		}
		if s.ID == "ScheduledFunction.Nightly" && (s.Timezone != "Asia/Bangkok" || s.Expression != "cron(30 2 * * ? *)") {
			t.Errorf("Nightly = %+v", s)
		}
	}
}

// TestScheduleTimerFires runs the timer loop with a fast rate on the real
// function (rate() cannot go below a minute).
func TestScheduleTimerFires(t *testing.T) {
	p := eventsPlatform(t)
	src := *p.sources.schedules[0]
	src.event = "Fast" + strconv.FormatInt(time.Now().UnixNano(), 10)
	input := `{"fast":"<aws.scheduler.scheduled-time>"}`
	src.kind, src.input, src.enabled = "ScheduleV2", &input, true
	src.expr = &scheduleExpr{text: "rate(200ms)", rate: 200 * time.Millisecond, loc: time.UTC, start: time.Now()}
	s := &scheduler{sources: []*scheduleSource{&src}, functions: p.functions, log: eventsLog, logf: func(string, ...any) {}, now: time.Now}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	before := len(invocations(t, "ScheduledFunction"))
	s.run(ctx, &wg)
	waitFor(t, 10*time.Second, "three timer firings", func() bool {
		n := 0
		for _, inv := range invocations(t, "ScheduledFunction")[before:] {
			if strings.Contains(string(inv.Event), `"fast"`) {
				n++
			}
		}
		return n >= 3
	})
	cancel()
	wg.Wait()
}
