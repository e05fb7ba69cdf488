package app

import (
	"context"
	"strings"

	"github.com/labchain/appointments/shared/apperr"
	"github.com/labchain/appointments/shared/domain"
)

// SystemTransition changes a visit's status on behalf of the system itself —
// a scheduled job such as the no-show sweep — rather than a caller, so there
// is no Actor to authorize: actor (Role domain.RoleSystem, a non-empty ID
// such as "status-sweep") is what history records. Transition cannot serve:
// no token carries the system role, so its authorization refuses it.
//
// It takes the same path as a staff change: the lifecycle rule
// (domain.CanTransition), no no-show before the start, cells released when
// the new status does not hold them, one history entry with reason, and the
// status's event in the same UpdateAppointment transaction.
//
// The change applies only to the appointment at version, the one the job
// read and decided on: CONFLICT if it is at another version (the job re-reads
// and decides again) or changed concurrently. NOT_FOUND, INVALID_TRANSITION,
// VALIDATION_FAILED for an actor that is not the system, a status no change
// moves to, or a reason longer than 1000 characters.
func (s *Service) SystemTransition(ctx context.Context, actor domain.ActorRef, id string, version int, to domain.Status, reason string) (domain.Appointment, error) {
	if actor.Role != domain.RoleSystem || actor.ID == "" {
		return domain.Appointment{}, apperr.E(apperr.Validation, "actor: a system change needs a system actor with an id")
	}
	reason = strings.TrimSpace(reason)
	if len(reason) > maxNotesLen {
		return domain.Appointment{}, apperr.E(apperr.Validation, "reason: at most %d characters", maxNotesLen)
	}
	eventType, ok := domain.StatusEventType(to)
	if !ok {
		return domain.Appointment{}, apperr.E(apperr.Validation, "status: cannot move to %q", to)
	}
	if !validID(id) {
		return domain.Appointment{}, notFound("appointment", id)
	}
	a, err := s.store.GetAppointment(ctx, id)
	if err != nil {
		return domain.Appointment{}, err
	}
	if a.Version != version {
		return domain.Appointment{}, apperr.E(apperr.Conflict, "appointment %s is at version %d, not %d", id, a.Version, version)
	}
	if !domain.CanTransition(a.Status, to) {
		return domain.Appointment{}, apperr.E(apperr.InvalidTransition, "cannot move an appointment from %s to %s", a.Status, to)
	}
	now := s.clock()
	if to == domain.StatusNoShow && now.Before(a.Start) {
		return domain.Appointment{}, apperr.E(apperr.InvalidTransition, "cannot record a no-show before the visit starts")
	}
	next := a
	next.Status, next.Version, next.UpdatedAt = to, a.Version+1, now
	if !to.Holds() {
		next.Cells = nil
	}
	h := domain.HistoryEntry{At: now, From: a.Status, To: to, Actor: actor, Reason: reason, Start: a.Start, End: a.End}
	ev := domain.AppointmentEvent(s.newID("evt"), eventType, now, next)
	if err := s.store.UpdateAppointment(ctx, a, next, h, ev); err != nil {
		return domain.Appointment{}, err
	}
	return next, nil
}
