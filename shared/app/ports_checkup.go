package app

import (
	"context"
	"time"

	"github.com/labchain/appointments/shared/domain"
)

// Campaign is a corporate check-up campaign: the branch, service and window
// of dates its participants are booked into. It is recorded by the first
// roster that names it and never changes afterwards.
type Campaign struct {
	ID        string              `json:"campaignId"`
	BranchID  string              `json:"branchId"`
	ServiceID string              `json:"serviceId"`
	Window    domain.RosterWindow `json:"window"`
	CreatedAt time.Time           `json:"createdAt"`
}

// ParticipantStatus is where a campaign participant stands.
type ParticipantStatus string

// Participant statuses. A participant is recorded pending and settles once,
// as placed or unplaced; a settled participant never changes again.
const (
	ParticipantPending  ParticipantStatus = "pending"
	ParticipantPlaced   ParticipantStatus = "placed"
	ParticipantUnplaced ParticipantStatus = "unplaced"
)

// CampaignParticipant is one participant of a campaign with its outcome.
// Participant holds the contact data needed to book; it is never reported.
type CampaignParticipant struct {
	ExternalID    string                   `json:"externalId"`
	Participant   domain.RosterParticipant `json:"participant"`
	Status        ParticipantStatus        `json:"status"`
	AppointmentID string                   `json:"appointmentId,omitempty"` // placed only
	Start         time.Time                `json:"start,omitzero"`          // placed only
	Reason        domain.PlacementReason   `json:"reason,omitempty"`        // unplaced only
}

// CampaignStore keeps campaigns and their participants.
//
// Errors: NOT_FOUND for a missing campaign or participant, CONFLICT as
// documented per method, INTERNAL otherwise.
type CampaignStore interface {
	// CreateCampaign records c unless a campaign with its id exists; then it
	// returns the stored campaign (created is false) and changes nothing.
	CreateCampaign(ctx context.Context, c Campaign) (stored Campaign, created bool, err error)
	// GetCampaign returns a campaign or NOT_FOUND.
	GetCampaign(ctx context.Context, id string) (Campaign, error)
	// AddParticipants records each participant whose external id is not yet
	// recorded for the campaign; recorded participants are left as they are
	// (so a redelivered roster never resets an outcome).
	AddParticipants(ctx context.Context, campaignID string, ps []CampaignParticipant) error
	// GetParticipant returns one participant or NOT_FOUND.
	GetParticipant(ctx context.Context, campaignID, externalID string) (CampaignParticipant, error)
	// ListParticipants returns every participant of a campaign, ordered by
	// external id (strongly consistent).
	ListParticipants(ctx context.Context, campaignID string) ([]CampaignParticipant, error)
	// SettleParticipant records p's outcome (Status placed with
	// AppointmentID and Start, or unplaced with Reason) on the condition that
	// the participant is still pending; CONFLICT if it is not.
	SettleParticipant(ctx context.Context, campaignID string, p CampaignParticipant) error
}

// CheckupWorkQueue sends per-participant work items to the booking consumer.
type CheckupWorkQueue interface {
	// SendWork sends every item, or returns an error; items may be delivered
	// more than once (the consumer deduplicates them).
	SendWork(ctx context.Context, items []CheckupWork) error
}
