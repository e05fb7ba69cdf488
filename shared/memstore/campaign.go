package memstore

import (
	"context"

	"github.com/labchain/appointments/shared/app"
	"github.com/labchain/appointments/shared/apperr"
)

// CreateCampaign records c unless its id exists; then it returns the stored
// campaign and created false.
func (s *Store) CreateCampaign(_ context.Context, c app.Campaign) (app.Campaign, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if old, ok := s.campaigns[c.ID]; ok {
		return clone(old), false, nil
	}
	s.campaigns[c.ID] = clone(c)
	return clone(c), true, nil
}

// GetCampaign returns a campaign or NOT_FOUND.
func (s *Store) GetCampaign(_ context.Context, id string) (app.Campaign, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.campaigns[id]
	if !ok {
		return app.Campaign{}, apperr.E(apperr.NotFound, "campaign %q not found", id)
	}
	return clone(c), nil
}

// AddParticipants records each participant not yet recorded; recorded ones
// are left alone.
func (s *Store) AddParticipants(_ context.Context, campaignID string, ps []app.CampaignParticipant) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.participants[campaignID] == nil {
		s.participants[campaignID] = map[string]app.CampaignParticipant{}
	}
	for _, p := range ps {
		if _, ok := s.participants[campaignID][p.ExternalID]; !ok {
			s.participants[campaignID][p.ExternalID] = clone(p)
		}
	}
	return nil
}

// GetParticipant returns one participant or NOT_FOUND.
func (s *Store) GetParticipant(_ context.Context, campaignID, externalID string) (app.CampaignParticipant, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, ok := s.participants[campaignID][externalID]
	if !ok {
		return app.CampaignParticipant{}, apperr.E(apperr.NotFound, "participant %q of campaign %q not found", externalID, campaignID)
	}
	return clone(p), nil
}

// ListParticipants returns a campaign's participants by external id.
func (s *Store) ListParticipants(_ context.Context, campaignID string) ([]app.CampaignParticipant, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return byID(s.participants[campaignID], func(p app.CampaignParticipant) string { return p.ExternalID }), nil
}

// SettleParticipant records p's outcome if the participant is still
// pending, removing its name, phone and email; CONFLICT otherwise
// (NOT_FOUND if it was never recorded), VALIDATION_FAILED for an outcome
// without what it needs.
func (s *Store) SettleParticipant(_ context.Context, campaignID string, p app.CampaignParticipant) error {
	switch p.Status {
	case app.ParticipantPlaced:
		if p.AppointmentID == "" || p.Start.IsZero() {
			return apperr.E(apperr.Validation, "a placed participant needs an appointment id and a start")
		}
	case app.ParticipantUnplaced:
		if p.Reason == "" {
			return apperr.E(apperr.Validation, "an unplaced participant needs a reason")
		}
	default:
		return apperr.E(apperr.Validation, "a participant settles as placed or unplaced")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	cur, ok := s.participants[campaignID][p.ExternalID]
	if !ok {
		return apperr.E(apperr.NotFound, "participant %q of campaign %q not found", p.ExternalID, campaignID)
	}
	if cur.Status != app.ParticipantPending {
		return apperr.E(apperr.Conflict, "participant %q of campaign %q is already settled", p.ExternalID, campaignID)
	}
	cur.Status = p.Status
	switch p.Status {
	case app.ParticipantPlaced:
		cur.AppointmentID, cur.Start = p.AppointmentID, p.Start
	case app.ParticipantUnplaced:
		cur.Reason = p.Reason
	}
	cur.Participant.Name, cur.Participant.Phone, cur.Participant.Email = "", "", ""
	s.participants[campaignID][p.ExternalID] = cur
	return nil
}
