package outbox

import (
	"context"
	"fmt"
	"time"

	"github.com/labchain/appointments/shared/events"
	"github.com/labchain/appointments/shared/lambdakit"
)

// PendingSource lists PENDING outbox events created before olderThan, oldest
// first, at most limit. When it returns events together with an error, the
// error concerns other records (such as malformed ones) and the events are
// valid. *dynamo.Store implements it.
type PendingSource interface {
	PendingOutbox(ctx context.Context, olderThan time.Time, limit int) ([]events.CloudEvent, error)
}

// Sweeper publishes outbox records the stream publisher left PENDING: its
// retries were exhausted, it was down or disabled, or marking failed.
type Sweeper struct {
	pub        *Publisher
	src        PendingSource
	minAge     time.Duration
	maxRecords int
	now        func() time.Time
}

// NewSweeper returns a sweep that publishes, per run, at most maxRecords
// records older than minAge (younger ones are left to the stream publisher),
// through pub. now is the clock (nil: time.Now).
func NewSweeper(pub *Publisher, src PendingSource, minAge time.Duration, maxRecords int, now func() time.Time) *Sweeper {
	if now == nil {
		now = time.Now
	}
	return &Sweeper{pub: pub, src: src, minAge: minAge, maxRecords: maxRecords, now: now}
}

// SweepRequest is the scheduled event (see lambdakit.ScheduledRun): the
// sweep's reference time is its At.
type SweepRequest = lambdakit.ScheduledRun

// SweepResult says what one run did.
type SweepResult struct {
	// Pending is how many PENDING records older than the minimum age were read.
	Pending int `json:"pending"`
	// Published is how many of them every target accepted.
	Published int `json:"published"`
	// Failed is how many were not published (they stay PENDING).
	Failed int `json:"failed"`
}

// MetricSwept counts events the sweep found PENDING (each one the stream
// path did not publish in time).
const MetricSwept = "OutboxSwept"

// Handle runs one sweep over the records older than the request's reference
// time (see SweepRequest) minus the minimum age. It is idempotent: published
// records are no longer
// PENDING, and a record published twice (by the stream publisher too) is
// deduplicated by consumers. An error is returned when the records cannot be
// listed or some could not be published, so the run counts as failed; the
// next run tries again.
func (s *Sweeper) Handle(ctx context.Context, req SweepRequest) (SweepResult, error) {
	var res SweepResult
	evs, err := s.src.PendingOutbox(ctx, req.At(s.now).Add(-s.minAge), s.maxRecords)
	if err != nil && len(evs) == 0 {
		return res, fmt.Errorf("outbox: sweep: %w", err)
	}
	if err != nil {
		lambdakit.Logger(ctx).ErrorContext(ctx, "outbox sweep skipped records", "error", err.Error())
	}
	res.Pending = len(evs)
	lambdakit.EmitMetric(ctx, MetricSwept, lambdakit.UnitCount, float64(len(evs)), nil)
	if len(evs) == 0 {
		return res, nil
	}
	failed := s.pub.Publish(ctx, evs)
	res.Failed = len(failed)
	res.Published = res.Pending - res.Failed
	lambdakit.Logger(ctx).InfoContext(ctx, "outbox sweep", "pending", res.Pending, "published", res.Published, "failed", res.Failed)
	if res.Failed > 0 {
		return res, fmt.Errorf("outbox: sweep: %d of %d events not published", res.Failed, res.Pending)
	}
	return res, nil
}
