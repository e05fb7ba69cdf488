package consumer

import (
	"context"
	"errors"
	"fmt"
	"os"
	"reflect"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/labchain/appointments/shared/apperr"
	"github.com/labchain/appointments/shared/held"
	"github.com/labchain/appointments/shared/idempotency"
	"github.com/labchain/appointments/shared/lambdakit"
)

func TestBatchWithPoisonRecords(t *testing.T) {
	// A batch of 10 with 3 poison records: those 3 are dead-lettered (and
	// acknowledged), the other 7 processed; nothing is retried.
	var eff effects
	c, _, dlq := newTestConsumer(t, Options{}, &eff)
	var recs []events.SQSMessage
	for i := range 10 {
		id := fmt.Sprintf("m%d", i)
		b := body(fmt.Sprintf("e%d", i), "")
		switch i {
		case 2:
			b = `{"version":1,"eventId":"e2","patient":"` + secret + `"` // undecodable
		case 5:
			b = body("e5", "invalid")
		case 8:
			b = body("e8", "permanent")
		}
		recs = append(recs, record(id, b))
	}
	cap := capture()
	resp, err := c.Handle(cap.ctx, event(recs...))
	if err != nil {
		t.Fatalf("Handle error: %v", err)
	}
	if len(resp.BatchItemFailures) != 0 {
		t.Errorf("BatchItemFailures = %v, want none", failedIDs(resp))
	}
	if eff.total() != 7 {
		t.Errorf("handler effects = %d, want 7", eff.total())
	}
	want := map[string]Reason{"m2": ReasonUndecodable, "m5": ReasonInvalid, "m8": ReasonPermanent}
	if n := len(dlq.letters()); n != 3 {
		t.Fatalf("dead letters = %d, want 3", n)
	}
	for id, reason := range want {
		dl := dlq.byOriginalID(t, id)
		if got := *dl.Attributes[AttrFailureReason].StringValue; got != string(reason) {
			t.Errorf("%s: failure-reason = %s, want %s", id, got, reason)
		}
		if dl.Body != recs[id[1]-'0'].Body {
			t.Errorf("%s: dead letter body changed", id)
		}
		if *dl.Attributes[AttrSourceQueue].StringValue != testARN || *dl.Attributes[AttrReceiveCount].StringValue != "1" ||
			dl.Attributes[AttrReceiveCount].DataType != "Number" {
			t.Errorf("%s: attributes = %v", id, dl.Attributes)
		}
		if strings.Contains(*dl.Attributes[AttrFailureDetail].StringValue, secret) {
			t.Errorf("%s: failure-detail quotes the body", id)
		}
	}

	// One log line per dead-lettered record, with messageId, dedupe key and
	// reason, and never the body.
	var dead []map[string]any
	for _, l := range lines(t, cap.logs) {
		if l["message"] == "consumer: record dead-lettered" {
			dead = append(dead, l)
		}
	}
	if len(dead) != 3 {
		t.Fatalf("dead-letter log lines = %d, want 3:\n%s", len(dead), cap.logs)
	}
	for _, l := range dead {
		id, _ := l["messageId"].(string)
		if l["reason"] != string(want[id]) || l["consumer"] != "test" {
			t.Errorf("log line %v", l)
		}
		if id == "m8" && l["dedupeKey"] != "e8" {
			t.Errorf("log line lacks the dedupe key: %v", l)
		}
	}
	if strings.Contains(cap.logs.String(), secret) {
		t.Error("logs contain the message body")
	}

	// Metrics: 7 processed, 3 dead-lettered, dimensions Consumer and Outcome.
	got := map[string]float64{}
	for _, l := range lines(t, cap.metrics) {
		if l[DimensionConsumer] != "test" {
			t.Errorf("metric line without Consumer dimension: %v", l)
		}
		if v, ok := l[MetricMessages].(float64); ok {
			o, _ := l[DimensionOutcome].(string)
			got[o] += v
		}
	}
	if !reflect.DeepEqual(got, map[string]float64{string(OutcomeProcessed): 7, string(OutcomeDeadLettered): 3}) {
		t.Errorf("metrics = %v", got)
	}
}

func TestTransientFailuresAreReported(t *testing.T) {
	var eff effects
	c, store, dlq := newTestConsumer(t, Options{}, &eff)
	resp, err := c.Handle(bg(), event(
		record("m1", body("e1", "")),
		record("m2", body("e2", "transient")),
		record("m3", body("e3", "notfound")), // NOT_FOUND is transient
		record("m4", body("e4", "panic")),
	))
	if err != nil {
		t.Fatalf("Handle error: %v", err)
	}
	if got := failedIDs(resp); !reflect.DeepEqual(got, []string{"m2", "m3", "m4"}) {
		t.Errorf("BatchItemFailures = %v, want [m2 m3 m4]", got)
	}
	if len(dlq.letters()) != 0 {
		t.Errorf("transient failures were dead-lettered")
	}
	// Their claims were released, so a retry runs the handler again.
	for _, k := range []string{"e2", "e3", "e4"} {
		if _, ok := store.get("consumer#test#" + k); ok {
			t.Errorf("claim of %s not released", k)
		}
	}
	if r, ok := store.get("consumer#test#e1"); !ok || r.Status != idempotency.StatusCompleted {
		t.Errorf("e1 record = %+v, %v", r, ok)
	}
}

func TestWholeBatchErrorOnlyWhenEveryRecordFailed(t *testing.T) {
	var eff effects
	c, _, _ := newTestConsumer(t, Options{}, &eff)

	resp, err := c.Handle(bg(), event(record("a", body("a", "transient")), record("b", body("b", "transient"))))
	if err == nil {
		t.Error("every record failed: want an error")
	}
	if got := failedIDs(resp); !reflect.DeepEqual(got, []string{"a", "b"}) {
		t.Errorf("BatchItemFailures = %v", got)
	}

	// Dead-lettered records are handled: no error.
	resp, err = c.Handle(bg(), event(record("c", "garbage"), record("d", body("d", "permanent"))))
	if err != nil || len(resp.BatchItemFailures) != 0 {
		t.Errorf("all dead-lettered: %v, %v", failedIDs(resp), err)
	}

	// One success among failures: no error.
	resp, err = c.Handle(bg(), event(record("e", body("e", "transient")), record("f", body("f", ""))))
	if err != nil || !reflect.DeepEqual(failedIDs(resp), []string{"e"}) {
		t.Errorf("mixed: %v, %v", failedIDs(resp), err)
	}

	// An empty batch is fine.
	resp, err = c.Handle(bg(), events.SQSEvent{})
	if err != nil || len(resp.BatchItemFailures) != 0 {
		t.Errorf("empty batch: %v, %v", resp, err)
	}
}

func TestEmptyMessageID(t *testing.T) {
	var eff effects
	c, _, _ := newTestConsumer(t, Options{}, &eff)
	// A failed record without an id cannot be reported: the whole batch fails.
	resp, err := c.Handle(bg(), event(record("", body("x", "transient")), record("ok", body("y", ""))))
	if err == nil || !strings.Contains(err.Error(), "messageId") {
		t.Fatalf("err = %v, want the whole batch to fail", err)
	}
	for _, f := range resp.BatchItemFailures {
		if f.ItemIdentifier == "" {
			t.Error("an empty itemIdentifier was reported")
		}
	}
	// A successful record without an id needs no report.
	if _, err := c.Handle(bg(), event(record("", body("z", "")))); err != nil {
		t.Errorf("successful record without id: %v", err)
	}
}

func TestDedupeOutcomes(t *testing.T) {
	var eff effects
	c, store, dlq := newTestConsumer(t, Options{}, &eff)
	ctx := bg()

	// First delivery runs; the same event again (new SQS message id, other
	// layout) is a duplicate and is acknowledged without running.
	if _, err := c.Handle(ctx, event(record("m1", `{"version":1,"eventId":"e1","patient":"p"}`))); err != nil {
		t.Fatal(err)
	}
	cap := capture()
	resp, err := c.Handle(cap.ctx, event(record("m2", `{ "patient":"p", "eventId":"e1", "version":1 }`)))
	if err != nil || len(resp.BatchItemFailures) != 0 || eff.get("e1") != 1 {
		t.Fatalf("duplicate: %v %v, effects %d", failedIDs(resp), err, eff.get("e1"))
	}
	if !strings.Contains(cap.metrics.String(), `"Outcome":"duplicate"`) {
		t.Error("duplicate not counted")
	}

	// Same key, different payload: permanent.
	resp, err = c.Handle(ctx, event(record("m3", `{"version":1,"eventId":"e1","patient":"q"}`)))
	if err != nil || len(resp.BatchItemFailures) != 0 || eff.get("e1") != 1 {
		t.Fatalf("mismatch: %v %v", failedIDs(resp), err)
	}
	dl := dlq.byOriginalID(t, "m3")
	if *dl.Attributes[AttrFailureReason].StringValue != string(ReasonPayloadMismatch) ||
		!strings.Contains(*dl.Attributes[AttrFailureDetail].StringValue, "dedupe key reused with a different payload") {
		t.Errorf("mismatch dead letter = %v", dl.Attributes)
	}

	// In progress elsewhere: retried, handler not run.
	now := time.Now()
	if _, err := store.Begin(ctx, idempotency.Record{Key: "consumer#test#e9", Hash: "other", Status: idempotency.StatusInProgress,
		InProgressUntil: now.Add(time.Minute), ExpiresAt: now.Add(time.Hour)}, now); err != nil {
		t.Fatal(err)
	}
	resp, _ = c.Handle(ctx, event(record("m9", body("e9", ""))))
	if !reflect.DeepEqual(failedIDs(resp), []string{"m9"}) || eff.get("e9") != 0 {
		t.Errorf("in progress: %v, effects %d", failedIDs(resp), eff.get("e9"))
	}
	// Once the other invocation's claim lapses, the retry runs. (The lapse:
	// a later claim, itself already lapsed, takes the key over.)
	if _, err := store.Begin(ctx, idempotency.Record{Key: "consumer#test#e9", Hash: "other", Status: idempotency.StatusInProgress,
		InProgressUntil: now.Add(-time.Second), ExpiresAt: now.Add(time.Hour)}, now.Add(2*time.Minute)); err != nil {
		t.Fatal(err)
	}
	resp, _ = c.Handle(ctx, event(record("m9", body("e9", ""))))
	if len(resp.BatchItemFailures) != 0 || eff.get("e9") != 1 {
		t.Errorf("after lapse: %v, effects %d", failedIDs(resp), eff.get("e9"))
	}

	// The store down: retried.
	store.beginErr = errors.New("throttled")
	resp, _ = c.Handle(ctx, event(record("m10", body("e10", ""))))
	if !reflect.DeepEqual(failedIDs(resp), []string{"m10"}) || eff.get("e10") != 0 {
		t.Errorf("store down: %v", failedIDs(resp))
	}
}

func TestClaimLifecycle(t *testing.T) {
	var eff effects
	fixed := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	c, store, _ := newTestConsumer(t, Options{Now: func() time.Time { return fixed }, DedupeTTL: 48 * time.Hour, VisibilityTimeout: 90 * time.Second}, &eff)

	var seen idempotency.Record
	c.handle = func(ctx context.Context, m testMsg, meta Meta) error {
		seen, _ = store.get("consumer#test#" + m.EventID)
		return nil
	}
	if _, err := c.Handle(bg(), event(record("m1", body("e1", "")))); err != nil {
		t.Fatal(err)
	}
	// Without a deadline the claim lasts the visibility timeout.
	if seen.Status != idempotency.StatusInProgress || !seen.InProgressUntil.Equal(fixed.Add(90*time.Second)) {
		t.Errorf("claim while running = %+v", seen)
	}
	done, _ := store.get("consumer#test#e1")
	if done.Status != idempotency.StatusCompleted || !done.ExpiresAt.Equal(fixed.Add(48*time.Hour)) {
		t.Errorf("completed record = %+v", done)
	}

	// With a deadline (inside Lambda) the claim lasts until it.
	deadline := time.Now().Add(time.Minute).Truncate(time.Millisecond)
	ctx, cancel := context.WithDeadline(bg(), deadline)
	defer cancel()
	if _, err := c.Handle(ctx, event(record("m2", body("e2", "")))); err != nil {
		t.Fatal(err)
	}
	if !seen.InProgressUntil.Equal(deadline) {
		t.Errorf("InProgressUntil = %v, want the deadline %v", seen.InProgressUntil, deadline)
	}

	// An invocation already out of time claims nothing and retries.
	expired, cancel2 := context.WithDeadline(bg(), time.Now().Add(-time.Second))
	defer cancel2()
	before := store.count("begin")
	resp, _ := c.Handle(expired, event(record("m3", body("e3", ""))))
	if !reflect.DeepEqual(failedIDs(resp), []string{"m3"}) || store.count("begin") != before {
		t.Errorf("expired invocation: %v, begins %d -> %d", failedIDs(resp), before, store.count("begin"))
	}
}

func TestMetaIsPassed(t *testing.T) {
	var got Meta
	store, dlq := newMemStore(), &fakeDLQ{}
	c := New(Options{Name: "meta", Store: store, DeadLetters: dlq}, func(_ context.Context, _ testMsg, m Meta) error {
		got = m
		return nil
	})
	r := record("m1", body("e1", ""))
	r.Attributes["ApproximateReceiveCount"] = "3"
	r.Attributes["MessageGroupId"] = "g1"
	v := "v"
	r.MessageAttributes["kind"] = events.SQSMessageAttribute{DataType: "String", StringValue: &v}
	if _, err := c.Handle(bg(), event(r)); err != nil {
		t.Fatal(err)
	}
	if got.MessageID != "m1" || got.ReceiveCount != 3 || !got.SentAt.Equal(time.UnixMilli(1764060000000)) ||
		got.EventSourceARN != testARN || got.MessageGroupID != "g1" || *got.Attributes["kind"].StringValue != "v" {
		t.Errorf("meta = %+v", got)
	}
}

func TestDeadLetterSendFailureRetries(t *testing.T) {
	var eff effects
	c, _, dlq := newTestConsumer(t, Options{}, &eff)
	dlq.err = errors.New("dlq unavailable")
	resp, err := c.Handle(bg(), event(record("m1", "not json"), record("m2", body("e2", ""))))
	if err != nil {
		t.Fatal(err)
	}
	// Never lose a message: it is retried rather than acknowledged.
	if !reflect.DeepEqual(failedIDs(resp), []string{"m1"}) {
		t.Errorf("BatchItemFailures = %v, want [m1]", failedIDs(resp))
	}
}

func TestDeadLetterAttributes(t *testing.T) {
	var eff effects
	c, _, dlq := newTestConsumer(t, Options{}, &eff)
	r := record("m1", body("e1", "permanent"))
	str := func(s string) *string { return &s }
	// 9 producer attributes, one clashing with ours: 5 ours + 5 theirs fit.
	for i := range 7 {
		r.MessageAttributes[fmt.Sprintf("attr%d", i)] = events.SQSMessageAttribute{DataType: "String", StringValue: str("v")}
	}
	r.MessageAttributes["traceparent"] = events.SQSMessageAttribute{DataType: "String", StringValue: str("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")}
	r.MessageAttributes[AttrFailureReason] = events.SQSMessageAttribute{DataType: "String", StringValue: str("forged")}
	r.MessageAttributes["aBlob"] = events.SQSMessageAttribute{DataType: "Binary", BinaryValue: []byte{1, 2}}
	r.Attributes["AWSTraceHeader"] = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"

	cap := capture()
	if _, err := c.Handle(cap.ctx, event(r)); err != nil {
		t.Fatal(err)
	}
	dl := dlq.byOriginalID(t, "m1")
	if len(dl.Attributes) != MaxMessageAttributes {
		t.Fatalf("%d attributes, want %d: %v", len(dl.Attributes), MaxMessageAttributes, dl.Attributes)
	}
	for _, k := range append(DeadLetterAttributes, "traceparent", "aBlob", "attr0", "attr1", "attr2") {
		if _, ok := dl.Attributes[k]; !ok {
			t.Errorf("attribute %s missing", k)
		}
	}
	if *dl.Attributes[AttrFailureReason].StringValue != string(ReasonPermanent) {
		t.Error("a producer attribute overrode failure-reason")
	}
	if dl.TraceHeader != r.Attributes["AWSTraceHeader"] || dl.MessageGroupID != "" || dl.DeduplicationID != "" {
		t.Errorf("dead letter = %+v", dl)
	}
	var warned bool
	for _, l := range lines(t, cap.logs) {
		if strings.Contains(l["message"].(string), "attribute limit") {
			warned = fmt.Sprint(l["dropped"]) == "[attr3 attr4 attr5 attr6]"
		}
	}
	if !warned {
		t.Errorf("no log line names the dropped attributes:\n%s", cap.logs)
	}
}

func TestFailureDetailIsBounded(t *testing.T) {
	store, dlq := newMemStore(), &fakeDLQ{}
	c := New(Options{Name: "t", Store: store, DeadLetters: dlq}, func(context.Context, testMsg, Meta) error {
		return apperr.MarkPermanent(errors.New(strings.Repeat("x", 5000)))
	})
	if _, err := c.Handle(bg(), event(record("m1", body("e1", "")))); err != nil {
		t.Fatal(err)
	}
	if d := *dlq.byOriginalID(t, "m1").Attributes[AttrFailureDetail].StringValue; len(d) > 1024 {
		t.Errorf("failure-detail is %d bytes", len(d))
	}
}

func TestConcurrencyBoundAndOrder(t *testing.T) {
	for _, conc := range []int{1, 3} {
		t.Run(fmt.Sprint(conc), func(t *testing.T) {
			var running, peak atomic.Int32
			var mu sync.Mutex
			var order []string
			store, dlq := newMemStore(), &fakeDLQ{}
			c := New(Options{Name: "t", Store: store, DeadLetters: dlq, Concurrency: conc}, func(_ context.Context, m testMsg, _ Meta) error {
				n := running.Add(1)
				defer running.Add(-1)
				for {
					p := peak.Load()
					if n <= p || peak.CompareAndSwap(p, n) {
						break
					}
				}
				time.Sleep(5 * time.Millisecond)
				mu.Lock()
				order = append(order, m.EventID)
				mu.Unlock()
				return nil
			})
			var recs []events.SQSMessage
			var want []string
			for i := range 12 {
				k := fmt.Sprintf("e%02d", i)
				recs = append(recs, record("m"+k, body(k, "")))
				want = append(want, k)
			}
			if _, err := c.Handle(bg(), event(recs...)); err != nil {
				t.Fatal(err)
			}
			if int(peak.Load()) != conc {
				t.Errorf("peak concurrency = %d, want %d", peak.Load(), conc)
			}
			if conc == 1 && !reflect.DeepEqual(order, want) {
				t.Errorf("order = %v, want batch order", order)
			}
			sort.Strings(order)
			if !reflect.DeepEqual(order, want) {
				t.Errorf("processed = %v", order)
			}
		})
	}
}

func TestSameKeyTwiceInOneBatch(t *testing.T) {
	var eff effects
	c, _, _ := newTestConsumer(t, Options{Concurrency: 4}, &eff)
	resp, err := c.Handle(bg(), event(
		record("m1", body("dup", "")), record("m2", body("x", "")), record("m3", body("dup", "")), record("m4", body("dup", "")),
	))
	if err != nil || len(resp.BatchItemFailures) != 0 {
		t.Fatalf("%v %v", failedIDs(resp), err)
	}
	if eff.get("dup") != 1 || eff.get("x") != 1 {
		t.Errorf("effects dup=%d x=%d, want 1 each", eff.get("dup"), eff.get("x"))
	}
}

func TestSameKeyInTwoConcurrentInvocations(t *testing.T) {
	store, dlq := newMemStore(), &fakeDLQ{}
	entered, release := make(chan struct{}), make(chan struct{})
	var runs atomic.Int32
	c := New(Options{Name: "t", Store: store, DeadLetters: dlq}, func(context.Context, testMsg, Meta) error {
		if runs.Add(1) == 1 {
			close(entered)
			<-release
		}
		return nil
	})
	first := make(chan events.SQSEventResponse)
	go func() {
		resp, _ := c.Handle(bg(), event(record("m1", body("e1", ""))))
		first <- resp
	}()
	<-entered
	// SQS delivers the same event again (another message id) while the first
	// invocation still runs: it must be retried later, not run.
	resp, err := c.Handle(bg(), event(record("m2", body("e1", ""))))
	if !reflect.DeepEqual(failedIDs(resp), []string{"m2"}) || err == nil {
		t.Errorf("concurrent duplicate: %v, %v", failedIDs(resp), err)
	}
	close(release)
	if r := <-first; len(r.BatchItemFailures) != 0 {
		t.Errorf("first invocation: %v", failedIDs(r))
	}
	// The retry finds the completed record: a duplicate.
	resp, err = c.Handle(bg(), event(record("m2", body("e1", ""))))
	if err != nil || len(resp.BatchItemFailures) != 0 || runs.Load() != 1 {
		t.Errorf("retry: %v %v, runs %d", failedIDs(resp), err, runs.Load())
	}
}

func TestFIFOStopsAtFirstFailure(t *testing.T) {
	var eff effects
	c, _, dlq := newTestConsumer(t, Options{Concurrency: 5}, &eff)
	fifo := func(id, b string) events.SQSMessage {
		r := record(id, b)
		r.EventSourceARN = testARN + ".fifo"
		r.Attributes["MessageGroupId"] = "g1"
		return r
	}
	resp, err := c.Handle(bg(), event(
		fifo("m1", body("e1", "")),
		fifo("m2", "poison"), // dead-lettered: does not stop the batch
		fifo("m3", body("e3", "transient")),
		fifo("m4", body("e4", "")),
		fifo("m5", body("e5", "")),
	))
	if err != nil {
		t.Fatal(err)
	}
	if got := failedIDs(resp); !reflect.DeepEqual(got, []string{"m3", "m4", "m5"}) {
		t.Errorf("BatchItemFailures = %v, want [m3 m4 m5]", got)
	}
	if eff.get("e1") != 1 || eff.get("e4") != 0 || eff.get("e5") != 0 {
		t.Errorf("effects = %v", eff.n)
	}
	dl := dlq.byOriginalID(t, "m2")
	if dl.MessageGroupID != "g1" || dl.DeduplicationID != "m2" {
		t.Errorf("FIFO dead letter = %+v", dl)
	}
}

func TestOptionsAreValidated(t *testing.T) {
	store, dlq := newMemStore(), &fakeDLQ{}
	h := func(context.Context, testMsg, Meta) error { return nil }
	for name, o := range map[string]Options{
		"no name":       {Store: store, DeadLetters: dlq},
		"bad name":      {Name: "a#b", Store: store, DeadLetters: dlq},
		"no store":      {Name: "n", DeadLetters: dlq},
		"no dlq":        {Name: "n", Store: store},
		"short ttl":     {Name: "n", Store: store, DeadLetters: dlq, DedupeTTL: time.Hour},
		"negative conc": {Name: "n", Store: store, DeadLetters: dlq, Concurrency: -1},
	} {
		t.Run(name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Error("New accepted invalid options")
				}
			}()
			New(o, h)
		})
	}
	c := New(Options{Name: "n", Store: store, DeadLetters: dlq}, h)
	if c.opts.DedupeTTL != DefaultDedupeTTL || c.opts.Concurrency != 1 || c.opts.VisibilityTimeout != DefaultVisibilityTimeout {
		t.Errorf("defaults = %+v", c.opts)
	}
	if c.Name() != "n" {
		t.Errorf("Name() = %q", c.Name())
	}
}

// Handle has the signature lambdakit.StartTyped needs.
var _ func(context.Context, events.SQSEvent) (events.SQSEventResponse, error) = (*Consumer[testMsg])(nil).Handle

func TestLambdaWireFormat(t *testing.T) {
	// The event as Lambda sends it (testdata/sqs-event.json) in, the partial
	// batch response as Lambda reads it out, through lambdakit's adapter.
	payload, err := os.ReadFile("testdata/sqs-event.json")
	if err != nil {
		t.Fatal(err)
	}
	var eff effects
	c, _, dlq := newTestConsumer(t, Options{}, &eff)
	out, err := lambdakit.TypedHandler(c.Handle).Invoke(bg(), payload)
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"batchItemFailures":[{"itemIdentifier":"2e1424d4-f796-459a-8184-9c92662be6da"}]}`; string(out) != want {
		t.Errorf("response = %s, want %s", out, want)
	}
	if eff.get("evt_01JDQ8T7M3") != 1 {
		t.Error("the valid record was not processed")
	}
	dl := dlq.byOriginalID(t, "c80e8021-a70a-42c7-a470-796e1186f753")
	if dl.Body != "Hello from SQS!" || *dl.Attributes[AttrFailureReason].StringValue != string(ReasonUndecodable) ||
		*dl.Attributes[AttrSourceQueue].StringValue != "arn:aws:sqs:ap-southeast-1:123456789012:NotificationsQueue" {
		t.Errorf("dead letter = %+v", dl)
	}

	// Every record failing: Lambda gets a function error.
	c2, _, _ := newTestConsumer(t, Options{Name: "other"}, &eff)
	one := []byte(`{"Records":[{"messageId":"a","body":"{\"version\":1,\"eventId\":\"x\",\"action\":\"transient\"}","eventSourceARN":"arn:aws:sqs:ap-southeast-1:123456789012:q"}]}`)
	if _, err := lambdakit.TypedHandler(c2.Handle).Invoke(bg(), one); err == nil {
		t.Error("all records failed but no function error")
	}
}

// recDelayer records the delays asked for, per message id.
type recDelayer struct {
	mu   sync.Mutex
	got  map[string]time.Duration
	fail bool
}

func (d *recDelayer) Delay(_ context.Context, r events.SQSMessage, delay time.Duration) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.fail {
		return errors.New("ChangeMessageVisibility refused")
	}
	d.got[r.MessageId] = delay
	return nil
}

// TestHeldDelaysRedelivery: a Held error (apperr.HoldUntil) is retried
// (reported, claim released) and its message the Delayer hides until the
// hold's time, counted from the consumer's clock and capped at SQS's 12
// hours; other transient failures are not delayed; a failing Delayer leaves
// the plain retry.
func TestHeldDelaysRedelivery(t *testing.T) {
	var eff effects
	d := &recDelayer{got: map[string]time.Duration{}}
	c, store, dlq := newTestConsumer(t, Options{Delayer: d, Now: func() time.Time { return testNow }}, &eff)
	resp, err := c.Handle(bg(), event(
		record("m1", body("e1", "later")),
		record("m2", body("e2", "much-later")),
		record("m3", body("e3", "transient")),
		record("m4", body("e4", "")),
	))
	if err != nil {
		t.Fatal(err)
	}
	if got := failedIDs(resp); !reflect.DeepEqual(got, []string{"m1", "m2", "m3"}) {
		t.Fatalf("BatchItemFailures = %v", got)
	}
	if !reflect.DeepEqual(d.got, map[string]time.Duration{"m1": 7 * time.Hour, "m2": MaxRetryDelay}) {
		t.Fatalf("delays = %v", d.got)
	}
	if _, ok := store.get("consumer#test#e1"); ok || len(dlq.letters()) != 0 {
		t.Fatal("a held message kept its claim or was dead-lettered")
	}
	// A Delayer that fails does not fail the record any worse.
	d.fail = true
	resp, err = c.Handle(bg(), event(record("m5", body("e5", "later")), record("m6", body("e6", ""))))
	if err != nil || !reflect.DeepEqual(failedIDs(resp), []string{"m5"}) {
		t.Fatalf("with a failing Delayer: %v %v", failedIDs(resp), err)
	}
}

// recHolder records the holds it is given, or fails.
type recHolder struct {
	got  []held.Message
	fail bool
}

func (h *recHolder) Hold(_ context.Context, m held.Message) error {
	if h.fail {
		return errors.New("table unavailable")
	}
	h.got = append(h.got, m)
	return nil
}

// TestHeldGoesToTheHolder: with a Holder, a Held message is kept outside
// the queue with its body, string attributes and time, its claim released,
// and acknowledged: a batch of only held messages reports no failure. A
// Holder that fails leaves the message to the Delayer, as without one.
func TestHeldGoesToTheHolder(t *testing.T) {
	var eff effects
	d := &recDelayer{got: map[string]time.Duration{}}
	h := &recHolder{}
	c, store, _ := newTestConsumer(t, Options{Delayer: d, Holder: h, Now: func() time.Time { return testNow }}, &eff)
	r1 := record("m1", body("e1", "later"))
	tp := "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
	r1.MessageAttributes = map[string]events.SQSMessageAttribute{"traceparent": {DataType: "String", StringValue: &tp}}
	resp, err := c.Handle(bg(), event(r1, record("m2", body("e2", "later"))))
	if err != nil || len(resp.BatchItemFailures) != 0 {
		t.Fatalf("batch of held messages: failures %v, %v", failedIDs(resp), err)
	}
	if len(h.got) != 2 || len(d.got) != 0 {
		t.Fatalf("holds %d, delays %v", len(h.got), d.got)
	}
	var m held.Message
	for _, g := range h.got {
		if g.Key == "consumer#test#e1" {
			m = g
		}
	}
	if m.Body != r1.Body || m.Attributes["traceparent"] != tp || !m.Until.Equal(testNow.Add(7*time.Hour)) {
		t.Fatalf("hold of e1: %+v", m)
	}
	if _, ok := store.get("consumer#test#e1"); ok {
		t.Fatal("a held message kept its claim")
	}
	h.fail = true
	resp, err = c.Handle(bg(), event(record("m3", body("e3", "later"))))
	if err == nil && len(resp.BatchItemFailures) == 0 || d.got["m3"] != 7*time.Hour {
		t.Fatalf("with a failing Holder: failures %v, %v, delays %v", failedIDs(resp), err, d.got)
	}
}
