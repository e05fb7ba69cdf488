package app

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/labchain/appointments/shared/apperr"
	"github.com/labchain/appointments/shared/domain"
)

// maxNotesLen bounds free-text notes and reasons (they are personal data too).
const maxNotesLen = 1000

// Availability lists bookable starts (any authenticated caller) with the
// branch's catalog (cached, see catalogCache) and one occupancy read of the
// whole range. VALIDATION_FAILED, NOT_FOUND.
func (s *Service) Availability(ctx context.Context, actor domain.Actor, q AvailabilityQuery) ([]domain.Slot, error) {
	if err := authenticated(actor); err != nil {
		return nil, err
	}
	if q.BranchID == "" || q.ServiceID == "" || q.From == "" || q.To == "" {
		return nil, apperr.E(apperr.Validation, "branchId, serviceId, from and to are required")
	}
	dates, err := domain.DatesInRange(q.From, q.To, domain.MaxRangeDays)
	if err != nil {
		return nil, err
	}
	cat, svc, err := s.cachedCatalog(ctx, q.BranchID, q.ServiceID)
	if err != nil {
		return nil, err
	}
	// A slot shown free but taken a moment ago is refused at booking, so the
	// answer may read the eventually consistent range index: one request.
	occ, err := s.store.OccupancyRange(ctx, q.BranchID, dates[0], dates[len(dates)-1])
	if err != nil {
		return nil, err
	}
	slots, err := domain.Availability(cat, svc, occ, dates, s.clock())
	if slots == nil {
		slots = []domain.Slot{}
	}
	return slots, err
}

// Book books a visit (patient for itself, staff of the branch, admin) and
// records an appointment.booked event with it.
// VALIDATION_FAILED, NOT_FOUND, OUTSIDE_SCHEDULE, SLOT_UNAVAILABLE, FORBIDDEN.
func (s *Service) Book(ctx context.Context, actor domain.Actor, in BookInput) (domain.Appointment, error) {
	if err := authenticated(actor); err != nil {
		return domain.Appointment{}, err
	}
	switch actor.Role {
	case domain.RolePatient:
		in.Patient.ID = actor.PatientID // never trust the body for whose visit it is
	case domain.RoleStaff:
		if !actor.InBranch(in.BranchID) {
			return domain.Appointment{}, notFound("branch", in.BranchID)
		}
	}
	if in.BranchID == "" || in.ServiceID == "" {
		return domain.Appointment{}, apperr.E(apperr.Validation, "branchId and serviceId are required")
	}
	if in.Start.IsZero() {
		return domain.Appointment{}, apperr.E(apperr.Validation, "start is required")
	}
	in.Notes = strings.TrimSpace(in.Notes)
	if len(in.Notes) > maxNotesLen {
		return domain.Appointment{}, apperr.E(apperr.Validation, "notes: at most %d characters", maxNotesLen)
	}
	if err := domain.NormalizePatient(&in.Patient); err != nil {
		return domain.Appointment{}, err
	}
	if !validID(in.Patient.ID) {
		return domain.Appointment{}, apperr.E(apperr.Validation, "patient.id: letters, digits and _ . : - only")
	}
	cat, svc, err := s.cachedCatalog(ctx, in.BranchID, in.ServiceID)
	if err != nil {
		return domain.Appointment{}, err
	}
	loc, err := domain.LoadLocation(cat.Branch.TimeZone)
	if err != nil {
		return domain.Appointment{}, apperr.Wrap(err, "branch %s has a bad time zone", cat.Branch.ID)
	}
	date := domain.LocalDate(in.Start, loc)
	id := s.newID("apt")
	var (
		booked domain.Appointment
		// The first candidate is planned on what this container last saw of
		// the day (no read); the day's cells are read only after a cell
		// conflict, or before refusing a plan the hint made impossible.
		occ       = s.hints.get(in.BranchID, date, s.now())
		fresh     bool
		refreshed bool
	)
	readOccupancy := func() error {
		o, err := s.store.Occupancy(ctx, in.BranchID, []string{date})
		if err != nil {
			return err
		}
		occ, fresh = o, true
		s.hints.put(in.BranchID, date, o, s.now())
		return nil
	}
	err = RetryConcurrent(ctx, func() error {
		now := s.clock()
		plan, err := domain.PlanBooking(cat, svc, occ, in.Start, now, "", s.rnd())
		if apperr.Is(err, apperr.SlotUnavailable) && !fresh {
			if err := readOccupancy(); err != nil {
				return noRetry{err}
			}
			return apperr.E(apperr.SlotUnavailable, "planned again on the day's cells")
		}
		if err != nil {
			return noRetry{err}
		}
		a := domain.Appointment{
			ID: id, Status: domain.StatusBooked, BranchID: in.BranchID, ServiceID: in.ServiceID,
			Start: plan.Start, End: plan.End, Patient: in.Patient, Notes: in.Notes,
			Resources: plan.Resources, Preparation: svc.Preparation, Version: 1,
			CreatedAt: now, UpdatedAt: now, Cells: plan.Cells,
		}
		h := domain.HistoryEntry{At: now, To: domain.StatusBooked, Actor: actor.Ref(), Start: a.Start, End: a.End}
		ev := domain.AppointmentEvent(s.newID("evt"), domain.EventAppointmentBooked, now, a)
		g := s.guard(actor, now)
		g.CheckCatalog, g.CatalogVersion = true, cat.Version
		err = s.store.CreateAppointmentGuarded(ctx, a, h, ev, g)
		switch {
		case err == nil:
			booked = a
			s.hints.took(a, date, s.now())
			return nil
		case errors.Is(err, ErrCatalogChanged):
			// Planned on a catalog that changed meanwhile: read it again
			// and plan again, once.
			s.catalogs.drop(in.BranchID)
			if refreshed {
				// Changed again: the time may well be free, so not a
				// SLOT_UNAVAILABLE/CONFLICT; 503 + Retry-After invites the
				// same request again once the change has settled.
				return noRetry{apperr.E(apperr.Unavailable, "the branch's schedule is being changed; try again shortly")}
			}
			refreshed = true
			if cat, svc, err = s.freshCatalog(ctx, in.BranchID, in.ServiceID); err != nil {
				return noRetry{err}
			}
			return apperr.E(apperr.Conflict, "catalog refreshed")
		case apperr.Is(err, apperr.SlotUnavailable):
			// A candidate cell is held: read who holds what (strongly
			// consistent) and plan among the free resources, or refuse.
			if err := readOccupancy(); err != nil {
				return noRetry{err}
			}
			return apperr.E(apperr.SlotUnavailable, "occupancy read again")
		}
		return err
	})
	var final noRetry
	switch {
	case err == nil:
		return booked, nil
	case errors.As(err, &final):
		return domain.Appointment{}, final.err
	case apperr.Is(err, apperr.SlotUnavailable), apperr.Is(err, apperr.Conflict):
		return domain.Appointment{}, apperr.E(apperr.SlotUnavailable, "no free resources at %s", in.Start.Format(time.RFC3339))
	}
	return domain.Appointment{}, err
}

// noRetry carries a decision's error through RetryConcurrent unretried (a
// plan refused with SLOT_UNAVAILABLE is final: the occupancy was just read).
type noRetry struct{ err error }

func (e noRetry) Error() string { return e.err.Error() }

// GetAppointment returns a visit the caller may see (else NOT_FOUND).
func (s *Service) GetAppointment(ctx context.Context, actor domain.Actor, id string) (domain.Appointment, error) {
	if err := authenticated(actor); err != nil {
		return domain.Appointment{}, err
	}
	return s.visible(ctx, actor, id)
}

// visible loads an appointment and hides it from callers who may not see it.
func (s *Service) visible(ctx context.Context, actor domain.Actor, id string) (domain.Appointment, error) {
	if !validID(id) {
		return domain.Appointment{}, notFound("appointment", id)
	}
	a, err := s.store.GetAppointment(ctx, id)
	if err != nil {
		return domain.Appointment{}, err
	}
	if !canSee(actor, a) {
		return domain.Appointment{}, notFound("appointment", id)
	}
	return a, nil
}

// ListAppointments lists by branch+date (staff of the branch, admin) or by
// patient (that patient, admin; staff see only their branches' visits).
// VALIDATION_FAILED, FORBIDDEN.
func (s *Service) ListAppointments(ctx context.Context, actor domain.Actor, q ListQuery) (Page[domain.Appointment], error) {
	var none Page[domain.Appointment]
	if err := authenticated(actor); err != nil {
		return none, err
	}
	if q.Limit == 0 {
		q.Limit = 50
	}
	if q.Limit < 1 || q.Limit > 100 {
		return none, apperr.E(apperr.Validation, "limit: must be between 1 and 100")
	}
	if actor.Role == domain.RolePatient {
		if q.BranchID != "" || q.Date != "" {
			return none, apperr.E(apperr.Forbidden, "patients may list only their own appointments")
		}
		if q.PatientID != "" && q.PatientID != actor.PatientID {
			return none, apperr.E(apperr.Forbidden, "patients may list only their own appointments")
		}
		q.PatientID = actor.PatientID
	}
	switch {
	case q.PatientID != "" && (q.BranchID != "" || q.Date != ""):
		return none, apperr.E(apperr.Validation, "give either branchId and date, or patientId")
	case q.PatientID != "":
		if !validID(q.PatientID) {
			return none, apperr.E(apperr.Validation, "patientId: invalid")
		}
		page, err := s.store.ListAppointmentsByPatient(ctx, q.PatientID, q.Limit, q.Cursor)
		if err != nil {
			return none, err
		}
		if actor.Role == domain.RoleStaff { // staff see a patient's visits at their own branches only
			kept := page.Items[:0]
			for _, a := range page.Items {
				if actor.InBranch(a.BranchID) {
					kept = append(kept, a)
				}
			}
			page.Items = kept
		}
		return nonNilPage(page), nil
	case q.BranchID != "" && q.Date != "":
		if _, err := domain.DatesInRange(q.Date, q.Date, 1); err != nil {
			return none, apperr.E(apperr.Validation, "date: must be YYYY-MM-DD")
		}
		if !actor.InBranch(q.BranchID) {
			return none, apperr.E(apperr.Forbidden, "only staff of the branch may list its appointments")
		}
		if !validID(q.BranchID) {
			return none, notFound("branch", q.BranchID)
		}
		page, err := s.store.ListAppointmentsByBranchDay(ctx, q.BranchID, q.Date, q.Limit, q.Cursor)
		return nonNilPage(page), err
	}
	return none, apperr.E(apperr.Validation, "give either branchId and date, or patientId")
}

func nonNilPage(p Page[domain.Appointment]) Page[domain.Appointment] {
	if p.Items == nil {
		p.Items = []domain.Appointment{}
	}
	return p
}

// Reschedule moves a booked visit atomically: the new cells are taken, the
// old ones released and an appointment.rescheduled event recorded in one
// transaction, or nothing changes. NOT_FOUND,
// CANCEL_CUTOFF, OUTSIDE_SCHEDULE, SLOT_UNAVAILABLE, INVALID_TRANSITION.
func (s *Service) Reschedule(ctx context.Context, actor domain.Actor, id string, start time.Time) (domain.Appointment, error) {
	if err := authenticated(actor); err != nil {
		return domain.Appointment{}, err
	}
	if start.IsZero() {
		return domain.Appointment{}, apperr.E(apperr.Validation, "start is required")
	}
	if !validID(id) {
		return domain.Appointment{}, notFound("appointment", id)
	}
	next, err := s.store.UpdateAppointment(ctx, id, func(a domain.Appointment) (Change, error) {
		if !canSee(actor, a) {
			return Change{}, notFound("appointment", id)
		}
		if err := domain.CheckReschedulable(a); err != nil {
			return Change{}, err
		}
		cat, svc, err := s.catalog(ctx, a.BranchID, a.ServiceID)
		if err != nil {
			return Change{}, err
		}
		now := s.clock()
		if err := domain.CheckPatientChange(actor, svc, a, now); err != nil {
			return Change{}, err
		}
		loc, err := domain.LoadLocation(cat.Branch.TimeZone)
		if err != nil {
			return Change{}, apperr.Wrap(err, "branch %s has a bad time zone", cat.Branch.ID)
		}
		// Read in the closure, so that each attempt plans on a fresh occupancy.
		occ, err := s.store.Occupancy(ctx, a.BranchID, []string{domain.LocalDate(start, loc)})
		if err != nil {
			return Change{}, err
		}
		plan, err := domain.PlanBooking(cat, svc, occ, start, now, a.ID, s.rnd())
		if err != nil {
			return Change{}, err
		}
		next, err := domain.Reschedule(a, plan, now)
		if err != nil {
			return Change{}, err
		}
		h := domain.HistoryEntry{At: now, From: a.Status, To: next.Status, Actor: actor.Ref(), Reason: "rescheduled", Start: next.Start, End: next.End}
		return One(next, h, domain.AppointmentEvent(s.newID("evt"), domain.EventAppointmentRescheduled, now, next)), nil
	})
	switch {
	case err == nil:
		return next, nil
	case apperr.Is(err, apperr.Conflict):
		return domain.Appointment{}, apperr.E(apperr.Conflict, "the appointment is being changed concurrently; try again")
	}
	return domain.Appointment{}, err
}

// Cancel cancels a booked visit and frees its capacity at once (event
// appointment.cancelled). NOT_FOUND,
// CANCEL_CUTOFF, INVALID_TRANSITION.
func (s *Service) Cancel(ctx context.Context, actor domain.Actor, id, reason string) (domain.Appointment, error) {
	return s.change(ctx, actor, id, domain.StatusCancelled, reason)
}

// Transition moves a visit to checked_in, completed or no_show (staff of the
// branch, admin), recording the event of that type (domain.StatusEventType). NOT_FOUND, FORBIDDEN, INVALID_TRANSITION.
func (s *Service) Transition(ctx context.Context, actor domain.Actor, id string, to domain.Status, reason string) (domain.Appointment, error) {
	switch to {
	case domain.StatusCheckedIn, domain.StatusCompleted, domain.StatusNoShow:
	default:
		return domain.Appointment{}, apperr.E(apperr.Validation, "status: cannot move to %q here", to)
	}
	return s.change(ctx, actor, id, to, reason)
}

// change applies a status change with optimistic concurrency and records its
// event in the same transaction.
func (s *Service) change(ctx context.Context, actor domain.Actor, id string, to domain.Status, reason string) (domain.Appointment, error) {
	if err := authenticated(actor); err != nil {
		return domain.Appointment{}, err
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
	next, err := s.store.UpdateAppointment(ctx, id, func(a domain.Appointment) (Change, error) {
		if !canSee(actor, a) {
			return Change{}, notFound("appointment", id)
		}
		if to != domain.StatusCancelled && actor.Role == domain.RolePatient {
			return Change{}, apperr.E(apperr.Forbidden, "only staff may record check-in, completion or no-show")
		}
		now := s.clock()
		next, err := domain.ChangeStatus(a, to, now)
		if err != nil {
			return Change{}, err
		}
		if to == domain.StatusCancelled {
			_, svc, err := s.catalog(ctx, a.BranchID, a.ServiceID)
			if err != nil {
				return Change{}, err
			}
			if err := domain.CheckPatientChange(actor, svc, a, now); err != nil {
				return Change{}, err
			}
		}
		h := domain.HistoryEntry{At: now, From: a.Status, To: to, Actor: actor.Ref(), Reason: reason, Start: a.Start, End: a.End}
		return One(next, h, domain.AppointmentEvent(s.newID("evt"), eventType, now, next)), nil
	})
	switch {
	case err == nil:
		return next, nil
	case apperr.Is(err, apperr.Conflict):
		return domain.Appointment{}, apperr.E(apperr.Conflict, "the appointment is being changed concurrently; try again")
	}
	return domain.Appointment{}, err
}

// History returns every change of a visit the caller may see. NOT_FOUND.
func (s *Service) History(ctx context.Context, actor domain.Actor, id string) ([]domain.HistoryEntry, error) {
	if err := authenticated(actor); err != nil {
		return nil, err
	}
	if _, err := s.visible(ctx, actor, id); err != nil {
		return nil, err
	}
	hs, err := s.store.History(ctx, id)
	if hs == nil {
		hs = []domain.HistoryEntry{}
	}
	return hs, err
}

// guard is what a booking by actor at now must also satisfy: a patient
// booking for themself may hold at most maxActive upcoming visits (booked or
// checked in, start after now; staff and admins are not capped, but visits
// they book count). The store checks it in the booking's own transaction, so
// two simultaneous bookings cannot both pass it.
func (s *Service) guard(actor domain.Actor, now time.Time) Guard {
	g := Guard{Now: now}
	if s.maxActive > 0 && actor.Role == domain.RolePatient {
		g.MaxUpcoming = s.maxActive
	}
	return g
}
