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
