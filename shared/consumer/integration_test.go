package consumer

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/labchain/appointments/shared/dynamo"
	"github.com/labchain/appointments/shared/idempotency"
	"github.com/labchain/appointments/shared/testenv"
)

// The DynamoDB store is the production IdempotencyStore.
var _ IdempotencyStore = (*dynamo.Store)(nil)

// dynamoStore returns a DynamoDB store on a fresh table in DynamoDB Local
// (skipped in -short mode).
func dynamoStore(t *testing.T) *dynamo.Store {
	t.Helper()
	client, table := testenv.Table(t)
	return dynamo.New(client, table)
}

// deliver invokes h with batch as Lambda would and returns the records SQS
// would deliver again: all of them if h returned an error, else those named
// in BatchItemFailures.
func deliver(t *testing.T, h func(context.Context, events.SQSEvent) (events.SQSEventResponse, error), batch []events.SQSMessage) []events.SQSMessage {
	t.Helper()
	if len(batch) == 0 {
		return nil
	}
	ctx, cancel := context.WithTimeout(bg(), 30*time.Second) // a Lambda deadline
	defer cancel()
	resp, err := h(ctx, event(batch...))
	if err != nil {
		return batch
	}
	failed := map[string]bool{}
	for _, f := range resp.BatchItemFailures {
		failed[f.ItemIdentifier] = true
	}
	var again []events.SQSMessage
	for _, r := range batch {
		if failed[r.MessageId] {
			again = append(again, r)
		}
	}
	return again
}

func TestIntegrationEveryMessageThreeTimesOneEffect(t *testing.T) {
	// Every message is delivered 3 times (as SQS at-least-once delivery and
	// producer retries do), two of them concurrently in two invocations,
	// each with its own SQS message id: the handler's effect happens once.
	store := dynamoStore(t)
	var eff effects
	var mu sync.Mutex
	running := map[string]int{}
	overlap := false
	c := New(Options{Name: "integ", Store: store, DeadLetters: &fakeDLQ{}, Concurrency: 4},
		func(_ context.Context, m testMsg, _ Meta) error {
			mu.Lock()
			running[m.EventID]++
			if running[m.EventID] > 1 {
				overlap = true
			}
			mu.Unlock()
			time.Sleep(10 * time.Millisecond) // widen the race window
			mu.Lock()
			running[m.EventID]--
			mu.Unlock()
			eff.add(m.EventID)
			return nil
		})

	const n = 20
	copies := func(copy int, reverse bool) []events.SQSMessage {
		var out []events.SQSMessage
		for i := range n {
			k := i
			if reverse {
				k = n - 1 - i
			}
			r := record(fmt.Sprintf("m%d-%d", k, copy), body(fmt.Sprintf("e%d", k), ""))
			r.Attributes["ApproximateReceiveCount"] = "1"
			out = append(out, r)
		}
		return out
	}

	var wg sync.WaitGroup
	var retryA, retryB []events.SQSMessage
	wg.Add(2)
	go func() { defer wg.Done(); retryA = deliver(t, c.Handle, copies(1, false)) }()
	go func() { defer wg.Done(); retryB = deliver(t, c.Handle, copies(2, true)) }()
	wg.Wait()
	t.Logf("concurrent deliveries to retry: %d and %d", len(retryA), len(retryB))
	retry := append(append(retryA, retryB...), deliver(t, c.Handle, copies(3, false))...)
	for round := 0; len(retry) > 0; round++ {
		if round == 5 {
			t.Fatalf("%d records still failing after 5 redeliveries", len(retry))
		}
		retry = deliver(t, c.Handle, retry)
	}

	for i := range n {
		if got := eff.get(fmt.Sprintf("e%d", i)); got != 1 {
			t.Errorf("e%d: %d effects, want 1", i, got)
		}
	}
	if overlap {
		t.Error("the handler ran twice at once for one key")
	}
}

func TestIntegrationClaimSettlement(t *testing.T) {
	store := dynamoStore(t)
	dlq := &fakeDLQ{}
	var eff effects
	fail := map[string]string{"e1": "transient", "e2": "permanent"}
	var mu sync.Mutex
	c := New(Options{Name: "settle", Store: store, DeadLetters: dlq}, func(_ context.Context, m testMsg, _ Meta) error {
		mu.Lock()
		action := fail[m.EventID]
		mu.Unlock()
		return actionHandler(&eff)(context.Background(), testMsg{EventID: m.EventID, Action: action}, Meta{})
	})
	batch := []events.SQSMessage{record("m1", body("e1", "")), record("m2", body("e2", "")), record("m3", body("e3", ""))}
	again := deliver(t, c.Handle, batch)
	if len(again) != 1 || again[0].MessageId != "m1" {
		t.Fatalf("redelivered %v, want m1", again)
	}
	if len(dlq.letters()) != 1 {
		t.Fatalf("dead letters = %d, want 1 (m2)", len(dlq.letters()))
	}

	// The transient failure released its claim: the retry runs. The
	// dead-lettered message left no record either, so after a fix a redrive
	// runs it.
	mu.Lock()
	fail = map[string]string{}
	mu.Unlock()
	if again := deliver(t, c.Handle, []events.SQSMessage{record("m1", body("e1", "")), record("m2r", body("e2", ""))}); len(again) != 0 {
		t.Fatalf("retry failed again: %v", again)
	}
	if eff.get("e1") != 1 || eff.get("e2") != 1 || eff.get("e3") != 1 {
		t.Errorf("effects = %v", eff.n)
	}

	// Same key, other payload: dead-lettered as payload_mismatch.
	if again := deliver(t, c.Handle, []events.SQSMessage{record("m3x", `{"version":1,"eventId":"e3","patient":"other"}`)}); len(again) != 0 {
		t.Fatalf("mismatch retried: %v", again)
	}
	dl := dlq.byOriginalID(t, "m3x")
	if got := *dl.Attributes[AttrFailureReason].StringValue; got != string(ReasonPayloadMismatch) {
		t.Errorf("failure-reason = %s", got)
	}
}

func TestIntegrationLapsedClaimIsTakenOver(t *testing.T) {
	// An invocation that died (timeout, crash) leaves an INPROGRESS record;
	// once its deadline has passed, the redelivery runs.
	store := dynamoStore(t)
	var eff effects
	c := New(Options{Name: "lapse", Store: store, DeadLetters: &fakeDLQ{}}, actionHandler(&eff))
	now := time.Now()
	_, hash, err := decode[testMsg](body("e1", ""))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := store.Begin(context.Background(), idempotency.Record{
		Key: "consumer#lapse#e1", Hash: hash, Status: idempotency.StatusInProgress,
		InProgressUntil: now.Add(-time.Second), ExpiresAt: now.Add(time.Hour),
	}, now.Add(-time.Minute)); err != nil {
		t.Fatal(err)
	}
	if again := deliver(t, c.Handle, []events.SQSMessage{record("m1", body("e1", ""))}); len(again) != 0 || eff.get("e1") != 1 {
		t.Fatalf("lapsed claim: redelivered %v, effects %d", again, eff.get("e1"))
	}
	// And a live claim of another invocation is respected.
	if _, err := store.Begin(context.Background(), idempotency.Record{
		Key: "consumer#lapse#e2", Hash: "h", Status: idempotency.StatusInProgress,
		InProgressUntil: now.Add(time.Minute), ExpiresAt: now.Add(time.Hour),
	}, now); err != nil {
		t.Fatal(err)
	}
	again := deliver(t, c.Handle, []events.SQSMessage{record("m2", body("e2", ""))})
	if len(again) != 1 || eff.get("e2") != 0 {
		t.Errorf("live claim: redelivered %v, effects %d", again, eff.get("e2"))
	}
}
