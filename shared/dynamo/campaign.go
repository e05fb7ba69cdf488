package dynamo

import (
	"context"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/labchain/appointments/shared/app"
	"github.com/labchain/appointments/shared/apperr"
)

// Check-up campaigns. A campaign and its participants share one partition:
//
//	item              PK                  SK
//	campaign          CAMPAIGN#<id>       #META
//	participant       CAMPAIGN#<id>       P#<externalId>
//
// so the report is one Query (ordered by external id). Each participant is
// its own item: settling one is a small conditional update (status =
// pending), and a roster of 1,000 participants stays far below the item size
// limit. Participant items hold contact data (needed to book); the report
// never returns it.

var _ app.CampaignStore = (*Store)(nil)

const (
	entityCampaign    = "CAMPAIGN"
	entityParticipant = "CAMPAIGN_PARTICIPANT"
	prefixParticipant = "P#"
	// addParticipantsConcurrency bounds the conditional puts of
	// AddParticipants in flight at once.
	addParticipantsConcurrency = 16
)

func campaignPK(id string) string            { return "CAMPAIGN#" + id }
func participantSK(externalID string) string { return prefixParticipant + externalID }

// CreateCampaign records c unless its id exists; then it returns the stored
// campaign and created false.
func (s *Store) CreateCampaign(ctx context.Context, c app.Campaign) (app.Campaign, bool, error) {
	item := campaignItem(c).stamp(campaignPK(c.ID), skMeta, entityCampaign)
	_, err := s.db.PutItem(ctx, &dynamodb.PutItemInput{
		TableName:           s.table,
		Item:                item,
		ConditionExpression: aws.String("attribute_not_exists(PK)"),
	})
	if isConditionFailed(err) {
		stored, gerr := s.GetCampaign(ctx, c.ID)
		return stored, false, gerr
	}
	if err != nil {
		return app.Campaign{}, false, apperr.Wrap(err, "dynamo: put campaign %s", c.ID)
	}
	return c, true, nil
}

// GetCampaign returns a campaign or NOT_FOUND.
func (s *Store) GetCampaign(ctx context.Context, id string) (app.Campaign, error) {
	c, found, err := get(ctx, s, campaignPK(id), skMeta, campaignFrom)
	if err != nil {
		return app.Campaign{}, apperr.Wrap(err, "dynamo: get campaign %s", id)
	}
	if !found {
		return app.Campaign{}, apperr.E(apperr.NotFound, "campaign %q not found", id)
	}
	return c, nil
}

// AddParticipants records each participant not yet recorded
// (attribute_not_exists), a few at a time; recorded ones are left alone.
func (s *Store) AddParticipants(ctx context.Context, campaignID string, ps []app.CampaignParticipant) error {
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		firstErr error
		sem      = make(chan struct{}, addParticipantsConcurrency)
	)
	for _, p := range ps {
		item := participantItem(p).stamp(campaignPK(campaignID), participantSK(p.ExternalID), entityParticipant)
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			_, err := s.db.PutItem(ctx, &dynamodb.PutItemInput{
				TableName:           s.table,
				Item:                item,
				ConditionExpression: aws.String("attribute_not_exists(PK)"),
			})
			if err != nil && !isConditionFailed(err) {
				mu.Lock()
				if firstErr == nil {
					firstErr = apperr.Wrap(err, "dynamo: put participant of campaign %s", campaignID)
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return firstErr
}

// GetParticipant returns one participant or NOT_FOUND.
func (s *Store) GetParticipant(ctx context.Context, campaignID, externalID string) (app.CampaignParticipant, error) {
	p, found, err := get(ctx, s, campaignPK(campaignID), participantSK(externalID), participantFrom)
	if err != nil {
		return app.CampaignParticipant{}, apperr.Wrap(err, "dynamo: get participant of campaign %s", campaignID)
	}
	if !found {
		return app.CampaignParticipant{}, apperr.E(apperr.NotFound, "participant %q of campaign %q not found", externalID, campaignID)
	}
	return p, nil
}

// ListParticipants returns a campaign's participants by external id, with
// strongly consistent reads.
func (s *Store) ListParticipants(ctx context.Context, campaignID string) ([]app.CampaignParticipant, error) {
	return queryList(ctx, s, participantFrom, beginsWith(campaignPK(campaignID), prefixParticipant), "participants of campaign "+campaignID)
}

// SettleParticipant records p's outcome if the participant is still pending,
// and removes the participant's name, phone and email (no longer needed);
// CONFLICT otherwise (NOT_FOUND if it was never recorded).
func (s *Store) SettleParticipant(ctx context.Context, campaignID string, p app.CampaignParticipant) error {
	values := map[string]types.AttributeValue{
		":status":  avS(string(p.Status)),
		":pending": avS(string(app.ParticipantPending)),
	}
	names := map[string]string{"#status": "status"}
	update := "SET #status = :status"
	switch p.Status {
	case app.ParticipantPlaced:
		if p.AppointmentID == "" || p.Start.IsZero() {
			return apperr.E(apperr.Validation, "a placed participant needs an appointment id and a start")
		}
		update += ", appointmentId = :appt, #start = :start"
		values[":appt"] = avS(p.AppointmentID)
		values[":start"] = avS(p.Start.Format(time.RFC3339Nano)) // as participantItem writes it
		names["#start"] = "start"
	case app.ParticipantUnplaced:
		if p.Reason == "" {
			return apperr.E(apperr.Validation, "an unplaced participant needs a reason")
		}
		update += ", #reason = :reason"
		names["#reason"] = "reason"
		values[":reason"] = avS(string(p.Reason))
	default:
		return apperr.E(apperr.Validation, "a participant settles as placed or unplaced")
	}
	// Data minimisation (PDPA): a settled participant is never booked again,
	// so its contact data has served; the booked visit has its own copy.
	update += " REMOVE participant.#pname, participant.#pphone, participant.#pemail"
	names["#pname"], names["#pphone"], names["#pemail"] = "name", "phone", "email"
	_, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 s.table,
		Key:                       key(campaignPK(campaignID), participantSK(p.ExternalID)),
		UpdateExpression:          aws.String(update),
		ConditionExpression:       aws.String("attribute_exists(PK) AND #status = :pending"),
		ExpressionAttributeNames:  names,
		ExpressionAttributeValues: values,
	})
	if isConditionFailed(err) {
		if _, gerr := s.GetParticipant(ctx, campaignID, p.ExternalID); gerr != nil {
			return gerr
		}
		return apperr.E(apperr.Conflict, "participant %q of campaign %q is already settled", p.ExternalID, campaignID)
	}
	if err != nil {
		return apperr.Wrap(err, "dynamo: settle participant of campaign %s", campaignID)
	}
	return nil
}
