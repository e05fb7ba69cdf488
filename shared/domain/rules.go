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
