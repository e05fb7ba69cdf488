// Package jobs holds the use cases of the scheduled jobs: reminders
// (Reminders), the no-show sweep (StatusSweep) and cleanup (Cleanup: expired
// idempotency, dedupe and outbox records, and PDPA data minimisation). Each
// Run takes the run's time as a parameter and returns a small report the
// Lambda handler logs and returns.
//
// Every job is safe to run late, twice or concurrently: a job keeps a
// watermark of how far it has handled its work, advances it only after all
// the work up to there succeeded (a failed run is redone by the next one) and
// only forwards (two concurrent runs never move it back), and each unit of
// work is itself idempotent (a conditional write).
//
// The ports below are declared here, by their consumer; *dynamo.Store
// implements the stores and *app.Service the StatusChanger.
package jobs

import (
	"context"
	"errors"
	"time"

	"github.com/labchain/appointments/shared/app"
	"github.com/labchain/appointments/shared/domain"
)

// Job names: the watermarks' keys.
const (
	JobReminders   = "reminders"
	JobStatusSweep = "status-sweep"
	JobCleanup     = "cleanup"
	JobPDPA        = "pdpa"
)

// MaxVisitLength bounds a visit's length (end − start). The jobs that select
// visits by their end list them by start, from this much earlier.
const MaxVisitLength = 24 * time.Hour

// WatermarkStore keeps, per job, how far it has handled its work.
type WatermarkStore interface {
	// GetWatermark returns the job's watermark; found is false before its
	// first advance.
	GetWatermark(ctx context.Context, job string) (until time.Time, found bool, err error)
	// AdvanceWatermark moves the watermark to `to` if that is later than the
	// stored one, atomically; otherwise it does nothing (and returns nil).
	AdvanceWatermark(ctx context.Context, job string, to time.Time) error
}

// AppointmentSource finds appointments by branch and start.
type AppointmentSource interface {
	// ListBranches returns every branch.
	ListBranches(ctx context.Context) ([]domain.Branch, error)
	// AppointmentsStarting returns a branch's appointments on a local date
	// whose start is in [from, to] (eventually consistent).
	AppointmentsStarting(ctx context.Context, branchID, date string, from, to time.Time) ([]domain.Appointment, error)
	// GetAppointment returns an appointment (strongly consistent) or
	// NOT_FOUND.
	GetAppointment(ctx context.Context, id string) (domain.Appointment, error)
}

// ReminderStore is what Reminders needs.
type ReminderStore interface {
	WatermarkStore
	AppointmentSource
	// RecordReminder reads the appointment (strongly consistent; NOT_FOUND
	// if missing) and calls due with it; if due returns ok, it records the
	// reminder r and its appointment.reminder_due event ev (data r)
	// atomically, once per (appointment, lead, start), on condition that the
	// appointment is still booked at the version read. recorded is false,
	// with no error, if due declined or the reminder was recorded before.
	// When a concurrent change wins it reads and calls due again
	// (app.RetryConcurrent), then returns CONFLICT.
	RecordReminder(ctx context.Context, appointmentID string, due func(a domain.Appointment) (r domain.ReminderDue, ev domain.Event, ok bool)) (recorded bool, err error)
}

// SweepStore is what StatusSweep reads.
type SweepStore interface {
	WatermarkStore
	AppointmentSource
}

// StatusChanger changes a visit's status on behalf of the system, through
// the same path as staff changes (history entry, event); *app.Service
// implements it. INVALID_TRANSITION when the lifecycle does not allow the
// change or still returns false for the appointment as read; CONFLICT when
// concurrent changes kept winning.
type StatusChanger interface {
	SystemTransition(ctx context.Context, actor domain.ActorRef, id string, to domain.Status, reason string, still func(domain.Appointment) bool) (domain.Appointment, error)
}

// CleanupStore is what Cleanup needs.
type CleanupStore interface {
	WatermarkStore
	AppointmentSource
	// PurgeExpired deletes the items of the expiry index bucket of day (UTC
	// date of their ttl) whose ttl is before now (checked by a consistent
	// read just before each batch of deletions): deleted counts the
	// deletions, kept the items refreshed meanwhile.
	PurgeExpired(ctx context.Context, day string, now time.Time) (deleted, kept int, err error)
	// RemoveHistoryReasons removes the reason of each history entry of the
	// appointment that has one and that keep rejects; it returns how many.
	RemoveHistoryReasons(ctx context.Context, appointmentID string, keep func(domain.HistoryEntry) bool) (int, error)
	// UpdateAppointment is app.Store.UpdateAppointment (anonymization is a
	// Change with Anonymized set and no event).
	UpdateAppointment(ctx context.Context, id string, update app.UpdateFunc) (domain.Appointment, error)
}

// localDates returns the dates in loc from from's to to's, inclusive.
func localDates(from, to time.Time, loc *time.Location) []string {
	f, t := from.In(loc), to.In(loc)
	day := time.Date(f.Year(), f.Month(), f.Day(), 0, 0, 0, 0, time.UTC)
	last := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
	var out []string
	for ; !day.After(last); day = day.AddDate(0, 0, 1) {
		out = append(out, day.Format(time.DateOnly))
	}
	return out
}

// forEachStarting calls fn for each appointment of every branch whose start
// is in [from, to], walking each branch's local dates. A branch that cannot
// be listed does not stop the others; the errors are returned joined, with
// how many branches were walked and appointments listed. It stops when ctx
// is done.
func forEachStarting(ctx context.Context, src AppointmentSource, from, to time.Time,
	fn func(a domain.Appointment, loc *time.Location) error) (branches, listed int, err error) {
	bs, err := src.ListBranches(ctx)
	if err != nil {
		return 0, 0, err
	}
	var errs []error
	for _, b := range bs {
		if err := ctx.Err(); err != nil {
			return branches, listed, errors.Join(append(errs, err)...)
		}
		loc, err := domain.LoadLocation(b.TimeZone)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		branches++
		for _, date := range localDates(from, to, loc) {
			as, err := src.AppointmentsStarting(ctx, b.ID, date, from, to)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			listed += len(as)
			for _, a := range as {
				if err := fn(a, loc); err != nil {
					errs = append(errs, err)
				}
			}
		}
	}
	return branches, listed, errors.Join(errs...)
}
