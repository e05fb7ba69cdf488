package jobs

import (
	"context"
	"fmt"
	"time"

	"github.com/labchain/appointments/shared/apperr"
	"github.com/labchain/appointments/shared/domain"
	"github.com/labchain/appointments/shared/logctx"
)

// Defaults of StatusSweep.
const (
	// DefaultNoShowGrace is how long after a visit's end a still booked visit
	// becomes a no-show (NO_SHOW_GRACE_MINUTES).
	DefaultNoShowGrace = 30 * time.Minute
	// DefaultSweepLookback bounds how far back the sweep looks on its first
	// run or after missed runs.
	DefaultSweepLookback = 7 * 24 * time.Hour
	// NoShowReason is the history reason of the sweep's changes.
	NoShowReason = "no-show sweep"
)

// SweepActor is the history actor of the sweep's changes.
var SweepActor = domain.ActorRef{ID: "status-sweep", Role: domain.RoleSystem}

// StatusSweep marks visits nobody checked in as no-shows.
type StatusSweep struct {
	store    SweepStore
	changer  StatusChanger
	grace    time.Duration
	lookback time.Duration
}

// NewStatusSweep returns the sweep: store lists the visits, changer makes
// the change (the booking service, so the change has its history entry and
// event like a staff change). grace and lookback ≤ 0 mean DefaultNoShowGrace
// and DefaultSweepLookback.
func NewStatusSweep(store SweepStore, changer StatusChanger, grace, lookback time.Duration) *StatusSweep {
	if grace <= 0 {
		grace = DefaultNoShowGrace
	}
	if lookback <= 0 {
		lookback = DefaultSweepLookback
	}
	return &StatusSweep{store: store, changer: changer, grace: grace, lookback: lookback}
}

// SweepReport says what one run of StatusSweep did.
type SweepReport struct {
	// From and To bound the visit ends the run was after: (From, To], To
	// being now − grace.
	From time.Time `json:"from"`
	To   time.Time `json:"to"`
	// Clamped is set when the watermark was older than the lookback.
	Clamped bool `json:"clamped,omitempty"`
	// Branches walked and appointments listed.
	Branches     int `json:"branches"`
	Appointments int `json:"appointments"`
	// MarkedNoShow counts the visits marked no_show; Skipped those that
	// changed meanwhile (checked in, cancelled, moved) and were left alone.
	MarkedNoShow int `json:"markedNoShow"`
	Skipped      int `json:"skipped"`
	// Failed counts visits that could not be changed (the run fails and the
	// next one retries them).
	Failed int `json:"failed"`
}

// noShowDue is the sweep's rule: a visit still booked grace after its end.
func noShowDue(a domain.Appointment, grace time.Duration, now time.Time) bool {
	return a.Status == domain.StatusBooked && !a.End.Add(grace).After(now)
}

// Run marks no_show every booked visit whose end + grace is not after now
// and is after the watermark of JobStatusSweep (on the first run, or when
// that is older, the lookback before now − grace), through
// StatusChanger.SystemTransition with SweepActor and NoShowReason: one
// history entry and one appointment.no_show event per visit. A visit that
// changed since it was listed is read again and decided again. The run is
// idempotent (a no-show is no longer booked), and the watermark advances to
// now − grace only when every visit was handled.
func (s *StatusSweep) Run(ctx context.Context, now time.Time) (SweepReport, error) {
	log := logctx.Logger(ctx)
	var rep SweepReport
	now = now.UTC()
	to := now.Add(-s.grace)
	w, found, err := s.store.GetWatermark(ctx, JobStatusSweep)
	if err != nil {
		return rep, fmt.Errorf("jobs: status sweep: %w", err)
	}
	from := w
	if oldest := to.Add(-s.lookback); !found || w.Before(oldest) {
		rep.Clamped = found
		if found {
			log.WarnContext(ctx, "status sweep: watermark older than the lookback", "watermark", w, "from", oldest)
		}
		from = oldest
	}
	rep.From, rep.To = from, to
	if !from.Before(to) {
		return rep, nil
	}
	// Visits ending in (from, to] start in (from − MaxVisitLength, to]; the
	// sweep takes every booked one it lists whose end + grace has passed.
	rep.Branches, rep.Appointments, err = forEachStarting(ctx, s.store, from.Add(-MaxVisitLength), to, func(a domain.Appointment, _ *time.Location) error {
		if !noShowDue(a, s.grace, now) {
			return nil
		}
		if err := s.mark(ctx, a, now, &rep); err != nil {
			rep.Failed++
			return err
		}
		return nil
	})
	if err != nil {
		log.ErrorContext(ctx, "status sweep: run failed; the watermark stays", "error", err.Error(), "report", rep)
		return rep, fmt.Errorf("jobs: status sweep: %w", err)
	}
	if err := s.store.AdvanceWatermark(ctx, JobStatusSweep, to); err != nil {
		return rep, fmt.Errorf("jobs: status sweep: %w", err)
	}
	log.InfoContext(ctx, "status sweep", "report", rep)
	return rep, nil
}

// mark marks one visit no_show if the sweep's rule still holds for it as
// the store reads it (it may have changed since it was listed).
func (s *StatusSweep) mark(ctx context.Context, a domain.Appointment, now time.Time, rep *SweepReport) error {
	_, err := s.changer.SystemTransition(ctx, SweepActor, a.ID, domain.StatusNoShow, NoShowReason,
		func(cur domain.Appointment) bool { return noShowDue(cur, s.grace, now) })
	switch {
	case err == nil:
		rep.MarkedNoShow++
	case apperr.Is(err, apperr.InvalidTransition), apperr.Is(err, apperr.NotFound):
		rep.Skipped++ // no longer due (or gone): nothing to do
	default:
		return err
	}
	return nil
}
