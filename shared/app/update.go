package app

import (
	"context"

	"github.com/labchain/appointments/shared/apperr"
	"github.com/labchain/appointments/shared/domain"
)

// UpdateFunc decides a change of one appointment: given the appointment as
// the store read it, it returns what to write (a Change), or an error that
// the store's UpdateAppointment returns as it is, writing nothing.
//
// Why it returns a Change instead of editing the appointment in place: every
// new version of an appointment is written with its history entry and, most
// often, its event, in the same transaction, and one decision may make
// several versions (an LIS event that completes a booked visit makes two),
// so the closure hands the store the versions it made, each with what records
// it.
//
// The store may call it more than once (once per attempt, each time with a
// fresh read), so it must be deterministic in what it decides from its input
// and any effect it has must be idempotent.
type UpdateFunc func(current domain.Appointment) (Change, error)

// Change is what one update writes, atomically and conditional on the
// version that was read.
//
// Steps are the new versions in order: step i's State has Version
// current.Version+1+i, and the last State is the new appointment (its cells
// replace current's: cells no longer held are released, new ones taken
// conditionally). Each step writes its History entry and, when its Event has
// an ID, the event in the outbox with the step's State as data. No steps
// means nothing to write: UpdateAppointment returns current unchanged.
type Change struct {
	Steps []Step
	// Links are lab order lookups, each written only if absent (CONFLICT if
	// the lab order was linked meanwhile).
	Links []LabOrderLink
	// Anonymized marks the appointment as anonymized (data minimisation) at
	// the last step's History.At.
	Anonymized bool
}

// Step is one new version of an appointment with the history entry and the
// event that record it: State is the appointment after the step (the event's
// data). An Event with an empty ID records no event.
type Step struct {
	History domain.HistoryEntry
	Event   domain.Event
	State   domain.Appointment
}

// LabOrderLink is the lookup that finds the appointment of a lab order from
// an LIS event that carries only the lab order id.
type LabOrderLink struct {
	LabOrderID    string
	AppointmentID string
}

// One returns the Change of a single new version next, recorded by h and ev.
func One(next domain.Appointment, h domain.HistoryEntry, ev domain.Event) Change {
	return Change{Steps: []Step{{History: h, Event: ev, State: next}}}
}

// MaxUpdateAttempts bounds the attempts of one optimistic update (read,
// decide, conditional write). An attempt fails only when another change
// committed between its read and its write, so a handful suffices even under
// heavy contention.
const MaxUpdateAttempts = 6

// RetryConcurrent is the one optimistic-concurrency loop of the system, for
// the stores' UpdateAppointment and the booking: it runs attempt until it
// returns nil or an error other than CONFLICT (the version read is no longer
// the stored one) or SLOT_UNAVAILABLE (a cell was taken after the occupancy
// was read; the next attempt plans again), at most MaxUpdateAttempts times,
// and returns the last error. It stops early when ctx is done.
func RetryConcurrent(ctx context.Context, attempt func() error) error {
	var err error
	for range MaxUpdateAttempts {
		if err = attempt(); err == nil || !retryable(err) {
			return err
		}
		if ctx.Err() != nil {
			return err
		}
	}
	return err
}

func retryable(err error) bool {
	return apperr.Is(err, apperr.Conflict) || apperr.Is(err, apperr.SlotUnavailable)
}
