// Package checkup wires the corporate check-up consumers: the roster
// consumer and the work-item consumer that books each participant.
package checkup

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/labchain/appointments/shared/app"
	"github.com/labchain/appointments/shared/apperr"
	"github.com/labchain/appointments/shared/awssdk"
	"github.com/labchain/appointments/shared/consumer"
	"github.com/labchain/appointments/shared/dynamo"
	"github.com/labchain/appointments/shared/lambdakit"
	"github.com/labchain/appointments/shared/messages"
	"github.com/labchain/appointments/shared/metrics"
	"github.com/labchain/appointments/shared/sqsx"
)

// Consumer names (they scope the dedupe records: never rename them).
const (
	checkupRosterConsumer  = "checkup-roster"
	checkupBookingConsumer = "checkup-booking"
)

// CheckupRoster returns the consumer of the check-up roster queue: each
// roster (deduplicated by eventId) is recorded and split into one work item
// per participant on CHECKUP_WORK_QUEUE_URL (see app.Checkup.AcceptRoster).
// Pass config.Config.RequireTable, RequireDeadLetterQueue and
// RequireCheckupWorkQueue to lambdakit.MustInit.
func CheckupRoster(rt *lambdakit.Runtime) *consumer.Consumer[messages.CheckupRoster] {
	awsCfg := awssdk.MustLoad(rt)
	store := dynamo.New(dynamodb.NewFromConfig(awsCfg), rt.Config.TableName)
	client := sqs.NewFromConfig(awsCfg)
	work := &CheckupWorkSender{Sender: sqsx.NewBatchSender(client), QueueURL: rt.Config.CheckupWorkQueueURL}
	return NewCheckupRosterConsumer(store, sqsx.NewDLQ(client, rt.Config.DeadLetterQueueURL), work, time.Now)
}

// NewCheckupRosterConsumer is CheckupRoster over explicit dependencies.
func NewCheckupRosterConsumer(store *dynamo.Store, dl consumer.DeadLetterSender, work app.CheckupWorkQueue, now func() time.Time) *consumer.Consumer[messages.CheckupRoster] {
	chk := app.NewCheckup(app.New(store, now), store, work)
	return consumer.New(consumer.Options{
		Name: checkupRosterConsumer, Store: store, DeadLetters: dl,
		Now: now,
	}, func(ctx context.Context, m messages.CheckupRoster, _ consumer.Meta) error {
		return chk.AcceptRoster(ctx, app.Roster{
			CampaignID: m.CampaignID, BranchID: m.BranchID, ServiceID: m.ServiceID, Window: m.Window, Participants: m.Participants,
		})
	})
}

// CheckupBooking returns the consumer of the check-up work queue: each work
// item (deduplicated by campaign id and external id) books its participant
// (see app.Checkup.PlaceParticipant). Pass config.Config.RequireTable and
// RequireDeadLetterQueue to lambdakit.MustInit.
func CheckupBooking(rt *lambdakit.Runtime) *consumer.Consumer[app.CheckupWork] {
	awsCfg := awssdk.MustLoad(rt)
	store := dynamo.New(dynamodb.NewFromConfig(awsCfg), rt.Config.TableName)
	return NewCheckupBookingConsumer(store, sqsx.NewDLQ(sqs.NewFromConfig(awsCfg), rt.Config.DeadLetterQueueURL), time.Now)
}

// NewCheckupBookingConsumer is CheckupBooking over explicit dependencies. It
// counts each participant it settles in the metric CheckupParticipantOutcome:
// placed or unplaced when the outcome is recorded, failed when a work item
// fails permanently (see docs/metrics.md).
func NewCheckupBookingConsumer(store *dynamo.Store, dl consumer.DeadLetterSender, now func() time.Time) *consumer.Consumer[app.CheckupWork] {
	chk := app.NewCheckup(app.New(store, now), settleMetrics{store}, nil)
	return consumer.New(consumer.Options{
		Name: checkupBookingConsumer, Store: store, DeadLetters: dl, Concurrency: 2, Now: now,
	}, func(ctx context.Context, w app.CheckupWork, _ consumer.Meta) error {
		err := chk.PlaceParticipant(ctx, w)
		if apperr.IsPermanent(err) {
			metrics.EmitCheckupParticipant(ctx, metrics.ParticipantFailed, "")
		}
		return err
	})
}

// settleMetrics is a CampaignStore that counts each participant settled: the
// one place that knows a placement's outcome, which PlaceParticipant does not
// return. A settlement refused (CONFLICT: settled meanwhile) is not counted.
type settleMetrics struct{ app.CampaignStore }

// SettleParticipant records p's outcome and counts it.
func (s settleMetrics) SettleParticipant(ctx context.Context, campaignID string, p app.CampaignParticipant) error {
	if err := s.CampaignStore.SettleParticipant(ctx, campaignID, p); err != nil {
		return err
	}
	switch p.Status {
	case app.ParticipantPlaced:
		metrics.EmitCheckupParticipant(ctx, metrics.ParticipantPlaced, "")
	case app.ParticipantUnplaced:
		metrics.EmitCheckupParticipant(ctx, metrics.ParticipantUnplaced, string(p.Reason))
	}
	return nil
}

// CheckupWorkSender is app.CheckupWorkQueue over SQS: SendMessageBatch
// through an sqsx.BatchSender, which retries only the entries that failed.
type CheckupWorkSender struct {
	Sender   *sqsx.BatchSender
	QueueURL string
}

var _ app.CheckupWorkQueue = (*CheckupWorkSender)(nil)

// SendWork sends one message per item; an error names how many were not
// accepted (the roster is then retried, and the consumer deduplicates what
// was sent).
func (s *CheckupWorkSender) SendWork(ctx context.Context, items []app.CheckupWork) error {
	entries := make([]sqsx.Entry, len(items))
	for i, w := range items {
		b, err := json.Marshal(w)
		if err != nil {
			return fmt.Errorf("checkup: encode work item: %w", err)
		}
		entries[i] = sqsx.Entry{ID: "w" + strconv.Itoa(i), Body: string(b)}
	}
	failed, err := s.Sender.SendAll(ctx, s.QueueURL, entries)
	if err != nil {
		return fmt.Errorf("checkup: send work: %w", err)
	}
	if len(failed) > 0 {
		errs := make([]error, 0, 1)
		for _, e := range failed {
			errs = append(errs, e)
			break
		}
		return fmt.Errorf("checkup: %d of %d work items not sent: %w", len(failed), len(entries), errors.Join(errs...))
	}
	return nil
}
