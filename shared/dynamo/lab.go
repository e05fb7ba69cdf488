package dynamo

import (
	"context"
	"fmt"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/labchain/appointments/shared/app"
	"github.com/labchain/appointments/shared/apperr"
	"github.com/labchain/appointments/shared/domain"
)

// Integration items (in addition to keys.go's table):
//
//	item              PK                         SK
//	lab order link    LABORDER#<labOrderId>      #LINK          appointmentId
//
// The lab orders and billing records themselves live on the appointment item
// (domain.Appointment.LabOrders and .Billing), so they change under the
// appointment's version check. The link item lets an LIS event that carries
// only the lab order id find its appointment; it is written, only if absent,
// in the transaction that first puts the lab order on the appointment.
const (
	skLink         = "#LINK"
	entityLabOrder = "LAB_ORDER_LINK"
	// roleLink: a link item's failed condition means a concurrent event
	// linked the lab order first, which cancellationError maps to CONFLICT
	// (re-read and retry) exactly as it does for a history entry.
	roleLink = roleHistory
)

func labOrderPK(id string) string { return "LABORDER#" + id }

var _ app.IntegrationStore = (*Store)(nil)

// LabOrderAppointment returns the id of the appointment a lab order is linked
// to (strongly consistent read), or NOT_FOUND.
func (s *Store) LabOrderAppointment(ctx context.Context, labOrderID string) (string, error) {
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:      s.table,
		Key:            key(labOrderPK(labOrderID), skLink),
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return "", apperr.Wrap(err, "dynamo: get lab order link %s", labOrderID)
	}
	if out.Item == nil {
		return "", apperr.E(apperr.NotFound, "lab order %s is not linked", labOrderID)
	}
	id := str(out.Item, attrAppointmentID)
	if id == "" {
		return "", apperr.Wrap(fmt.Errorf("no %s", attrAppointmentID), "dynamo: decode lab order link %s", labOrderID)
	}
	return id, nil
}

// ApplyIntegrationChange writes, in one TransactWriteItems: next (a Put
// conditional on version = prev.Version, CONFLICT otherwise), one history
// entry and one outbox record per step (the record's data is the step's
// State), and a link item per link (attribute_not_exists, CONFLICT if the lab
// order was linked meanwhile). next.Version must be prev.Version+len(steps)
// and step i's State.Version prev.Version+1+i; prev and next must hold the
// same cells (no cell item is touched). VALIDATION_FAILED beyond 100 items.
func (s *Store) ApplyIntegrationChange(ctx context.Context, prev, next domain.Appointment, steps []app.Step, links []app.LabOrderLink) error {
	switch {
	case prev.ID != next.ID || prev.BranchID != next.BranchID:
		return apperr.Wrap(fmt.Errorf("prev %s@%s, next %s@%s", prev.ID, prev.BranchID, next.ID, next.BranchID),
			"dynamo: integration change: id and branch must not change")
	case len(steps) == 0 || next.Version != prev.Version+len(steps):
		return apperr.Wrap(fmt.Errorf("prev version %d, next version %d, %d steps", prev.Version, next.Version, len(steps)),
			"dynamo: integration change of %s: next.Version must be prev.Version+len(steps)", next.ID)
	case !slices.EqualFunc(prev.Cells, next.Cells, func(x, y domain.Cell) bool {
		return x.ResourceID == y.ResourceID && x.Start.Equal(y.Start) && x.Date == y.Date
	}):
		return apperr.Wrap(fmt.Errorf("cells differ"), "dynamo: integration change of %s: cells must not change", next.ID)
	}
	var b txBuilder
	item, err := appointmentItem(next)
	if err != nil {
		return apperr.Wrap(err, "dynamo: encode appointment %s", next.ID)
	}
	b.add(roleAppointment, types.TransactWriteItem{Put: &types.Put{
		TableName:                 s.table,
		Item:                      item,
		ConditionExpression:       aws.String("#v = :v"),
		ExpressionAttributeNames:  map[string]string{"#v": "version"},
		ExpressionAttributeValues: map[string]types.AttributeValue{":v": avN(int64(prev.Version))},
	}})
	for i, st := range steps {
		if v := prev.Version + 1 + i; st.State.Version != v || st.State.ID != next.ID {
			return apperr.Wrap(fmt.Errorf("step %d is version %d of %s, want %d of %s", i, st.State.Version, st.State.ID, v, next.ID),
				"dynamo: integration change of %s", next.ID)
		}
		if err := s.addHistory(&b, next.ID, st.History, st.State.Version); err != nil {
			return err
		}
		if err := s.addOutbox(ctx, &b, st.Event, st.State); err != nil {
			return err
		}
	}
	for _, l := range links {
		b.add(roleLink, types.TransactWriteItem{Put: &types.Put{
			TableName: s.table,
			Item: map[string]types.AttributeValue{
				attrPK:            avS(labOrderPK(l.LabOrderID)),
				attrSK:            avS(skLink),
				attrEntity:        avS(entityLabOrder),
				attrAppointmentID: avS(l.AppointmentID),
			},
			ConditionExpression: aws.String("attribute_not_exists(PK)"),
		}})
	}
	return s.transact(ctx, &b, "integration change of "+next.ID)
}
