// Package integrations wires the consumers of the LIS, POS and Patient
// Service queues.
package integrations

import (
	"context"
	"fmt"
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
	"github.com/labchain/appointments/shared/sqsx"
)

// Consumer names of the integrations (they scope the dedupe records: never
// rename them).
const (
	lisConsumer     = "lis-sample-status"
	posConsumer     = "pos-orders"
	patientConsumer = "patient-events"
)

// LISConsumer returns the consumer of the LIS queue (LisEventsQueue): each
// sample status change, deduplicated by eventId, is applied by
// app.Integrations.ApplySampleStatus. Pass config.Config.RequireTable and
// RequireDeadLetterQueue to lambdakit.MustInit.
func LISConsumer(rt *lambdakit.Runtime) *consumer.Consumer[messages.LISSampleStatus] {
	awsCfg := awssdk.MustLoad(rt)
	store := dynamo.New(dynamodb.NewFromConfig(awsCfg), rt.Config.TableName)
	dlq := sqsx.NewDLQ(sqs.NewFromConfig(awsCfg), rt.Config.DeadLetterQueueURL)
	return NewLISConsumer(store, dlq, time.Now)
}

// POSConsumer returns the consumer of the POS queue (PosEventsQueue): each
// order event, deduplicated by eventId, is applied by
// app.Integrations.ApplyOrder. Pass config.Config.RequireTable and
// RequireDeadLetterQueue to lambdakit.MustInit.
func POSConsumer(rt *lambdakit.Runtime) *consumer.Consumer[messages.POSOrder] {
	awsCfg := awssdk.MustLoad(rt)
	store := dynamo.New(dynamodb.NewFromConfig(awsCfg), rt.Config.TableName)
	dlq := sqsx.NewDLQ(sqs.NewFromConfig(awsCfg), rt.Config.DeadLetterQueueURL)
	return NewPOSConsumer(store, dlq, time.Now)
}

// PatientConsumer returns the consumer of the Patient Service's queue
// (PatientEventsQueue): each patient event, deduplicated by eventId, is
// applied by app.Patients.ApplyPatientEvent. Pass config.Config.RequireTable
// and RequireDeadLetterQueue to lambdakit.MustInit.
func PatientConsumer(rt *lambdakit.Runtime) *consumer.Consumer[messages.PatientEvent] {
	awsCfg := awssdk.MustLoad(rt)
	store := dynamo.New(dynamodb.NewFromConfig(awsCfg), rt.Config.TableName)
	dlq := sqsx.NewDLQ(sqs.NewFromConfig(awsCfg), rt.Config.DeadLetterQueueURL)
	return NewPatientConsumer(store, dlq, time.Now)
}

// NewPatientConsumer builds the Patient Service consumer. An event not newer
// than the stored profile (a duplicate or a late arrival) is acknowledged
// without effect; one breaking a rule beyond the schema (a patient their own
// dependent, a merge into oneself, an event after the erasure) is
// dead-lettered at once (permanent); a concurrent change that keeps winning
// (CONFLICT) and outages are transient and retried.
func NewPatientConsumer(store *dynamo.Store, dl consumer.DeadLetterSender, now func() time.Time) *consumer.Consumer[messages.PatientEvent] {
	patients := app.NewPatients(store, now)
	return consumer.New(consumer.Options{
		Name: patientConsumer, Store: store, DeadLetters: dl,
		Now: now,
	}, func(ctx context.Context, m messages.PatientEvent, _ consumer.Meta) error {
		return patients.ApplyPatientEvent(ctx, m.Change())
	})
}

// NewLISConsumer builds the LIS consumer over a store (the use case's data
// and the dedupe records) and a dead-letter sender. Failures apperr.Classify
// finds permanent (VALIDATION_FAILED, which includes an event contradicting
// an earlier one, INVALID_TRANSITION, LIMIT_EXCEEDED, FORBIDDEN) are
// dead-lettered at once with reason "permanent"; every other failure is
// transient and retried, in particular NOT_FOUND for an unknown appointment
// or a lab order not linked yet (it may arrive later). On the message's
// last delivery (LastDelivery) a NOT_FOUND is dead-lettered by the consumer
// itself, so the DLQ message carries a failure-reason ("permanent") and a
// failure-detail naming what was not found, instead of arriving through
// SQS's redrive without them; other transient failures are still left to
// the redrive.
func NewLISConsumer(store *dynamo.Store, dl consumer.DeadLetterSender, now func() time.Time) *consumer.Consumer[messages.LISSampleStatus] {
	lis := app.NewIntegrations(store, now)
	return consumer.New(consumer.Options{
		Name: lisConsumer, Store: store, DeadLetters: dl,
		Now: now,
	}, func(ctx context.Context, m messages.LISSampleStatus, meta consumer.Meta) error {
		return lastDeliveryNotFound(lis.ApplySampleStatus(ctx, m.SampleEvent()), meta)
	})
}

// NewPOSConsumer builds the POS consumer, with NewLISConsumer's failure
// rules: a contradicting amount, currency or branch is dead-lettered at once;
// a refund before its payment (domain.ErrNotPaidYet) and an unknown
// appointment are retried, then redriven by SQS.
func NewPOSConsumer(store *dynamo.Store, dl consumer.DeadLetterSender, now func() time.Time) *consumer.Consumer[messages.POSOrder] {
	pos := app.NewIntegrations(store, now)
	return consumer.New(consumer.Options{
		Name: posConsumer, Store: store, DeadLetters: dl,
		Now: now,
	}, func(ctx context.Context, m messages.POSOrder, meta consumer.Meta) error {
		ev, err := m.OrderEvent()
		if err != nil {
			return apperr.MarkPermanent(err)
		}
		return lastDeliveryNotFound(pos.ApplyOrder(ctx, ev), meta)
	})
}

// LastDelivery is the queues' maxReceiveCount (template.yaml, enforced by
// infra/templatecheck): on this delivery a failed message goes to the DLQ.
const LastDelivery = 5

// lastDeliveryNotFound marks a NOT_FOUND (unknown appointment, unlinked lab
// order) permanent on a message's last delivery, so that the consumer
// dead-letters it with a reason rather than SQS without one.
func lastDeliveryNotFound(err error, meta consumer.Meta) error {
	if meta.ReceiveCount >= LastDelivery && apperr.Is(err, apperr.NotFound) {
		return apperr.MarkPermanent(fmt.Errorf("still not found after %d deliveries: %w", meta.ReceiveCount, err))
	}
	return err
}
