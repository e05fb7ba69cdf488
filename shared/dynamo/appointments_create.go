package dynamo

import (
	"context"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/labchain/appointments/shared/apperr"
	"github.com/labchain/appointments/shared/domain"
	"github.com/labchain/appointments/shared/idempotency"
)

// CreateAppointment writes the appointment (attribute_not_exists), its first
// history entry, every cell (attribute_not_exists), the appointment in its
// patient's visit set if it is Active (patient_visits.go), the outbox record of ev
// (PENDING, data: a, see outbox.go) and, if ctx carries an idempotency claim
// not yet Completed, the claim's completion (status claim.SuccessStatus, body
// claim.Render(a)), in one TransactWriteItems, and then sets claim.Completed.
// ev.Subject must be a.ID; ev.Data is ignored (the record's data is a).
// SLOT_UNAVAILABLE if a cell is held, CONFLICT if the id exists, the
// idempotency record changed or the transaction conflicted with another;
// VALIDATION_FAILED if the transaction would exceed 100 items or take a cell
// twice; INTERNAL for an event that does not make a valid CloudEvent.
func (s *Store) CreateAppointment(ctx context.Context, a domain.Appointment, h domain.HistoryEntry, ev domain.Event) error {
	return s.create(ctx, a, h, ev, s.addVisit(a))
}

// create runs the booking transaction with the patient's visit set written
// by visits (see patient_visits.go) and then completes the claim in ctx.
func (s *Store) create(ctx context.Context, a domain.Appointment, h domain.HistoryEntry, ev domain.Event, visits func(*txBuilder)) error {
	claim := idempotency.FromContext(ctx)
	b, err := s.createTxWith(ctx, a, h, ev, claim, visits)
	if err != nil {
		return err
	}
	if err := s.transact(ctx, b, "create appointment "+a.ID); err != nil {
		return err
	}
	if claim != nil {
		claim.Completed = true
	}
	return nil
}

// addVisit adds an Active appointment to its patient's visit set
// unconditionally (no cap).
func (s *Store) addVisit(a domain.Appointment) func(*txBuilder) {
	return func(b *txBuilder) {
		if a.Status.Active() && a.Patient.ID != "" {
			b.add(s.visitAdd(a.Patient.ID, a.ID, a.Start, 0))
		}
	}
}

// createTx builds the booking transaction of CreateAppointment.
func (s *Store) createTx(ctx context.Context, a domain.Appointment, h domain.HistoryEntry, ev domain.Event, claim *idempotency.Claim) (*txBuilder, error) {
	return s.createTxWith(ctx, a, h, ev, claim, s.addVisit(a))
}

func (s *Store) createTxWith(ctx context.Context, a domain.Appointment, h domain.HistoryEntry, ev domain.Event, claim *idempotency.Claim, visits func(*txBuilder)) (*txBuilder, error) {
	b := &txBuilder{create: true}

	item, err := appointmentItem(a)
	if err != nil {
		return nil, apperr.Wrap(err, "dynamo: encode appointment %s", a.ID)
	}
	b.add(roleAppointment, types.TransactWriteItem{Put: &types.Put{
		TableName:           s.table,
		Item:                item,
		ConditionExpression: aws.String("attribute_not_exists(PK)"),
	}})
	if err := s.addHistory(b, a.ID, h, a.Version); err != nil {
		return nil, err
	}
	seen := map[cellID]bool{}
	for _, c := range a.Cells {
		id := cellIDOf(a.BranchID, c)
		if seen[id] {
			return nil, apperr.E(apperr.Validation, "appointment takes cell %s %s twice", c.ResourceID, c.Start.Format(time.RFC3339))
		}
		seen[id] = true
		b.add(roleTakeCell, s.takeCell(a.BranchID, c, a.ID))
	}
	visits(b)
	if err := s.addOutbox(ctx, b, ev, a); err != nil {
		return nil, err
	}
	if claim != nil && !claim.Completed {
		if err := s.addCompletion(b, claim, a); err != nil {
			return nil, err
		}
	}
	return b, nil
}
