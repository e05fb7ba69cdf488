package app_test

import (
	"context"
	"testing"

	"github.com/labchain/appointments/shared/app"
	"github.com/labchain/appointments/shared/apperr"
	"github.com/labchain/appointments/shared/domain"
)

func putProfile(t *testing.T, s app.PatientStore, id, name string, deps ...domain.Dependent) {
	t.Helper()
	c := domain.PatientChange{Kind: domain.PatientUpserted, PatientID: id, Version: 1, Profile: domain.PatientProfile{
		Name: name, Phone: "+66812345678", Email: "x@example.co.th", Locale: "th", Dependents: deps,
	}}
	_, err := s.UpdatePatient(context.Background(), id, func(cur *domain.PatientProfile) (domain.PatientProfile, bool, error) {
		return domain.ApplyPatientChange(cur, c, fixedNow)
	})
	must(t, err)
}

// TestMeAndDependents: the token's patient sees their profile and only their
// active visits; a patient without a profile gets NOT_FOUND, staff and admin
// FORBIDDEN; dependents carry the name of their own profile when they have
// one.
func TestMeAndDependents(t *testing.T) {
	f := newFixture(t, 2)
	store := f.store.(app.PatientViewStore)
	views := app.NewPatientViews(store, f.clock.Now)
	ctx := context.Background()

	kept, err := f.book(patientA, f.draw, "2026-12-01T09:00:00+07:00")
	must(t, err)
	dropped, err := f.book(patientA, f.draw, "2026-12-01T10:00:00+07:00")
	must(t, err)
	_, err = f.svc.Cancel(ctx, patientA, dropped.ID, "")
	must(t, err)
	_, err = f.book(patientB, f.draw, "2026-12-01T11:00:00+07:00")
	must(t, err)

	_, err = views.Me(ctx, patientA)
	wantCode(t, err, apperr.NotFound) // visits, but no profile yet

	putProfile(t, store, "p-a", "Somchai", domain.Dependent{PatientID: "p-kid", Relation: "child", ConsentAt: fixedNow},
		domain.Dependent{PatientID: "p-none", Relation: "parent", ConsentAt: fixedNow})
	putProfile(t, store, "p-kid", "Nong Mai")
	me, err := views.Me(ctx, patientA)
	must(t, err)
	if me.Profile.Name != "Somchai" || len(me.Upcoming) != 1 || me.Upcoming[0].ID != kept.ID {
		t.Fatalf("me: %+v", me)
	}
	f.clock.Set(kept.End.Add(1))
	if me, err := views.Me(ctx, patientA); err != nil || len(me.Upcoming) != 0 {
		t.Fatalf("after the visit ended: %+v, %v", me, err)
	}

	deps, err := views.Dependents(ctx, patientA)
	must(t, err)
	if len(deps) != 2 || deps[0].PatientID != "p-kid" || deps[0].Name != "Nong Mai" || deps[1].PatientID != "p-none" || deps[1].Name != "" || deps[1].Relation != "parent" {
		t.Fatalf("dependents: %+v", deps)
	}

	_, err = views.Dependents(ctx, patientB)
	wantCode(t, err, apperr.NotFound)
	_, err = views.Me(ctx, f.staff)
	wantCode(t, err, apperr.Forbidden)
	_, err = views.Me(ctx, admin)
	wantCode(t, err, apperr.Forbidden)
}
