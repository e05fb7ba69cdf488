package jobs_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/labchain/appointments/shared/dynamo"
	"github.com/labchain/appointments/shared/idempotency"
	"github.com/labchain/appointments/shared/jobs"
)

// backlogPurge is an expiry backlog larger than any run: each day's purge
// runs until the context it is given ends.
type backlogPurge struct{ jobs.CleanupStore }

func (backlogPurge) PurgeExpired(ctx context.Context, _ string, _ time.Time) (int, int, error) {
	<-ctx.Done()
	return 0, 0, ctx.Err()
}

// TestCleanupBacklogLeavesMinimisationItsBudget: a purge backlog that would
// use the whole invocation still leaves PDPA minimisation time to run in the
// same invocation.
func TestCleanupBacklogLeavesMinimisationItsBudget(t *testing.T) {
	f := newFixture(t)
	old := f.book("p-old", "2026-12-01 09:00")
	ctx, cancel := context.WithTimeout(context.Background(), 6*time.Second)
	defer cancel()
	rep, err := jobs.NewCleanup(backlogPurge{f.store}, 365*24*time.Hour).Run(ctx, bkk("2027-12-02 12:00"))
	if err == nil {
		t.Fatal("the unfinished purge was not reported")
	}
	if rep.PDPA.Anonymized != 1 {
		t.Fatalf("minimisation did not run after the purge backlog: %+v (%v)", rep, err)
	}
	if got := f.get(old.ID); got.Patient.Name != "" {
		t.Fatalf("personal data kept: %+v", got.Patient)
	}
}

// slowBatches is DynamoDB under a purge backlog it cannot finish: every
// BatchWriteItem takes batchLatency (as throttled writes do), and the calls
// are counted.
type slowBatches struct {
	dynamo.Client
	batchWrites, deletes atomic.Int64
}

const batchLatency = 200 * time.Millisecond

func (c *slowBatches) BatchWriteItem(ctx context.Context, in *dynamodb.BatchWriteItemInput, o ...func(*dynamodb.Options)) (*dynamodb.BatchWriteItemOutput, error) {
	c.batchWrites.Add(1)
	select {
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-time.After(batchLatency):
	}
	return c.Client.BatchWriteItem(ctx, in, o...)
}

func (c *slowBatches) DeleteItem(ctx context.Context, in *dynamodb.DeleteItemInput, o ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error) {
	c.deletes.Add(1)
	return c.Client.DeleteItem(ctx, in, o...)
}

// TestCleanupRealBacklogPurgesInBatchesAndMinimises: on DynamoDB Local, a
// backlog of expired records larger than the purge's half of the invocation
// is deleted in batches of 25 (never one request per record) until that
// half is used, and PDPA minimisation still runs in the same invocation.
func TestCleanupRealBacklogPurgesInBatchesAndMinimises(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	old := f.book("p-old", "2026-12-01 09:00")
	now := bkk("2027-12-02 12:00")
	const backlog = 400
	for i := range backlog {
		exp := now.Add(-time.Hour - time.Duration(i)*time.Second)
		_, err := f.store.Begin(ctx, idempotency.Record{
			Key: fmt.Sprintf("consumer#lis#evt-%03d", i), Hash: "h", Status: idempotency.StatusInProgress,
			InProgressUntil: exp.Add(-23 * time.Hour), ExpiresAt: exp,
		}, exp.Add(-24*time.Hour))
		must(t, err)
	}
	must(t, f.store.AdvanceWatermark(ctx, jobs.JobCleanup, now.Add(-24*time.Hour)))

	slow := &slowBatches{Client: f.raw}
	store := dynamo.New(slow, f.store.Table())
	// 16 batches × 200 ms would need 3.2 s; the purge gets half of 3 s.
	rctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	rep, err := jobs.NewCleanup(store, 365*24*time.Hour).Run(rctx, now)
	if err == nil {
		t.Fatalf("the unfinished purge was not reported: %+v", rep)
	}
	if n := slow.deletes.Load(); n != 0 {
		t.Errorf("%d DeleteItem calls; the purge must delete in batches", n)
	}
	if rep.Expired.Deleted == 0 || rep.Expired.Deleted >= backlog || rep.Expired.Deleted%25 != 0 {
		t.Errorf("purge deleted %d of %d (want whole batches of 25, not all)", rep.Expired.Deleted, backlog)
	}
	if int64(rep.Expired.Deleted/25) > slow.batchWrites.Load() {
		t.Errorf("%d records deleted in %d BatchWriteItem calls", rep.Expired.Deleted, slow.batchWrites.Load())
	}
	if rep.PDPA.Anonymized != 1 {
		t.Fatalf("minimisation did not run after the purge backlog: %+v (%v)", rep, err)
	}
	if got := f.get(old.ID); got.Patient.Name != "" {
		t.Fatalf("personal data kept: %+v", got.Patient)
	}
}
