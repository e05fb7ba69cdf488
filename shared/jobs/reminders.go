package jobs

import (
	"context"
	"fmt"
	"time"

	"github.com/labchain/appointments/shared/apperr"
	"github.com/labchain/appointments/shared/domain"
	"github.com/labchain/appointments/shared/ids"
	"github.com/labchain/appointments/shared/logctx"
)

// Reminder run windows.
const (
	// FirstReminderWindow is how far back the very first run looks.
	FirstReminderWindow = 15 * time.Minute
	// MaxReminderCatchUp bounds how far back a run looks after runs were
	// missed: a reminder more than two days late is no reminder, so older
	// ones are dropped (and the clamp logged).
	MaxReminderCatchUp = 48 * time.Hour
	// IndexSettle is how far behind now a run's window ends. Appointments are
	// found through an eventually consistent index, so a visit booked or moved
	// in the last moment may not be listed yet; ending the window a minute
	// back lets the next run, whose window starts there, see it.
	IndexSettle = time.Minute
)

// Reminders records the reminders that fell due since the last run as
// appointment.reminder_due events (routed to the notification consumer).
type Reminders struct {
	store  ReminderStore
	policy domain.ReminderPolicy
	newID  func(prefix string) string
}

// NewReminders returns the reminders job over store with policy (see
// domain.ReminderPolicy; Config.Reminders).
func NewReminders(store ReminderStore, policy domain.ReminderPolicy) *Reminders {
	return &Reminders{store: store, policy: policy, newID: ids.New}
}

// ReminderReport says what one run of Reminders did.
type ReminderReport struct {
	// From and To bound the run's window (From, To] of reminder times.
	From time.Time `json:"from"`
	To   time.Time `json:"to"`
	// Clamped is set when the watermark was older than MaxReminderCatchUp
	// and reminders due before From were dropped.
	Clamped bool `json:"clamped,omitempty"`
	// Branches is how many branches were walked, Appointments how many
	// appointments were listed as candidates.
	Branches     int `json:"branches"`
	Appointments int `json:"appointments"`
	// Recorded counts new reminder_due events; AlreadyRecorded reminders an
	// earlier or concurrent run had recorded; Stale reminders of visits that
	// changed after being listed and are no longer due.
	Recorded        int `json:"recorded"`
	AlreadyRecorded int `json:"alreadyRecorded"`
	Stale           int `json:"stale"`
	// Failed counts reminders that could not be recorded (the run fails and
	// the next one retries them).
	Failed int `json:"failed"`
}

// Run records every reminder whose time (domain.ReminderPolicy.SendAt) is in
// the window (W, now − IndexSettle], W being the watermark of JobReminders
// (on the first run, FirstReminderWindow before the window's end; never more
// than MaxReminderCatchUp before it), of every booked visit that has not
// started and was booked no later than its reminder's time
// (domain.ReminderIsDue). Each reminder is recorded once per appointment,
// lead time and start, together with its event, however often or
// concurrently runs cover it; a rescheduled visit gets the reminders of its
// new start. The candidates are the appointments of every branch starting
// in (W + MinLead − MaxShift, end + MaxLead + MaxShift], listed per branch-day.
//
// The watermark advances to the window's end only when every candidate was
// handled; otherwise Run returns the error (and the report so far) and the
// next run covers the window again.
func (r *Reminders) Run(ctx context.Context, now time.Time) (ReminderReport, error) {
	log := logctx.Logger(ctx)
	var rep ReminderReport
	to := now.UTC().Add(-IndexSettle)
	w, found, err := r.store.GetWatermark(ctx, JobReminders)
	if err != nil {
		return rep, fmt.Errorf("jobs: reminders: %w", err)
	}
	from := w
	switch {
	case !found:
		from = to.Add(-FirstReminderWindow)
	case w.Before(to.Add(-MaxReminderCatchUp)):
		from = to.Add(-MaxReminderCatchUp)
		rep.Clamped = true
		log.WarnContext(ctx, "reminders: watermark too old, reminders due before the catch-up limit are dropped",
			"watermark", w, "from", from, "maxCatchUp", MaxReminderCatchUp.String())
	}
	rep.From, rep.To = from, to
	if !from.Before(to) {
		return rep, nil // a concurrent or later run got here first
	}

	shift := r.policy.MaxShift()
	startFrom := from.Add(r.policy.MinLead() - shift)
	startTo := to.Add(r.policy.MaxLead() + shift)
	rep.Branches, rep.Appointments, err = forEachStarting(ctx, r.store, startFrom, startTo, func(a domain.Appointment, loc *time.Location) error {
		for _, d := range r.policy.DueReminders(a, loc, from, to) {
			if err := r.record(ctx, a, d.Lead, loc, from, to, now, &rep); err != nil {
				rep.Failed++
				return err
			}
		}
		return nil
	})
	if err != nil {
		log.ErrorContext(ctx, "reminders: run failed; the watermark stays", "error", err.Error(), "report", rep)
		return rep, fmt.Errorf("jobs: reminders: %w", err)
	}
	if err := r.store.AdvanceWatermark(ctx, JobReminders, to); err != nil {
		return rep, fmt.Errorf("jobs: reminders: %w", err)
	}
	log.InfoContext(ctx, "reminders", "report", rep)
	return rep, nil
}

// record records one due reminder of a, decided again on the appointment as
// the store reads it (it may have changed since it was listed): a reminder
// no longer due in the window, or of an appointment gone, counts as stale.
func (r *Reminders) record(ctx context.Context, a domain.Appointment, lead time.Duration, loc *time.Location, from, to, now time.Time, rep *ReminderReport) error {
	stale := false
	recorded, err := r.store.RecordReminder(ctx, a.ID, func(cur domain.Appointment) (domain.ReminderDue, domain.Event, bool) {
		sendAt := r.policy.SendAt(cur.Start, lead, loc)
		if stale = !domain.ReminderIsDue(cur, sendAt, from, to); stale {
			return domain.ReminderDue{}, domain.Event{}, false
		}
		due := domain.ReminderDue{Appointment: cur, LeadMinutes: int(lead / time.Minute), SendAt: sendAt}
		return due, domain.ReminderDueEvent(r.newID("evt"), now, due), true
	})
	switch {
	case apperr.Is(err, apperr.NotFound):
		rep.Stale++
	case err != nil:
		return err
	case stale:
		rep.Stale++
	case recorded:
		rep.Recorded++
	default:
		rep.AlreadyRecorded++
	}
	return nil
}
