package httpapi

import (
	"context"
	"net/http"

	"github.com/labchain/appointments/shared/app"
	"github.com/labchain/appointments/shared/apperr"
	"github.com/labchain/appointments/shared/domain"
)

// PatientViewUseCases is what the "me" routes need; *app.PatientViews
// implements it. Rules and error codes are its own.
type PatientViewUseCases interface {
	Me(ctx context.Context, actor domain.Actor) (app.MeView, error)
	Dependents(ctx context.Context, actor domain.Actor) ([]app.DependentView, error)
}

var _ PatientViewUseCases = (*app.PatientViews)(nil)

// GetMe is GET /v1/me → the token's patient: profile and upcoming visits.
// 404 NOT_FOUND while the Patient Service has sent no profile for the
// patient; 403 for staff and admins (they have no patient profile).
func GetMe(uc PatientViewUseCases) Route {
	return Route{
		Name: "GetMe", Method: http.MethodGet, Path: "/v1/me",
		Handle: func(ctx context.Context, r *Request) (any, error) {
			v, err := uc.Me(ctx, r.Actor)
			if err != nil {
				return nil, err
			}
			return meResponse(v), nil
		},
	}
}

// ListMyDependents is GET /v1/me/dependents → the people the token's patient
// may act for, with GetMe's errors.
func ListMyDependents(uc PatientViewUseCases) Route {
	return Route{
		Name: "ListMyDependents", Method: http.MethodGet, Path: "/v1/me/dependents",
		Handle: func(ctx context.Context, r *Request) (any, error) {
			ds, err := uc.Dependents(ctx, r.Actor)
			if err != nil {
				return nil, err
			}
			out := DependentsResponse{Items: make([]DependentResponse, 0, len(ds))}
			for _, d := range ds {
				out.Items = append(out.Items, DependentResponse{PatientID: d.PatientID, Relation: d.Relation, ConsentAt: d.ConsentAt, Name: d.Name})
			}
			return out, nil
		},
	}
}

func patientViewsOf(svc UseCases) PatientViewUseCases {
	if v, ok := svc.(PatientViewUseCases); ok {
		return v
	}
	return noPatientViews{}
}

// noPatientViews answers with INTERNAL: a function serving these routes
// must be wired with app.PatientViews.
type noPatientViews struct{}

func (noPatientViews) Me(context.Context, domain.Actor) (app.MeView, error) {
	return app.MeView{}, apperr.E(apperr.Internal, "patient views not wired")
}

func (noPatientViews) Dependents(context.Context, domain.Actor) ([]app.DependentView, error) {
	return nil, apperr.E(apperr.Internal, "patient views not wired")
}
