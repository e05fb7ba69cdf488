package sqsx

import (
	"context"
	"errors"
	"fmt"
	"os"
	"reflect"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/labchain/appointments/shared/consumer"
	"github.com/labchain/appointments/shared/testenv"
)

func TestMain(m *testing.M) { os.Exit(testenv.Main(m)) }

func entries(n int, prefix string) []Entry {
	var out []Entry
	for i := range n {
		id := fmt.Sprintf("%s%02d", prefix, i)
		out = append(out, Entry{ID: id, Body: `{"id":"` + id + `"}`, Attributes: map[string]string{"ce-type": "appointment.booked", "entry": id}})
	}
	return out
}

func TestPlan(t *testing.T) {
	sizes := func(batches [][]Entry) []int {
		var out []int
		for _, b := range batches {
			out = append(out, len(b))
		}
		return out
	}
	if got := sizes(plan(entries(25, "e"))); !reflect.DeepEqual(got, []int{10, 10, 5}) {
		t.Errorf("25 small entries: %v", got)
	}
	big := strings.Repeat("x", 100*1024)
	var bigs []Entry
	for i := range 5 {
		bigs = append(bigs, Entry{ID: fmt.Sprint(i), Body: big})
	}
	if got := sizes(plan(bigs)); !reflect.DeepEqual(got, []int{2, 2, 1}) {
		t.Errorf("100 KiB entries: %v, want [2 2 1]", got)
	}
	full := Entry{ID: "full", Body: strings.Repeat("x", MaxBatchBytes)}
	if got := sizes(plan([]Entry{{ID: "a", Body: "a"}, full, {ID: "b", Body: "b"}})); !reflect.DeepEqual(got, []int{1, 1, 1}) {
		t.Errorf("a full-size entry shares no batch: %v", got)
	}
	for _, b := range plan(append(bigs, entries(30, "s")...)) {
		n := 0
		for _, e := range b {
			n += e.size()
		}
		if n > MaxBatchBytes || len(b) > MaxBatchEntries {
			t.Errorf("batch of %d entries, %d bytes", len(b), n)
		}
	}
	if (Entry{Body: "ab", Attributes: map[string]string{"k": "vv"}}).size() != 2+1+6+2 {
		t.Error("size must count attribute name, type and value")
	}
}

func TestBackoff(t *testing.T) {
	b := &BatchSender{BaseDelay: 100 * time.Millisecond, MaxDelay: time.Second}
	for n, want := range map[int]time.Duration{1: 100 * time.Millisecond, 2: 200 * time.Millisecond, 3: 400 * time.Millisecond, 5: time.Second, 30: time.Second} {
		for range 20 {
			if d := b.backoff(n); d < want/2 || d > want {
				t.Errorf("backoff(%d) = %v, want in [%v, %v]", n, d, want/2, want)
			}
		}
	}
}

func TestSendAllRejectsBadIDs(t *testing.T) {
	b := NewBatchSender(nil) // never called
	for _, es := range [][]Entry{
		{{ID: "a", Body: "x"}, {ID: "a", Body: "y"}},
		{{ID: "", Body: "x"}},
		{{ID: "has space", Body: "x"}},
		{{ID: strings.Repeat("i", 81), Body: "x"}},
	} {
		if failed, err := b.SendAll(context.Background(), "u", es); err == nil || failed != nil {
			t.Errorf("SendAll(%v) = %v, %v", es, failed, err)
		}
	}
}

// recorder wraps the real client: it records the entry ids of each request
// and can inject per-entry failures (the entry is then not forwarded to SQS
// and is reported as failed, as SQS does).
type recorder struct {
	SendMessageBatchAPI
	mu     sync.Mutex
	calls  [][]string
	inject func(call int, id string) *types.BatchResultErrorEntry
}

func (r *recorder) SendMessageBatch(ctx context.Context, in *sqs.SendMessageBatchInput, opts ...func(*sqs.Options)) (*sqs.SendMessageBatchOutput, error) {
	r.mu.Lock()
	call := len(r.calls)
	var ids []string
	fwd := *in
	fwd.Entries = nil
	var injected []types.BatchResultErrorEntry
	for _, e := range in.Entries {
		id := aws.ToString(e.Id)
		ids = append(ids, id)
		if r.inject != nil {
			if f := r.inject(call, id); f != nil {
				f.Id = e.Id
				injected = append(injected, *f)
				continue
			}
		}
		fwd.Entries = append(fwd.Entries, e)
	}
	r.calls = append(r.calls, ids)
	r.mu.Unlock()
	out := &sqs.SendMessageBatchOutput{}
	if len(fwd.Entries) > 0 {
		var err error
		if out, err = r.SendMessageBatchAPI.SendMessageBatch(ctx, &fwd, opts...); err != nil {
			return nil, err
		}
	}
	out.Failed = append(out.Failed, injected...)
	return out, nil
}

// drain receives every message of a queue (until a receive comes back
// empty) and deletes them.
func drain(t *testing.T, c *sqs.Client, url string) []types.Message {
	t.Helper()
	ctx := context.Background()
	var all []types.Message
	for {
		out, err := c.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{
			QueueUrl: aws.String(url), MaxNumberOfMessages: 10, WaitTimeSeconds: 1,
			MessageAttributeNames:       []string{"All"},
			MessageSystemAttributeNames: []types.MessageSystemAttributeName{types.MessageSystemAttributeNameAll},
		})
		if err != nil {
			t.Fatalf("receive: %v", err)
		}
		if len(out.Messages) == 0 {
			return all
		}
		for _, m := range out.Messages {
			if _, err := c.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: aws.String(url), ReceiptHandle: m.ReceiptHandle}); err != nil {
				t.Fatalf("delete: %v", err)
			}
		}
		all = append(all, out.Messages...)
	}
}

func bodies(msgs []types.Message) []string {
	var out []string
	for _, m := range msgs {
		out = append(out, aws.ToString(m.Body))
	}
	sort.Strings(out)
	return out
}

func wantBodies(es []Entry) []string {
	var out []string
	for _, e := range es {
		out = append(out, e.Body)
	}
	sort.Strings(out)
	return out
}

func TestSendAllDelivers(t *testing.T) {
	c := testenv.SQS(t)
	url, _ := testenv.NewQueue(t, c, false, 0)
	rec := &recorder{SendMessageBatchAPI: c}
	b := NewBatchSender(rec)
	es := entries(25, "e")
	all := append(append([]Entry{}, es...),
		Entry{ID: "huge", Body: strings.Repeat("x", MaxBatchBytes+1)},
		Entry{ID: "empty"},
	)
	failed, err := b.SendAll(context.Background(), url, all)
	if err != nil {
		t.Fatal(err)
	}
	if len(failed) != 2 || !errors.Is(failed["huge"], ErrTooLarge) || !errors.Is(failed["empty"], ErrEmptyBody) {
		t.Fatalf("failed = %v", failed)
	}
	if len(rec.calls) != 3 {
		t.Errorf("%d requests, want 3 (10+10+5)", len(rec.calls))
	}
	got := drain(t, c, url)
	if !reflect.DeepEqual(bodies(got), wantBodies(es)) {
		t.Fatalf("received %d messages, want the 25 sent", len(got))
	}
	for _, m := range got {
		if aws.ToString(m.MessageAttributes["ce-type"].StringValue) != "appointment.booked" ||
			aws.ToString(m.MessageAttributes["entry"].StringValue) == "" {
			t.Errorf("attributes = %v", m.MessageAttributes)
		}
	}
}

func TestSendAllRetriesOnlyFailedEntries(t *testing.T) {
	c := testenv.SQS(t)
	url, _ := testenv.NewQueue(t, c, false, 0)
	flaky := map[string]bool{"e03": true, "e11": true, "e17": true}
	rec := &recorder{SendMessageBatchAPI: c, inject: func(call int, id string) *types.BatchResultErrorEntry {
		if call < 2 && flaky[id] { // the first round: 2 requests
			return &types.BatchResultErrorEntry{Code: aws.String("InternalError"), Message: aws.String("try again"), SenderFault: false}
		}
		if call < 2 && id == "e05" {
			return &types.BatchResultErrorEntry{Code: aws.String("InvalidParameterValue"), Message: aws.String("bad"), SenderFault: true}
		}
		return nil
	}}
	b := NewBatchSender(rec)
	b.BaseDelay = time.Millisecond
	es := entries(20, "e")
	failed, err := b.SendAll(context.Background(), url, es)
	if err != nil {
		t.Fatal(err)
	}
	var ee *EntryError
	if len(failed) != 1 || !errors.As(failed["e05"], &ee) || !ee.SenderFault || ee.Code != "InvalidParameterValue" {
		t.Fatalf("failed = %v, want only e05 (sender's fault, not retried)", failed)
	}
	if len(rec.calls) != 3 || !reflect.DeepEqual(rec.calls[2], []string{"e03", "e11", "e17"}) {
		t.Errorf("requests = %v, want 2 then a retry of exactly the 3 flaky entries", rec.calls)
	}
	var want []Entry
	for _, e := range es {
		if e.ID != "e05" {
			want = append(want, e)
		}
	}
	if got := drain(t, c, url); !reflect.DeepEqual(bodies(got), wantBodies(want)) {
		t.Errorf("received %v", bodies(got))
	}
}

func TestSendAllGivesUpAfterMaxAttempts(t *testing.T) {
	c := testenv.SQS(t)
	url, _ := testenv.NewQueue(t, c, false, 0)
	rec := &recorder{SendMessageBatchAPI: c, inject: func(_ int, id string) *types.BatchResultErrorEntry {
		if id == "e01" {
			return &types.BatchResultErrorEntry{Code: aws.String("KmsThrottled"), Message: aws.String("slow down"), SenderFault: true}
		}
		return nil
	}}
	b := NewBatchSender(rec)
	b.MaxAttempts, b.BaseDelay = 3, time.Millisecond
	failed, err := b.SendAll(context.Background(), url, entries(4, "e"))
	if err != nil {
		t.Fatal(err)
	}
	var ee *EntryError
	if len(failed) != 1 || !errors.As(failed["e01"], &ee) || ee.Code != "KmsThrottled" {
		t.Fatalf("failed = %v", failed)
	}
	if len(rec.calls) != 3 {
		t.Errorf("%d requests, want 3 attempts (throttling is retried even as a sender fault)", len(rec.calls))
	}
	if n := len(drain(t, c, url)); n != 3 {
		t.Errorf("received %d, want 3", n)
	}
}

func TestSendAllRequestErrors(t *testing.T) {
	c := testenv.SQS(t)
	url, _ := testenv.NewQueue(t, c, false, 0)
	rec := &recorder{SendMessageBatchAPI: c}
	b := NewBatchSender(rec)
	b.BaseDelay = time.Millisecond

	// A queue that does not exist: the request's fault, not retried.
	missing := url + "-missing"
	failed, err := b.SendAll(context.Background(), missing, entries(12, "e"))
	if err != nil {
		t.Fatal(err)
	}
	if len(failed) != 12 || len(rec.calls) != 2 {
		t.Errorf("missing queue: %d failed, %d requests; want 12 and 2", len(failed), len(rec.calls))
	}
	if !strings.Contains(failed["e00"].Error(), "SendMessageBatch") {
		t.Errorf("error = %v", failed["e00"])
	}

	// ctx ending during the backoff: err, and the pending entries failed.
	rec.calls = nil
	rec.inject = func(_ int, id string) *types.BatchResultErrorEntry {
		if id == "e02" {
			return &types.BatchResultErrorEntry{Code: aws.String("InternalError"), Message: aws.String("x")}
		}
		return nil
	}
	b.BaseDelay, b.MaxDelay = time.Hour, time.Hour
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	failed, err = b.SendAll(ctx, url, entries(5, "e"))
	if !errors.Is(err, context.DeadlineExceeded) || len(failed) != 1 || !errors.Is(failed["e02"], context.DeadlineExceeded) {
		t.Errorf("cancelled: %v, %v", failed, err)
	}
}

func TestDLQSendsDeadLetters(t *testing.T) {
	c := testenv.SQS(t)
	url, _ := testenv.NewQueue(t, c, false, 0)
	d := NewDLQ(c, url)
	s := func(v string) *string { return &v }
	dl := consumer.DeadLetter{
		Body: `{"id":"x"}`,
		Attributes: map[string]events.SQSMessageAttribute{
			consumer.AttrFailureReason: {DataType: "String", StringValue: s("invalid")},
			consumer.AttrReceiveCount:  {DataType: "Number", StringValue: s("2")},
			"traceparent":              {DataType: "String", StringValue: s("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")},
			"blob":                     {DataType: "Binary", BinaryValue: []byte{0, 1, 2}},
		},
		TraceHeader: "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1",
	}
	if err := d.SendDeadLetter(context.Background(), dl); err != nil {
		t.Fatal(err)
	}
	got := drain(t, c, url)
	if len(got) != 1 || aws.ToString(got[0].Body) != dl.Body {
		t.Fatalf("received %v", got)
	}
	a := got[0].MessageAttributes
	if aws.ToString(a[consumer.AttrFailureReason].StringValue) != "invalid" ||
		aws.ToString(a[consumer.AttrReceiveCount].DataType) != "Number" || aws.ToString(a[consumer.AttrReceiveCount].StringValue) != "2" ||
		!reflect.DeepEqual(a["blob"].BinaryValue, []byte{0, 1, 2}) || aws.ToString(a["traceparent"].StringValue) == "" {
		t.Errorf("attributes = %+v", a)
	}

	// A send that fails is reported (the consumer then retries the record).
	if err := NewDLQ(c, url+"-missing").SendDeadLetter(context.Background(), dl); err == nil {
		t.Error("sending to a missing queue succeeded")
	}
}

func TestSendAllSenderFaultFromSQS(t *testing.T) {
	// SQS itself refuses an entry (a reserved attribute name): reported, not
	// retried, and the other entries of the batch are sent.
	c := testenv.SQS(t)
	url, _ := testenv.NewQueue(t, c, false, 0)
	rec := &recorder{SendMessageBatchAPI: c}
	b := NewBatchSender(rec)
	es := entries(3, "e")
	es[1].Attributes = map[string]string{"AWS.reserved": "v"}
	failed, err := b.SendAll(context.Background(), url, es)
	if err != nil {
		t.Fatal(err)
	}
	var ee *EntryError
	if len(failed) != 1 || !errors.As(failed["e01"], &ee) || !ee.SenderFault || ee.Code == "" {
		t.Fatalf("failed = %v", failed)
	}
	if len(rec.calls) != 1 {
		t.Errorf("%d requests, want 1", len(rec.calls))
	}
	if n := len(drain(t, c, url)); n != 2 {
		t.Errorf("received %d, want 2", n)
	}
}
