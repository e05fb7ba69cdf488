package domain

import "time"

// CanTransition reports whether the lifecycle allows from → to.
// booked → checked_in | cancelled | no_show; checked_in → completed. Nothing
// else (in particular checked_in → no_show is not allowed).
func CanTransition(from, to Status) bool { panic("todo") }

// Holds reports whether an appointment in status s holds its cells (booked,
// checked_in and completed do; cancelled and no_show release them).
func (s Status) Holds() bool { panic("todo") }

// CheckPatientChange returns CANCEL_CUTOFF when a patient tries to cancel or
// reschedule a visit of svc at or after start − CancelCutoffMinutes. Staff and
// admin are never cut off.
func CheckPatientChange(actor Actor, svc Service, a Appointment, now time.Time) error {
	panic("todo")
}
