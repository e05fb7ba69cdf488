package httpapi

import (
	"time"

	"github.com/labchain/appointments/shared/app"
)

// CampaignReportResponse is a check-up campaign's outcome, without contact
// data.
type CampaignReportResponse struct {
	CampaignID string             `json:"campaignId"`
	BranchID   string             `json:"branchId"`
	ServiceID  string             `json:"serviceId"`
	Window     WindowBody         `json:"window"`
	Placed     []PlacedResponse   `json:"placed"`
	Unplaced   []UnplacedResponse `json:"unplaced"`
	Pending    int                `json:"pending"`
}

// WindowBody is an inclusive range of branch-local dates (YYYY-MM-DD).
type WindowBody struct {
	From string `json:"from"`
	To   string `json:"to"`
}

// PlacedResponse is a placed participant.
type PlacedResponse struct {
	ExternalID    string    `json:"externalId"`
	AppointmentID string    `json:"appointmentId"`
	Start         time.Time `json:"start"`
}

// UnplacedResponse is a participant who could not be placed, and why.
type UnplacedResponse struct {
	ExternalID string `json:"externalId"`
	Reason     string `json:"reason"`
}

func campaignReportResponse(r app.CampaignReport) CampaignReportResponse {
	return CampaignReportResponse{
		CampaignID: r.CampaignID, BranchID: r.BranchID, ServiceID: r.ServiceID,
		Window: WindowBody{From: r.Window.From, To: r.Window.To},
		Placed: mapSlice(r.Placed, func(p app.PlacedReport) PlacedResponse {
			return PlacedResponse{ExternalID: p.ExternalID, AppointmentID: p.AppointmentID, Start: p.Start}
		}),
		Unplaced: mapSlice(r.Unplaced, func(u app.UnplacedReport) UnplacedResponse {
			return UnplacedResponse{ExternalID: u.ExternalID, Reason: string(u.Reason)}
		}),
		Pending: r.Pending,
	}
}
