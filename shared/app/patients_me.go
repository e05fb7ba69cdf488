package app

import (
	"context"
	"time"

	"github.com/labchain/appointments/shared/apperr"
	"github.com/labchain/appointments/shared/domain"
)

// MaxUpcomingShown bounds the upcoming visits Me returns.
const MaxUpcomingShown = 50

// maxVisitPages bounds the pages of a patient's visits Me reads (past visits
// come first in start order).
const maxVisitPages = 20

// PatientViewStore is what the "me" views need: the profiles and the
// patient's visits.
type PatientViewStore interface {
	PatientStore
	// ListAppointmentsByPatient lists a patient's appointments ordered by start.
	ListAppointmentsByPatient(ctx context.Context, patientID string, limit int, cursor string) (Page[domain.Appointment], error)
}

// MeView is a patient's own profile and their upcoming visits (booked or
// checked in, not yet ended), soonest first.
type MeView struct {
	Profile  domain.PatientProfile
	Upcoming []domain.Appointment
}

// DependentView is one dependent of the caller, with the dependent's name
// when the dependent has a profile ("" otherwise).
type DependentView struct {
	domain.Dependent
	Name string
}

// PatientViews serves the token's patient their own profile.
type PatientViews struct {
	store PatientViewStore
	now   func() time.Time
}

// NewPatientViews returns the "me" use cases; now defaults to time.Now.
func NewPatientViews(store PatientViewStore, now func() time.Time) *PatientViews {
	if now == nil {
		now = time.Now
	}
	return &PatientViews{store: store, now: now}
}

// profileOf returns the caller's profile: UNAUTHENTICATED without an actor,
// FORBIDDEN for a caller who is not a patient, NOT_FOUND when the patient
// has no profile yet or it was erased.
func (v *PatientViews) profileOf(ctx context.Context, actor domain.Actor) (domain.PatientProfile, error) {
	if err := authenticated(actor); err != nil {
		return domain.PatientProfile{}, err
	}
	if actor.Role != domain.RolePatient || actor.PatientID == "" {
		return domain.PatientProfile{}, apperr.E(apperr.Forbidden, "only a patient has a profile of their own")
	}
	p, err := v.store.GetPatient(ctx, actor.PatientID)
	if err != nil {
		return domain.PatientProfile{}, err
	}
	if p.Erased() || p.Name == "" { // a tombstone, or only a merge mark
		return domain.PatientProfile{}, apperr.E(apperr.NotFound, "no profile for this patient")
	}
	return p, nil
}

// Me returns the caller's profile and upcoming visits (at most
// MaxUpcomingShown). UNAUTHENTICATED, FORBIDDEN (not a patient), NOT_FOUND
// (no profile yet).
func (v *PatientViews) Me(ctx context.Context, actor domain.Actor) (MeView, error) {
	p, err := v.profileOf(ctx, actor)
	if err != nil {
		return MeView{}, err
	}
	now := v.now()
	out := MeView{Profile: p, Upcoming: []domain.Appointment{}}
	cursor := ""
	for range maxVisitPages {
		page, err := v.store.ListAppointmentsByPatient(ctx, actor.PatientID, 100, cursor)
		if err != nil {
			return MeView{}, err
		}
		for _, a := range page.Items {
			if a.Status.Active() && a.End.After(now) && len(out.Upcoming) < MaxUpcomingShown {
				out.Upcoming = append(out.Upcoming, a)
			}
		}
		if page.Cursor == "" || len(out.Upcoming) >= MaxUpcomingShown {
			break
		}
		cursor = page.Cursor
	}
	return out, nil
}

// Dependents returns the caller's dependents, in the profile's order, each
// with the name from the dependent's own profile when there is one.
// UNAUTHENTICATED, FORBIDDEN (not a patient), NOT_FOUND (no profile yet).
func (v *PatientViews) Dependents(ctx context.Context, actor domain.Actor) ([]DependentView, error) {
	p, err := v.profileOf(ctx, actor)
	if err != nil {
		return nil, err
	}
	out := make([]DependentView, 0, len(p.Dependents))
	for _, d := range p.Dependents {
		dv := DependentView{Dependent: d}
		dp, err := v.store.GetPatient(ctx, d.PatientID)
		switch {
		case err == nil && !dp.Erased():
			dv.Name = dp.Name
		case err != nil && !apperr.Is(err, apperr.NotFound):
			return nil, err
		}
		out = append(out, dv)
	}
	return out, nil
}
