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
// It takes the same path as a staff change: Store.UpdateAppointment with
// the lifecycle rule (domain.ChangeStatus: no no-show before the start,
// cells released when the new status does not hold them), one history entry
// with reason, and the status's event in the same transaction.
//
// still, if not nil, is the job's own rule, checked on the appointment as
// read in each attempt (a concurrent change may have moved it): when it
// returns false nothing changes and the error is INVALID_TRANSITION. Also
// NOT_FOUND, INVALID_TRANSITION (lifecycle), CONFLICT when concurrent changes
// kept winning, VALIDATION_FAILED for an actor that is not the system, a
// status no change moves to, or a reason longer than 1000 characters.
func (s *Service) SystemTransition(ctx context.Context, actor domain.ActorRef, id string, to domain.Status, reason string, still func(domain.Appointment) bool) (domain.Appointment, error) {
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
	return s.store.UpdateAppointment(ctx, id, func(a domain.Appointment) (Change, error) {
		if still != nil && !still(a) {
			return Change{}, apperr.E(apperr.InvalidTransition, "appointment %s (%s, version %d) no longer qualifies", id, a.Status, a.Version)
		}
		now := s.clock()
		next, err := domain.ChangeStatus(a, to, now)
		if err != nil {
			return Change{}, err
		}
		h := domain.HistoryEntry{At: now, From: a.Status, To: to, Actor: actor, Reason: reason, Start: a.Start, End: a.End}
		return One(next, h, domain.AppointmentEvent(s.newID("evt"), eventType, now, next)), nil
	})
}
