package dynamo

import (
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/labchain/appointments/shared/app"
	"github.com/labchain/appointments/shared/domain"
)

// Stored form of a check-up campaign and of its participants (see item.go
// for the format version). SettleParticipant updates status, appointmentId,
// start, reason and participant.{name,phone,email} in place: they keep these
// names.

func campaignItem(c app.Campaign) item {
	it := newItem(5)
	it.str("campaignId", c.ID)
	it.str("branchId", c.BranchID)
	it.str("serviceId", c.ServiceID)
	w := newItem(2)
	w.str("from", c.Window.From)
	w.str("to", c.Window.To)
	it.m("window", w)
	it.time("createdAt", c.CreatedAt)
	return it
}

func campaignFrom(av map[string]types.AttributeValue) (app.Campaign, error) {
	r := newReader(av)
	r.checkFormat()
	w, _ := r.m("window")
	c := app.Campaign{
		ID:        r.str("campaignId"),
		BranchID:  r.str("branchId"),
		ServiceID: r.str("serviceId"),
		Window:    domain.RosterWindow{From: w.str("from"), To: w.str("to")},
		CreatedAt: r.time("createdAt"),
	}
	return c, r.err()
}

func participantItem(p app.CampaignParticipant) item {
	it := newItem(6)
	it.str("externalId", p.ExternalID)
	rp := newItem(6)
	rp.str("externalId", p.Participant.ExternalID)
	rp.str("name", p.Participant.Name)
	rp.str("phone", p.Participant.Phone)
	rp.str("email", p.Participant.Email)
	rp.str("locale", p.Participant.Locale)
	rp.optStr("preferredDate", p.Participant.PreferredDate)
	it.m("participant", rp)
	it.str("status", string(p.Status))
	it.optStr("appointmentId", p.AppointmentID)
	it.optTime("start", p.Start) // SettleParticipant writes it in the same form
	it.optStr("reason", string(p.Reason))
	return it
}

func participantFrom(av map[string]types.AttributeValue) (app.CampaignParticipant, error) {
	r := newReader(av)
	r.checkFormat()
	rp, _ := r.m("participant")
	p := app.CampaignParticipant{
		ExternalID: r.str("externalId"),
		Participant: domain.RosterParticipant{
			ExternalID:    rp.str("externalId"),
			Name:          rp.str("name"),
			Phone:         rp.str("phone"),
			Email:         rp.str("email"),
			Locale:        rp.str("locale"),
			PreferredDate: rp.str("preferredDate"),
		},
		Status:        app.ParticipantStatus(r.str("status")),
		AppointmentID: r.str("appointmentId"),
		Start:         r.time("start"),
		Reason:        domain.PlacementReason(r.str("reason")),
	}
	return p, r.err()
}
