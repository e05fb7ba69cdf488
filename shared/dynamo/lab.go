package dynamo

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/labchain/appointments/shared/app"
	"github.com/labchain/appointments/shared/apperr"
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

// linkItem is the lookup item of l, written only if absent (CONFLICT if
// the lab order was linked meanwhile).
func (s *Store) linkItem(l app.LabOrderLink) types.TransactWriteItem {
	return types.TransactWriteItem{Put: &types.Put{
		TableName: s.table,
		Item: map[string]types.AttributeValue{
			attrPK:            avS(labOrderPK(l.LabOrderID)),
			attrSK:            avS(skLink),
			attrEntity:        avS(entityLabOrder),
			attrAppointmentID: avS(l.AppointmentID),
		},
		ConditionExpression: aws.String("attribute_not_exists(PK)"),
	}}
}
