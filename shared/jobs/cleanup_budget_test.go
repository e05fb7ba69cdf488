package jobs_test

import (
	"context"
	"testing"
	"time"

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
