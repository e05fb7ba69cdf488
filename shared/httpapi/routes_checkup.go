package httpapi

import (
	"context"
	"net/http"

	"github.com/labchain/appointments/shared/app"
	"github.com/labchain/appointments/shared/apperr"
	"github.com/labchain/appointments/shared/domain"
)

// CheckupReports is what the check-up campaign route needs; *app.Checkup
// implements it. The rules and error codes are app.Checkup.CampaignReport's.
type CheckupReports interface {
	// CampaignReport reports a campaign's placed and unplaced participants.
	CampaignReport(ctx context.Context, actor domain.Actor, id string) (app.CampaignReport, error)
}

var _ CheckupReports = (*app.Checkup)(nil)

// GetCheckupCampaign is GET /v1/checkup-campaigns/{campaignId} → the
// campaign report (CampaignReportResponse: placed and unplaced participants
// without contact data, and the number still pending). Staff of the
// campaign's branch and admins; 404 for everyone else.
func GetCheckupCampaign(reports CheckupReports) Route {
	return Route{
		Name: "GetCheckupCampaign", Method: http.MethodGet, Path: "/v1/checkup-campaigns/{campaignId}",
		Handle: func(ctx context.Context, r *Request) (any, error) {
			id, err := r.PathParam("campaignId")
			if err != nil {
				return nil, err
			}
			rep, err := reports.CampaignReport(ctx, r.Actor, id)
			if err != nil {
				return nil, err
			}
			return campaignReportResponse(rep), nil
		},
	}
}

// checkupReportsOf returns svc's campaign reports when it has them (the
// registry only needs the route's key otherwise).
func checkupReportsOf(svc UseCases) CheckupReports {
	if r, ok := svc.(CheckupReports); ok {
		return r
	}
	return noCheckupReports{}
}

// noCheckupReports answers every report with INTERNAL: a function that serves
// the route must be wired with app.Checkup.
type noCheckupReports struct{}

func (noCheckupReports) CampaignReport(context.Context, domain.Actor, string) (app.CampaignReport, error) {
	return app.CampaignReport{}, apperr.E(apperr.Internal, "check-up reports are not wired into this function")
}
