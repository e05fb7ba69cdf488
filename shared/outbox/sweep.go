package outbox

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/labchain/appointments/shared/events"
	"github.com/labchain/appointments/shared/lambdakit"
	"github.com/labchain/appointments/shared/sqsx"
)

// PendingSource lists PENDING outbox events due before olderThan, the
// longest due first, at most limit. When it returns events together with an
// error, the error concerns other records (such as malformed ones, see
// MalformedRecords) and the events are valid. *dynamo.Store implements it.
type PendingSource interface {
	PendingOutbox(ctx context.Context, olderThan time.Time, limit int) ([]events.CloudEvent, error)
}

// SweepStore is what the sweep needs of the outbox: the pending records and
// a count of failed publications. RecordOutboxFailure counts one failure of
// a PENDING record at time at: the record waits longer before it is due
// again, or, when permanent or after too many failures, is parked (out of
// the pending records, for an operator); parked says which. *dynamo.Store
// implements it.
type SweepStore interface {
	PendingSource
	RecordOutboxFailure(ctx context.Context, eventID, reason string, at time.Time, permanent bool) (parked bool, err error)
}

// MalformedRecords is implemented by a PendingSource error that names
// records that do not decode (*dynamo.MalformedOutboxError); the sweep parks
// them.
type MalformedRecords interface {
	MalformedEventIDs() []string
}

// Sweeper publishes outbox records the stream publisher left PENDING: its
// retries were exhausted, it was down or disabled, or marking failed.
type Sweeper struct {
	pub        *Publisher
	src        SweepStore
	minAge     time.Duration
	maxRecords int
	now        func() time.Time
}

// Bounds of one sweep run: at most maxSweepPages pages, and no new page
// when less than sweepReserve of the invocation is left.
const (
	maxSweepPages = 20
	sweepReserve  = 10 * time.Second
)

// NewSweeper returns a sweep that reads records older than minAge (younger
// ones are left to the stream publisher) in pages of maxRecords and
// publishes them through pub. now is the clock (nil: time.Now).
func NewSweeper(pub *Publisher, src SweepStore, minAge time.Duration, maxRecords int, now func() time.Time) *Sweeper {
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
	// Failed is how many were not published (they stay PENDING, due again
	// later, or are parked).
	Failed int `json:"failed"`
	// Parked is how many records (failed or malformed) were parked.
	Parked int `json:"parked,omitempty"`
}

// Metric names of the sweep.
const (
	// MetricSwept counts events the sweep found PENDING (each one the stream
	// path did not publish in time).
	MetricSwept = "OutboxSwept"
	// MetricParked counts records the sweep parked (OutboxParkedAlarm).
	MetricParked = "OutboxParked"
)

// Handle runs one sweep over the records due before the request's reference
// time (see SweepRequest) minus the minimum age, page after page: each
// record that fails is counted (SweepStore.RecordOutboxFailure), which makes
// it due later or parks it, so the next page holds other records and records
// that keep failing never starve newer ones. A run ends with an empty or
// short page, after maxSweepPages pages, or when the invocation is nearly
// out of time. It is idempotent: published records are no longer PENDING,
// and a record published twice (by the stream publisher too) is
// deduplicated by consumers. An error is returned when the records cannot be
// listed or some could not be published, so the run counts as failed.
func (s *Sweeper) Handle(ctx context.Context, req SweepRequest) (SweepResult, error) {
	var res SweepResult
	ref := req.At(s.now)
	seen := map[string]bool{}
	log := lambdakit.Logger(ctx)
	var errs []error
	for page := 0; page < maxSweepPages; page++ {
		if dl, ok := ctx.Deadline(); ok && time.Until(dl) < sweepReserve {
			break
		}
		evs, err := s.src.PendingOutbox(ctx, ref.Add(-s.minAge), s.maxRecords)
		var bad MalformedRecords
		malformed := 0
		if errors.As(err, &bad) {
			malformed = len(bad.MalformedEventIDs())
			log.ErrorContext(ctx, "outbox sweep: malformed records", "error", err.Error())
			for _, id := range bad.MalformedEventIDs() {
				if !seen[id] {
					seen[id] = true
					s.recordFailure(ctx, &res, id, err, ref, true, &errs)
				}
			}
		} else if err != nil && len(evs) == 0 {
			errs = append(errs, fmt.Errorf("outbox: sweep: %w", err))
			break
		} else if err != nil {
			log.ErrorContext(ctx, "outbox sweep skipped records", "error", err.Error())
		}
		var fresh []events.CloudEvent
		for _, ce := range evs {
			if !seen[ce.ID] { // the index may still list what this run handled
				seen[ce.ID] = true
				fresh = append(fresh, ce)
			}
		}
		res.Pending += len(fresh)
		if len(fresh) > 0 {
			failed := s.pub.Publish(ctx, fresh)
			res.Failed += len(failed)
			res.Published += len(fresh) - len(failed)
			for id, ferr := range failed {
				s.recordFailure(ctx, &res, id, ferr, ref, permanent(ferr), &errs)
			}
			if len(failed) > 0 {
				errs = append(errs, fmt.Errorf("outbox: sweep: %d of %d events not published", len(failed), len(fresh)))
			}
		}
		if len(fresh) == 0 || len(evs)+malformed < s.maxRecords {
			break
		}
	}
	lambdakit.EmitMetric(ctx, MetricSwept, lambdakit.UnitCount, float64(res.Pending), nil)
	if res.Parked > 0 {
		lambdakit.EmitMetric(ctx, MetricParked, lambdakit.UnitCount, float64(res.Parked), nil)
	}
	if res.Pending > 0 || res.Parked > 0 {
		log.InfoContext(ctx, "outbox sweep", "pending", res.Pending, "published", res.Published, "failed", res.Failed, "parked", res.Parked)
	}
	return res, errors.Join(errs...)
}

// recordFailure counts a failed publication (or a malformed record) and
// logs a record that was parked.
func (s *Sweeper) recordFailure(ctx context.Context, res *SweepResult, id string, cause error, at time.Time, permanent bool, errs *[]error) {
	parked, err := s.src.RecordOutboxFailure(ctx, id, cause.Error(), at, permanent)
	if err != nil {
		*errs = append(*errs, fmt.Errorf("outbox: sweep: count failure of %s: %w", id, err))
		return
	}
	if parked {
		res.Parked++
		lambdakit.Logger(ctx).ErrorContext(ctx, "outbox record parked", "eventId", id, "permanent", permanent, "error", cause.Error())
	}
}

// permanent reports whether publishing the same record again cannot succeed:
// it is too large or empty for SQS, SQS refused it for its content, or it
// does not encode as a CloudEvent.
func permanent(err error) bool {
	var entry *sqsx.EntryError
	return errors.Is(err, sqsx.ErrTooLarge) || errors.Is(err, sqsx.ErrEmptyBody) || errors.Is(err, events.ErrInvalid) ||
		(errors.As(err, &entry) && !entry.Retryable())
}
