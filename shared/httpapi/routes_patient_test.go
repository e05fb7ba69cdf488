package httpapi

import (
	"context"
	"net/http"
	"testing"

	"github.com/labchain/appointments/shared/app"
	"github.com/labchain/appointments/shared/apperr"
	"github.com/labchain/appointments/shared/domain"
)

func (f *fakeSvc) Me(_ context.Context, a domain.Actor) (app.MeView, error) {
	f.record("Me", a)
	return app.MeView{Profile: domain.PatientProfile{PatientID: a.PatientID, Name: "Somchai", Phone: "+66812345678", Email: "s@example.com", Locale: "th"}}, f.err
}

func (f *fakeSvc) Dependents(_ context.Context, a domain.Actor) ([]app.DependentView, error) {
	f.record("Dependents", a)
	return nil, f.err
}

// TestMeRoutes: the routes answer the use case's view, with [] for empty
// lists, and a patient without a profile gets 404 NOT_FOUND.
func TestMeRoutes(t *testing.T) {
	for _, tt := range []struct {
		route func(PatientViewUseCases) Route
		body  string
	}{
		{GetMe, `{"patientId":"","name":"Somchai","phone":"+66812345678","email":"s@example.com","locale":"th","dependents":[],"upcoming":[]}`},
		{ListMyDependents, `{"items":[]}`},
	} {
		svc := &fakeSvc{}
		rt := tt.route(svc)
		resp := newHarness().serve(t, rt, adminEvent(t, rt, nil, nil, ""))
		if resp.StatusCode != http.StatusOK || resp.Body != tt.body {
			t.Errorf("%s: %d %s, want 200 %s", rt.Name, resp.StatusCode, resp.Body, tt.body)
		}
		svc.err = apperr.E(apperr.NotFound, "no profile for this patient")
		expectError(t, newHarness().serve(t, rt, adminEvent(t, rt, nil, nil, "")), http.StatusNotFound, "NOT_FOUND")
	}
}
