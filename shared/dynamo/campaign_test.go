package dynamo

import (
	"context"
	"testing"
	"time"

	"github.com/labchain/appointments/shared/app"
	"github.com/labchain/appointments/shared/apperr"
	"github.com/labchain/appointments/shared/domain"
)

func TestCampaignStore(t *testing.T) {
	s, _ := newStore(t)
	ctx := context.Background()
	c := app.Campaign{ID: "acme/2026:q1", BranchID: "br_1", ServiceID: "svc_1",
		Window: domain.RosterWindow{From: "2026-12-01", To: "2026-12-05"}, CreatedAt: time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)}

	if _, err := s.GetCampaign(ctx, c.ID); apperr.CodeOf(err) != apperr.NotFound {
		t.Fatalf("GetCampaign before create: %v, want NOT_FOUND", err)
	}
	got, created, err := s.CreateCampaign(ctx, c)
	if err != nil || !created || got != c {
		t.Fatalf("CreateCampaign = %+v, %v, %v", got, created, err)
	}
	other := c
	other.ServiceID = "svc_2"
	got, created, err = s.CreateCampaign(ctx, other)
	if err != nil || created || got != c {
		t.Fatalf("second CreateCampaign = %+v, %v, %v; want the stored campaign, not created", got, created, err)
	}

	p := func(id string) app.CampaignParticipant {
		return app.CampaignParticipant{ExternalID: id, Status: app.ParticipantPending,
			Participant: domain.RosterParticipant{ExternalID: id, Name: "N " + id, Phone: "+66812345678", Locale: "th"}}
	}
	if err := s.AddParticipants(ctx, c.ID, []app.CampaignParticipant{p("b"), p("a")}); err != nil {
		t.Fatal(err)
	}
	start := time.Date(2026, 12, 1, 9, 0, 0, 0, bangkok)
	if err := s.SettleParticipant(ctx, c.ID, app.CampaignParticipant{ExternalID: "a", Status: app.ParticipantPlaced, AppointmentID: "apt_1", Start: start}); err != nil {
		t.Fatal(err)
	}
	if err := s.SettleParticipant(ctx, c.ID, app.CampaignParticipant{ExternalID: "a", Status: app.ParticipantUnplaced, Reason: domain.PlacementNoCapacity}); apperr.CodeOf(err) != apperr.Conflict {
		t.Fatalf("settling twice: %v, want CONFLICT", err)
	}
	if err := s.SettleParticipant(ctx, c.ID, app.CampaignParticipant{ExternalID: "zz", Status: app.ParticipantUnplaced, Reason: domain.PlacementNoCapacity}); apperr.CodeOf(err) != apperr.NotFound {
		t.Fatalf("settling an unknown participant: %v, want NOT_FOUND", err)
	}
	// A redelivery re-adds both: "a" keeps its placement.
	if err := s.AddParticipants(ctx, c.ID, []app.CampaignParticipant{p("a"), p("b"), p("c")}); err != nil {
		t.Fatal(err)
	}
	ps, err := s.ListParticipants(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(ps) != 3 || ps[0].ExternalID != "a" || ps[1].ExternalID != "b" || ps[2].ExternalID != "c" {
		t.Fatalf("participants = %+v", ps)
	}
	// Settled: the contact data is gone (PDPA minimisation), the rest stays.
	if a := ps[0]; a.Status != app.ParticipantPlaced || a.AppointmentID != "apt_1" || !a.Start.Equal(start) ||
		a.Participant.Name != "" || a.Participant.Phone != "" || a.Participant.Email != "" || a.Participant.Locale != "th" || a.Participant.ExternalID != "a" {
		t.Fatalf("placed participant = %+v", a)
	}
	if ps[1].Status != app.ParticipantPending || ps[1].Participant.Name != "N b" || ps[1].Participant.Phone == "" {
		t.Fatalf("b = %+v, want pending with its contact data", ps[1])
	}
	got1, err := s.GetParticipant(ctx, c.ID, "a")
	if err != nil || got1.AppointmentID != "apt_1" {
		t.Fatalf("GetParticipant = %+v, %v", got1, err)
	}
}
