package dynamo

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/labchain/appointments/shared/testenv"
)

// purgeCounter counts the purge's write requests and can have DynamoDB
// leave part of a BatchWriteItem unprocessed, as it does when throttling:
// the first `drop` calls forward only the first half (rounded down) of their requests and
// return the rest as UnprocessedItems.
type purgeCounter struct {
	Client
	deletes, batchWrites, batchGets atomic.Int64
	drop                            atomic.Int64
}

func (c *purgeCounter) DeleteItem(ctx context.Context, in *dynamodb.DeleteItemInput, o ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error) {
	c.deletes.Add(1)
	return c.Client.DeleteItem(ctx, in, o...)
}

func (c *purgeCounter) BatchGetItem(ctx context.Context, in *dynamodb.BatchGetItemInput, o ...func(*dynamodb.Options)) (*dynamodb.BatchGetItemOutput, error) {
	c.batchGets.Add(1)
	return c.Client.BatchGetItem(ctx, in, o...)
}

func (c *purgeCounter) BatchWriteItem(ctx context.Context, in *dynamodb.BatchWriteItemInput, o ...func(*dynamodb.Options)) (*dynamodb.BatchWriteItemOutput, error) {
	c.batchWrites.Add(1)
	if c.drop.Add(-1) < 0 {
		return c.Client.BatchWriteItem(ctx, in, o...)
	}
	sent := map[string][]types.WriteRequest{}
	left := map[string][]types.WriteRequest{}
	for table, reqs := range in.RequestItems {
		half := len(reqs) / 2
		left[table] = reqs[half:]
		if half > 0 {
			sent[table] = reqs[:half]
		}
	}
	if len(sent) == 0 {
		return &dynamodb.BatchWriteItemOutput{UnprocessedItems: left}, nil
	}
	if _, err := c.Client.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: sent}, o...); err != nil {
		return nil, err
	}
	return &dynamodb.BatchWriteItemOutput{UnprocessedItems: left}, nil
}

// TestPurgeExpiredInBatches: a backlog of 60 expired records is deleted with
// one BatchWriteItem per 25 (no DeleteItem per record), items DynamoDB leaves
// unprocessed are sent again, and a record refreshed behind the index's back
// survives.
func TestPurgeExpiredInBatches(t *testing.T) {
	raw, table := testenv.Table(t)
	counter := &purgeCounter{Client: raw}
	s := New(counter, table)
	ctx := context.Background()
	day := t0.Truncate(24 * time.Hour)
	const backlog = 60
	for i := range backlog {
		rec := inProgress(fmt.Sprintf("expired-%02d", i), "h", day.Add(-48*time.Hour))
		rec.ExpiresAt = day.Add(time.Hour + time.Duration(i)*time.Second)
		_, err := s.Begin(ctx, rec, day.Add(-48*time.Hour))
		ok(t, err)
	}
	now := day.Add(10 * time.Hour)
	refreshTTL(t, raw, table, idemPK("expired-07"), now.Add(time.Hour))
	counter.drop.Store(2) // the first two batches come back half unprocessed

	deleted, kept, err := s.PurgeExpired(ctx, day.Format(dateLayout), now)
	ok(t, err)
	if deleted != backlog-1 || kept != 1 {
		t.Fatalf("deleted %d, kept %d; want %d and 1", deleted, kept, backlog-1)
	}
	if n := counter.deletes.Load(); n != 0 {
		t.Errorf("%d DeleteItem calls; the purge must delete in batches", n)
	}
	// 3 batches (25, 25, 10), the first two each sent twice.
	if n := counter.batchWrites.Load(); n != 5 {
		t.Errorf("%d BatchWriteItem calls, want 5 (3 batches of at most 25, two of them retried once)", n)
	}
	if n := counter.batchGets.Load(); n != 3 {
		t.Errorf("%d BatchGetItem calls, want 3", n)
	}
	for i := range backlog {
		k := fmt.Sprintf("expired-%02d", i)
		if got, want := rawItem(t, raw, table, idemPK(k), skIdem) != nil, i == 7; got != want {
			t.Errorf("record %s present = %v, want %v", k, got, want)
		}
	}
}

// TestPurgeExpiredGivesUpOnUnprocessed: items DynamoDB keeps leaving
// unprocessed end the purge with a transient error after a bounded number of
// attempts, counting only what was deleted.
func TestPurgeExpiredGivesUpOnUnprocessed(t *testing.T) {
	raw, table := testenv.Table(t)
	counter := &purgeCounter{Client: raw}
	s := New(counter, table)
	ctx := context.Background()
	day := t0.Truncate(24 * time.Hour)
	for i := range 4 {
		rec := inProgress(fmt.Sprintf("expired-%d", i), "h", day.Add(-48*time.Hour))
		rec.ExpiresAt = day.Add(time.Hour)
		_, err := s.Begin(ctx, rec, day.Add(-48*time.Hour))
		ok(t, err)
	}
	counter.drop.Store(1 << 30)
	deleted, _, err := s.PurgeExpired(ctx, day.Format(dateLayout), day.Add(10*time.Hour))
	if err == nil {
		t.Fatal("no error although items stayed unprocessed")
	}
	// Halving 4 leaves 2, 1, then 1 forever: 3 deleted.
	if deleted != 3 || counter.batchWrites.Load() != purgeAttempts {
		t.Fatalf("deleted %d in %d calls; want 3 in %d", deleted, counter.batchWrites.Load(), purgeAttempts)
	}
}

// refreshTTL sets an item's ttl behind the expiry index's back, as a
// refresh after the index was read would look to the purge.
func refreshTTL(tb testing.TB, c *dynamodb.Client, table, pk string, ttl time.Time) {
	tb.Helper()
	_, err := c.UpdateItem(context.Background(), &dynamodb.UpdateItemInput{
		TableName: aws.String(table), Key: key(pk, skIdem),
		UpdateExpression:          aws.String("SET #ttl = :t"),
		ExpressionAttributeNames:  map[string]string{"#ttl": attrTTL},
		ExpressionAttributeValues: map[string]types.AttributeValue{":t": avN(ttl.Unix())},
	})
	ok(tb, err)
}
