package dynamo

import (
	"context"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/labchain/appointments/shared/app"
	"github.com/labchain/appointments/shared/apperr"
	"github.com/labchain/appointments/shared/domain"
)

// Patient profiles: one item per patient (PK PROFILE#<patientId>, SK
// #PROFILE), replaced whole by each applied event on condition that its
// version is still the one the change was decided on (or that it is still
// absent), so two consumers applying events of one patient at once cannot
// lose one: the loser reads and decides again.

var _ app.PatientStore = (*Store)(nil)

// GetPatient implements app.PatientStore.GetPatient.
func (s *Store) GetPatient(ctx context.Context, patientID string) (domain.PatientProfile, error) {
	p, found, err := get(ctx, s, profilePK(patientID), skProfile, patientFrom)
	if err != nil {
		return domain.PatientProfile{}, apperr.Wrap(err, "dynamo: get patient profile")
	}
	if !found {
		return domain.PatientProfile{}, apperr.E(apperr.NotFound, "no profile for this patient")
	}
	return p, nil
}

// UpdatePatient implements app.PatientStore.UpdatePatient.
func (s *Store) UpdatePatient(ctx context.Context, patientID string, update app.PatientUpdateFunc) (domain.PatientProfile, error) {
	for range app.MaxUpdateAttempts {
		stored, found, err := get(ctx, s, profilePK(patientID), skProfile, patientFrom)
		if err != nil {
			return domain.PatientProfile{}, apperr.Wrap(err, "dynamo: get patient profile")
		}
		var cur *domain.PatientProfile
		if found {
			cur = &stored
		}
		next, write, err := update(cur)
		if err != nil {
			return domain.PatientProfile{}, err
		}
		if !write {
			return stored, nil
		}
		in := &dynamodb.PutItemInput{
			TableName: s.table,
			Item:      patientItem(next).stamp(profilePK(patientID), skProfile, entityPatient),
		}
		if found {
			in.ConditionExpression = aws.String("#v = :v")
			in.ExpressionAttributeNames = map[string]string{"#v": "version"}
			in.ExpressionAttributeValues = map[string]types.AttributeValue{
				":v": &types.AttributeValueMemberN{Value: strconv.FormatInt(stored.Version, 10)},
			}
		} else {
			in.ConditionExpression = aws.String("attribute_not_exists(PK)")
		}
		_, err = s.db.PutItem(ctx, in)
		if isConditionFailed(err) {
			continue
		}
		if err != nil {
			return domain.PatientProfile{}, apperr.Wrap(err, "dynamo: put patient profile")
		}
		return next, nil
	}
	return domain.PatientProfile{}, apperr.E(apperr.Conflict, "patient profile changed concurrently %d times; retry", app.MaxUpdateAttempts)
}
