package domain

import (
	"time"

	"github.com/labchain/appointments/shared/apperr"
)

// CanTransition reports whether the lifecycle allows from → to.
// booked → checked_in | cancelled | no_show; checked_in → completed. Nothing
// else (in particular checked_in → no_show is not allowed).
func CanTransition(from, to Status) bool {
	switch from {
	case StatusBooked:
		return to == StatusCheckedIn || to == StatusCancelled || to == StatusNoShow
	case StatusCheckedIn:
		return to == StatusCompleted
	}
	return false
}

// Holds reports whether an appointment in status s holds its cells (booked,
// checked_in and completed do; cancelled and no_show release them).
//
// A completed visit keeps its cells so that the past stays consistent: the
// resources really were in use then.
func (s Status) Holds() bool {
	return s == StatusBooked || s == StatusCheckedIn || s == StatusCompleted
}

// CheckPatientChange returns CANCEL_CUTOFF when a patient tries to cancel or
// reschedule a visit of svc at or after start − CancelCutoffMinutes. Staff and
// admin are never cut off.
func CheckPatientChange(actor Actor, svc Service, a Appointment, now time.Time) error {
	if actor.Role != RolePatient {
		return nil
	}
	cutoff := clampMinutes(svc.CancelCutoffMinutes)
	if !now.Before(a.Start.Add(-cutoff)) {
		if cutoff == 0 {
			return apperr.E(apperr.CancelCutoff, "the visit has already started; please contact the branch")
		}
		return apperr.E(apperr.CancelCutoff, "changes are not possible within %d minutes of the start; please contact the branch", svc.CancelCutoffMinutes)
	}
	return nil
}

// ChangeStatus returns a moved to status `to` at now, as its next version:
// the lifecycle must allow it (CanTransition), a no-show cannot be recorded
// before the visit starts, and the cells are released (Cells nil) when `to`
// does not hold them, so capacity is free again in the same write.
// INVALID_TRANSITION otherwise.
func ChangeStatus(a Appointment, to Status, now time.Time) (Appointment, error) {
	if !CanTransition(a.Status, to) {
		return Appointment{}, apperr.E(apperr.InvalidTransition, "cannot move an appointment from %s to %s", a.Status, to)
	}
	if to == StatusNoShow && now.Before(a.Start) {
		return Appointment{}, apperr.E(apperr.InvalidTransition, "cannot record a no-show before the visit starts")
	}
	next := a
	next.Status, next.Version, next.UpdatedAt = to, a.Version+1, now
	if !to.Holds() {
		next.Cells = nil
	}
	return next, nil
}

// CheckReschedulable returns INVALID_TRANSITION unless a is booked: only a
// booked visit can move.
func CheckReschedulable(a Appointment) error {
	if a.Status != StatusBooked {
		return apperr.E(apperr.InvalidTransition, "only a booked appointment can be rescheduled (it is %s)", a.Status)
	}
	return nil
}

// Reschedule returns a moved to plan at now, as its next version (same
// status; its cells are the plan's). INVALID_TRANSITION unless a is booked.
func Reschedule(a Appointment, plan Plan, now time.Time) (Appointment, error) {
	if err := CheckReschedulable(a); err != nil {
		return Appointment{}, err
	}
	next := a
	next.Start, next.End, next.Resources, next.Cells = plan.Start, plan.End, plan.Resources, plan.Cells
	next.Version, next.UpdatedAt = a.Version+1, now
	return next, nil
}

// Active reports whether a visit in status s counts toward its patient's cap
// on upcoming visits while its start is in the future (booked or checked in;
// a visit checked in early still counts until it starts).
func (s Status) Active() bool { return s == StatusBooked || s == StatusCheckedIn }

// Upcoming reports whether a counts toward its patient's cap at now: it is
// Active and starts after now. A visit stops counting the moment its start
// passes, whatever its status then.
func Upcoming(a Appointment, now time.Time) bool { return a.Status.Active() && a.Start.After(now) }
