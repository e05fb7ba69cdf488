package dynamo

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/labchain/appointments/shared/apperr"
	"github.com/labchain/appointments/shared/idempotency"
)

// Idempotency record attributes (item PK=IDEM#<key>, SK=#IDEM). Expired
// records are treated as absent; the ttl attribute (= expiresAt) lets
// DynamoDB delete them eventually, and the expiry index keys (GSI2, set with
// every ttl, see keys.go) let the cleanup job delete them on time. The same
// records serve the HTTP Idempotency-Key and the SQS consumers' dedupe.
const (
	attrIdemStatus     = "status"
	attrIdemHash       = "hash"
	attrIdemStatusCode = "statusCode"
	attrIdemBody       = "body"            // binary
	attrIdemInProgress = "inProgressUntil" // unix ms
	attrIdemExpiresAt  = "expiresAt"       // unix s
)

// Begin stores rec (normally INPROGRESS) unless a live record exists: one that
// is unexpired and either COMPLETED or INPROGRESS with InProgressUntil not
// before now. It then returns that record and no error; the conditional write
// returns the old item itself, so this costs no extra read.
func (s *Store) Begin(ctx context.Context, rec idempotency.Record, now time.Time) (*idempotency.Record, error) {
	item := map[string]types.AttributeValue{
		attrPK:             avS(idemPK(rec.Key)),
		attrSK:             avS(skIdem),
		attrEntity:         avS(entityIdempotency),
		attrIdemStatus:     avS(rec.Status),
		attrIdemHash:       avS(rec.Hash),
		attrIdemInProgress: avN(rec.InProgressUntil.UnixMilli()),
		attrIdemExpiresAt:  avN(rec.ExpiresAt.Unix()),
		attrTTL:            avN(rec.ExpiresAt.Unix()),
	}
	for k, v := range expiryKeys(idemPK(rec.Key), rec.ExpiresAt) {
		item[k] = v
	}
	if rec.StatusCode != 0 {
		item[attrIdemStatusCode] = avN(int64(rec.StatusCode))
	}
	if len(rec.Body) > 0 {
		item[attrIdemBody] = &types.AttributeValueMemberB{Value: rec.Body}
	}
	in := &dynamodb.PutItemInput{
		TableName: s.table,
		Item:      item,
		ConditionExpression: aws.String("attribute_not_exists(PK) OR " + attrIdemExpiresAt + " < :now OR " +
			"(#status = :inprogress AND " + attrIdemInProgress + " < :nowms)"),
		ExpressionAttributeNames: map[string]string{"#status": attrIdemStatus},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":now":        avN(now.Unix()),
			":nowms":      avN(now.UnixMilli()),
			":inprogress": avS(idempotency.StatusInProgress),
		},
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	}
	for attempt := 0; ; attempt++ {
		_, err := s.db.PutItem(ctx, in)
		if err == nil {
			return nil, nil
		}
		var ccf *types.ConditionalCheckFailedException
		if !errors.As(err, &ccf) {
			return nil, apperr.Wrap(err, "dynamo: begin idempotency record")
		}
		old := ccf.Item
		if len(old) == 0 {
			// A server that does not return the old item: read it.
			out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{
				TableName: s.table, Key: key(idemPK(rec.Key), skIdem), ConsistentRead: aws.Bool(true),
			})
			if err != nil {
				return nil, apperr.Wrap(err, "dynamo: read idempotency record")
			}
			old = out.Item
		}
		if len(old) == 0 {
			if attempt < 2 {
				continue // deleted in between: try again
			}
			return nil, apperr.E(apperr.Conflict, "idempotency record changed")
		}
		r := recordFrom(old)
		return &r, nil
	}
}

func recordFrom(item map[string]types.AttributeValue) idempotency.Record {
	r := idempotency.Record{
		Key:             strings.TrimPrefix(str(item, attrPK), idemPK("")),
		Hash:            str(item, attrIdemHash),
		Status:          str(item, attrIdemStatus),
		StatusCode:      int(num(item, attrIdemStatusCode)),
		InProgressUntil: time.UnixMilli(num(item, attrIdemInProgress)),
		ExpiresAt:       time.Unix(num(item, attrIdemExpiresAt), 0),
	}
	if b, ok := item[attrIdemBody].(*types.AttributeValueMemberB); ok {
		r.Body = b.Value
	}
	return r
}

// updateSpec is one UpdateItem, usable alone or inside a transaction.
type updateSpec struct {
	key    map[string]types.AttributeValue
	update string
	cond   string
	names  map[string]string
	values map[string]types.AttributeValue
}

func (u updateSpec) toTx(table *string) *types.Update {
	return &types.Update{
		TableName: table, Key: u.key, UpdateExpression: aws.String(u.update), ConditionExpression: aws.String(u.cond),
		ExpressionAttributeNames: u.names, ExpressionAttributeValues: u.values,
	}
}

func (u updateSpec) toInput(table *string) *dynamodb.UpdateItemInput {
	return &dynamodb.UpdateItemInput{
		TableName: table, Key: u.key, UpdateExpression: aws.String(u.update), ConditionExpression: aws.String(u.cond),
		ExpressionAttributeNames: u.names, ExpressionAttributeValues: u.values,
	}
}

// completion is the update that completes a claim: status COMPLETED, the
// response's status code and body (and the claim's expiry, if set), on
// condition that the record is still this request's INPROGRESS record.
func (s *Store) completion(c *idempotency.Claim, statusCode int, body []byte) updateSpec {
	u := updateSpec{
		key:    key(idemPK(c.Key), skIdem),
		update: "SET #status = :completed, " + attrIdemStatusCode + " = :code",
		cond:   "#status = :inprogress AND #hash = :hash",
		names:  map[string]string{"#status": attrIdemStatus, "#hash": attrIdemHash},
		values: map[string]types.AttributeValue{
			":completed":  avS(idempotency.StatusCompleted),
			":inprogress": avS(idempotency.StatusInProgress),
			":hash":       avS(c.Hash),
			":code":       avN(int64(statusCode)),
		},
	}
	if len(body) > 0 {
		u.update += ", " + attrIdemBody + " = :body"
		u.values[":body"] = &types.AttributeValueMemberB{Value: body}
	} else {
		u.update += " REMOVE " + attrIdemBody
	}
	if !c.ExpiresAt.IsZero() {
		// SET clauses must precede REMOVE. The expiry index keys move with
		// the ttl.
		set := ", " + attrIdemExpiresAt + " = :exp, #ttl = :exp"
		u.values[":exp"] = avN(c.ExpiresAt.Unix())
		u.names["#ttl"] = attrTTL
		if exp := expiryKeys(idemPK(c.Key), c.ExpiresAt); exp != nil {
			set += ", " + attrGSI2PK + " = :epk, " + attrGSI2SK + " = :esk"
			u.values[":epk"], u.values[":esk"] = exp[attrGSI2PK], exp[attrGSI2SK]
		}
		u.update = strings.Replace(u.update, " = :code", " = :code"+set, 1)
	}
	return u
}

// Complete stores the outcome of a claim that the business transaction did
// not complete itself and sets c.Completed. CONFLICT ("idempotency record
// changed") if the record is no longer this request's INPROGRESS record.
func (s *Store) Complete(ctx context.Context, c *idempotency.Claim, statusCode int, body []byte) error {
	_, err := s.db.UpdateItem(ctx, s.completion(c, statusCode, body).toInput(s.table))
	if isConditionFailed(err) {
		return apperr.E(apperr.Conflict, "idempotency record changed")
	}
	if err != nil {
		return apperr.Wrap(err, "dynamo: complete idempotency record")
	}
	c.Completed = true
	return nil
}

// Release deletes the claim's INPROGRESS record so that a retry can run. A
// record that is absent, COMPLETED, or another claim's (one that took the
// key over after this claim lapsed: another inProgressUntil) is left alone,
// and no error returned.
func (s *Store) Release(ctx context.Context, c *idempotency.Claim) error {
	_, err := s.db.DeleteItem(ctx, &dynamodb.DeleteItemInput{
		TableName:                s.table,
		Key:                      key(idemPK(c.Key), skIdem),
		ConditionExpression:      aws.String("#status = :inprogress AND " + attrIdemInProgress + " = :mine"),
		ExpressionAttributeNames: map[string]string{"#status": attrIdemStatus},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":inprogress": avS(idempotency.StatusInProgress), ":mine": avN(c.InProgressUntil.UnixMilli()),
		},
	})
	if err != nil && !isConditionFailed(err) {
		return apperr.Wrap(err, "dynamo: release idempotency record")
	}
	return nil
}
