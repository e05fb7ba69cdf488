package dynamo

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/labchain/appointments/shared/apperr"
)

// IndexCells is the migration of cell items written before cells carried
// their GSI1 range keys (see keys.go): it reads the cells of a branch on the
// given dates (one Query per date) and adds the keys to those that lack them,
// each with a conditional update (the cell must still exist and still lack
// them), so it is idempotent and safe beside live bookings. It returns how
// many cells it indexed. Run it once per branch over today .. today +
// MaxAdvanceDays after deploying; older cells are past and never shown.
func (s *Store) IndexCells(ctx context.Context, branchID string, dates []string) (int, error) {
	n := 0
	for _, date := range dates {
		var missing []string
		err := s.queryAll(ctx, &dynamodb.QueryInput{
			KeyConditionExpression:    aws.String("PK = :pk"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":pk": avS(cellsPK(branchID, date))},
			ProjectionExpression:      aws.String("SK, " + attrGSI1PK),
		}, func(item map[string]types.AttributeValue) error {
			if _, ok := item[attrGSI1PK]; !ok {
				missing = append(missing, str(item, attrSK))
			}
			return nil
		})
		if err != nil {
			return n, apperr.Wrap(err, "dynamo: index cells of %s on %s", branchID, date)
		}
		for _, sk := range missing {
			_, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
				TableName:           s.table,
				Key:                 key(cellsPK(branchID, date), sk),
				UpdateExpression:    aws.String("SET GSI1PK = :pk, GSI1SK = :sk"),
				ConditionExpression: aws.String("attribute_exists(PK) AND attribute_not_exists(GSI1PK)"),
				ExpressionAttributeValues: map[string]types.AttributeValue{
					":pk": avS(branchCellsGSI1PK(branchID)), ":sk": avS(date + "#" + sk),
				},
			})
			if isConditionFailed(err) {
				continue // released or indexed meanwhile
			}
			if err != nil {
				return n, apperr.Wrap(err, "dynamo: index cell %s %s", date, sk)
			}
			n++
		}
	}
	return n, nil
}

// IndexPatientVisits is the migration of appointments booked before the
// patients' visit sets existed (patient_visits.go): it lists a branch's
// appointments on the given dates and adds each Active one to its patient's
// set, in a transaction conditional on the appointment's version being the
// one listed (a visit changed meanwhile was changed by code that keeps the
// set itself, so it is skipped). Adding a member twice is a no-op, so it is
// idempotent and safe beside live bookings. It returns how many visits it
// wrote. Run it once per branch over today .. today + MaxAdvanceDays after
// deploying: past visits never count.
func (s *Store) IndexPatientVisits(ctx context.Context, branchID string, dates []string) (int, error) {
	n := 0
	for _, date := range dates {
		cursor := ""
		for {
			page, err := s.ListAppointmentsByBranchDay(ctx, branchID, date, MaxPageSize, cursor)
			if err != nil {
				return n, err
			}
			for _, a := range page.Items {
				if !a.Status.Active() || a.Patient.ID == "" {
					continue
				}
				var b txBuilder
				b.add(roleAppointment, types.TransactWriteItem{ConditionCheck: &types.ConditionCheck{
					TableName:                 s.table,
					Key:                       key(apptPK(a.ID), skMeta),
					ConditionExpression:       aws.String("#v = :v"),
					ExpressionAttributeNames:  map[string]string{"#v": "version"},
					ExpressionAttributeValues: map[string]types.AttributeValue{":v": avN(int64(a.Version))},
				}})
				b.add(s.visitAdd(a.Patient.ID, a.ID, a.Start, 0))
				err := s.transact(ctx, &b, "index visit "+a.ID)
				if apperr.Is(err, apperr.Conflict) {
					continue // changed meanwhile
				}
				if err != nil {
					return n, err
				}
				n++
			}
			if page.Cursor == "" {
				break
			}
			cursor = page.Cursor
		}
	}
	return n, nil
}
