package faultproxy

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// backend stands in for DynamoDB: it counts the requests that reached it
// (the writes that "happened") and answers every one with an empty success.
type backend struct {
	srv    *httptest.Server
	writes atomic.Int32
}

func newBackend(t *testing.T) *backend {
	b := &backend{}
	b.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b.writes.Add(1)
		w.Header().Set("Content-Type", "application/x-amz-json-1.0")
		_, _ = w.Write([]byte(`{}`))
	}))
	t.Cleanup(b.srv.Close)
	return b
}

func start(t *testing.T) (*Proxy, *backend) {
	b := newBackend(t)
	p, err := Start(b.srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	return p, b
}

// client is a real SDK client through the proxy; attempts is its retry budget.
func client(p *Proxy, attempts int) *dynamodb.Client {
	return dynamodb.New(dynamodb.Options{
		Region:           "us-east-1",
		BaseEndpoint:     aws.String(p.URL()),
		Credentials:      aws.AnonymousCredentials{},
		RetryMaxAttempts: attempts,
	})
}

func put(c *dynamodb.Client) error {
	_, err := c.PutItem(context.Background(), &dynamodb.PutItemInput{
		TableName: aws.String("t"),
		Item:      map[string]types.AttributeValue{"PK": &types.AttributeValueMemberS{Value: "k"}},
	})
	return err
}

func transact(c *dynamodb.Client, n int) error {
	items := make([]types.TransactWriteItem, n)
	for i := range items {
		items[i] = types.TransactWriteItem{Put: &types.Put{
			TableName: aws.String("t"),
			Item:      map[string]types.AttributeValue{"PK": &types.AttributeValueMemberS{Value: "k"}},
		}}
	}
	_, err := c.TransactWriteItems(context.Background(), &dynamodb.TransactWriteItemsInput{TransactItems: items})
	return err
}

func TestPassThroughWithoutRules(t *testing.T) {
	p, b := start(t)
	if err := put(client(p, 1)); err != nil {
		t.Fatal(err)
	}
	if b.writes.Load() != 1 || p.Seen("PutItem") != 1 || p.Faults("") != 0 {
		t.Fatalf("writes %d, seen %d, faults %d", b.writes.Load(), p.Seen("PutItem"), p.Faults(""))
	}
}

func TestThrottleDecodesAsTheSDKsTypeAndIsRetried(t *testing.T) {
	p, b := start(t)
	p.Add(Rule{Op: "PutItem", Kind: Throttle})
	err := put(client(p, 1))
	var pte *types.ProvisionedThroughputExceededException
	if !errors.As(err, &pte) {
		t.Fatalf("err = %v, want ProvisionedThroughputExceededException", err)
	}
	if b.writes.Load() != 0 {
		t.Fatal("a throttled request reached the backend")
	}

	// Two throttles then a pass: the SDK's retryer (3 attempts) absorbs them.
	p.Clear()
	p.Add(Rule{Op: "PutItem", Kind: Throttle, Times: 2})
	if err := put(client(p, 3)); err != nil {
		t.Fatalf("retried put: %v", err)
	}
	if b.writes.Load() != 1 || p.Faults("PutItem") != 3 {
		t.Fatalf("writes %d, faults %d; want 1 and 3 (1 earlier + 2)", b.writes.Load(), p.Faults("PutItem"))
	}
}

func TestTxConflictHasOneReasonPerItem(t *testing.T) {
	p, b := start(t)
	p.Add(Rule{Op: "TransactWriteItems", Kind: TxConflict, Times: 1})
	err := transact(client(p, 3), 3)
	var tce *types.TransactionCanceledException
	if !errors.As(err, &tce) {
		t.Fatalf("err = %v, want TransactionCanceledException", err)
	}
	var codes []string
	for _, r := range tce.CancellationReasons {
		codes = append(codes, aws.ToString(r.Code))
	}
	if len(codes) != 3 || codes[0] != "TransactionConflict" || codes[1] != "None" || codes[2] != "None" {
		t.Fatalf("reasons %v", codes)
	}
	if b.writes.Load() != 0 || p.Seen("TransactWriteItems") != 1 {
		t.Fatalf("writes %d, seen %d: the SDK must not retry a cancelled transaction", b.writes.Load(), p.Seen("TransactWriteItems"))
	}
	// Times: 1 retired the rule.
	if err := transact(client(p, 1), 2); err != nil {
		t.Fatal(err)
	}
}

func TestServerError(t *testing.T) {
	p, b := start(t)
	p.Add(Rule{Kind: ServerError})
	var ise *types.InternalServerError
	if err := put(client(p, 2)); !errors.As(err, &ise) {
		t.Fatalf("err = %v, want InternalServerError", err)
	}
	if b.writes.Load() != 0 || p.Seen("PutItem") != 2 {
		t.Fatalf("writes %d, seen %d; want 0 and 2 (retried once)", b.writes.Load(), p.Seen("PutItem"))
	}
}

func TestResponseLostAfterTheWrite(t *testing.T) {
	for _, k := range []Kind{DropAfterWrite, CutAfterWrite} {
		t.Run(k.String(), func(t *testing.T) {
			p, b := start(t)
			p.Add(Rule{Op: "PutItem", Kind: k, Times: 1})
			if err := put(client(p, 1)); err == nil {
				t.Fatal("no error for a lost response")
			}
			if b.writes.Load() != 1 {
				t.Fatalf("writes %d: the write must happen before the response is lost", b.writes.Load())
			}
			// With retries the SDK repeats the write, which is what callers must survive.
			p.Add(Rule{Op: "PutItem", Kind: k, Times: 1})
			if err := put(client(p, 3)); err != nil {
				t.Fatal(err)
			}
			if b.writes.Load() != 3 {
				t.Fatalf("writes %d, want 3", b.writes.Load())
			}
		})
	}
}

func TestBodyFilterHoldAndReached(t *testing.T) {
	p, b := start(t)
	hold, reached := make(chan struct{}), make(chan struct{})
	p.Add(Rule{Op: "TransactWriteItems", Kind: Pass, BodyContains: "never-there"})
	p.Add(Rule{Op: "PutItem", Kind: Pass, BodyContains: `"k"`, Hold: hold, Reached: reached, Latency: time.Millisecond})
	done := make(chan error, 1)
	go func() { done <- put(client(p, 1)) }()
	<-reached
	if b.writes.Load() != 0 {
		t.Fatal("a held request reached the backend")
	}
	close(hold)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if b.writes.Load() != 1 || p.Faults("") != 0 {
		t.Fatalf("writes %d, faults %d", b.writes.Load(), p.Faults(""))
	}
}

func TestOperation(t *testing.T) {
	if got := Operation("DynamoDB_20120810.TransactWriteItems"); got != "TransactWriteItems" {
		t.Fatal(got)
	}
}

func TestRate(t *testing.T) {
	p, b := start(t)
	p.Add(Rule{Op: "PutItem", Kind: ServerError, Rate: 0.5})
	c := client(p, 1)
	failed := 0
	for range 200 {
		if put(c) != nil {
			failed++
		}
	}
	// Binomial(200, 0.5): outside [60, 140] has probability < 1e-8.
	if failed < 60 || failed > 140 || int(b.writes.Load()) != 200-failed {
		t.Fatalf("failed %d of 200, writes %d", failed, b.writes.Load())
	}
}

// A held request whose client goes away (a crash test killed it) is
// dropped: Abandoned is closed, and releasing the hold afterwards forwards
// nothing.
func TestHoldAbandoned(t *testing.T) {
	p, b := start(t)
	hold, reached, abandoned := make(chan struct{}), make(chan struct{}), make(chan struct{})
	p.Add(Rule{Op: "PutItem", Kind: Pass, Hold: hold, Reached: reached, Abandoned: abandoned, Times: 1})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := client(p, 1).PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("t"),
			Item: map[string]types.AttributeValue{"PK": &types.AttributeValueMemberS{Value: "k"}}})
		done <- err
	}()
	<-reached
	cancel() // the client dies with the request in flight
	select {
	case <-abandoned:
	case <-time.After(10 * time.Second):
		t.Fatal("Abandoned not closed 10 s after the client went away")
	}
	close(hold)
	if err := <-done; err == nil {
		t.Fatal("the cancelled request succeeded")
	}
	// The rule retired after one match: this one passes, and is the only write.
	if err := put(client(p, 1)); err != nil {
		t.Fatal(err)
	}
	if b.writes.Load() != 1 {
		t.Fatalf("writes %d, want 1 (the abandoned request must not be forwarded)", b.writes.Load())
	}
}
