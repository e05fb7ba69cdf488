package dynamo

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/labchain/appointments/shared/apperr"
)

// Batching of the purge of expired items.
const (
	// purgeBatch is how many items one BatchGetItem and one BatchWriteItem of
	// the purge handle: BatchWriteItem's limit.
	purgeBatch = 25
	// purgeAttempts bounds the requests per batch while DynamoDB keeps
	// returning unprocessed keys or items (throttling); purgeBackoff is the
	// first pause between them, doubled each time.
	purgeAttempts = 6
	purgeBackoff  = 25 * time.Millisecond
)

// PurgeExpired deletes the items of one expiry index bucket (day: the UTC
// date of their ttl, YYYY-MM-DD) whose ttl is before now: idempotency and
// dedupe records, published outbox records. It works in batches of 25: one
// BatchGetItem reads the batch's ttls with a consistent read, so an item
// whose ttl was extended since the (eventually consistent) index was read
// survives and is counted in kept, and one BatchWriteItem deletes the rest.
// Keys and items DynamoDB leaves unprocessed are sent again with exponential
// backoff; what is still unprocessed after that is an error
// (TEMPORARILY_UNAVAILABLE), so the run stops and the next one continues.
//
// BatchWriteItem has no conditions, so a ttl extended between the read and
// the delete would be missed. Only completing an idempotency or dedupe
// record extends a ttl, and a record whose ttl is already past was claimed a
// whole retention ago: no request or message still runs under it.
func (s *Store) PurgeExpired(ctx context.Context, day string, now time.Time) (deleted, kept int, err error) {
	var batch []map[string]types.AttributeValue
	flush := func() error {
		d, k, err := s.purgeBatch(ctx, batch, now)
		deleted += d
		kept += k
		batch = batch[:0]
		return err
	}
	err = s.queryAll(ctx, &dynamodb.QueryInput{
		IndexName:              aws.String(indexGSI2),
		KeyConditionExpression: aws.String(attrGSI2PK + " = :pk AND " + attrGSI2SK + " < :cut"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk":  avS("EXPIRY#" + day),
			":cut": avS(expiryCut(now)),
		},
		ProjectionExpression: aws.String(attrPK + ", " + attrSK),
	}, func(item map[string]types.AttributeValue) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		batch = append(batch, key(str(item, attrPK), str(item, attrSK)))
		if len(batch) < purgeBatch {
			return nil
		}
		return flush()
	})
	if err == nil && len(batch) > 0 {
		err = flush()
	}
	if err != nil {
		return deleted, kept, apperr.Wrap(err, "dynamo: purge expired items of %s", day)
	}
	return deleted, kept, nil
}

// purgeBatch deletes those of up to purgeBatch items (their keys) whose ttl,
// read consistently, is before now; kept counts the others (and items gone
// meanwhile).
func (s *Store) purgeBatch(ctx context.Context, keys []map[string]types.AttributeValue, now time.Time) (deleted, kept int, err error) {
	if len(keys) == 0 {
		return 0, 0, nil
	}
	// Read the batch's ttls consistently.
	var expired []map[string]types.AttributeValue
	req := map[string]types.KeysAndAttributes{*s.table: {
		Keys:                     keys,
		ConsistentRead:           aws.Bool(true),
		ProjectionExpression:     aws.String(attrPK + ", " + attrSK + ", #ttl"),
		ExpressionAttributeNames: map[string]string{"#ttl": attrTTL},
	}}
	for attempt := 0; len(req) > 0; attempt++ {
		if attempt > 0 {
			if attempt == purgeAttempts {
				return 0, 0, unprocessed("read", len(req[*s.table].Keys))
			}
			if err := backoff(ctx, attempt); err != nil {
				return 0, 0, err
			}
		}
		out, err := s.db.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: req})
		if err != nil {
			return 0, 0, fmt.Errorf("read ttls: %w", err)
		}
		for _, item := range out.Responses[*s.table] {
			if num(item, attrTTL) < now.Unix() {
				expired = append(expired, key(str(item, attrPK), str(item, attrSK)))
			}
		}
		req = out.UnprocessedKeys
	}
	kept = len(keys) - len(expired)
	if len(expired) == 0 {
		return 0, kept, nil
	}

	writes := make([]types.WriteRequest, len(expired))
	for i, k := range expired {
		writes[i] = types.WriteRequest{DeleteRequest: &types.DeleteRequest{Key: k}}
	}
	pending := map[string][]types.WriteRequest{*s.table: writes}
	for attempt := 0; len(pending[*s.table]) > 0; attempt++ {
		if attempt > 0 {
			if attempt == purgeAttempts {
				return len(expired) - len(pending[*s.table]), kept, unprocessed("delete", len(pending[*s.table]))
			}
			if err := backoff(ctx, attempt); err != nil {
				return len(expired) - len(pending[*s.table]), kept, err
			}
		}
		out, err := s.db.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: pending})
		if err != nil {
			return len(expired) - len(pending[*s.table]), kept, fmt.Errorf("delete: %w", err)
		}
		pending = out.UnprocessedItems
	}
	return len(expired), kept, nil
}

// unprocessed is the error of a batch DynamoDB kept leaving unprocessed
// (it does so when throttling): transient.
func unprocessed(what string, n int) error {
	return &apperr.Error{Code: apperr.Unavailable, Message: unavailableMessage,
		Err: fmt.Errorf("%s: %d items still unprocessed after %d attempts", what, n, purgeAttempts)}
}

// backoff waits before the attempt'th retry of a batch (purgeBackoff doubled
// per attempt), or returns ctx's error.
func backoff(ctx context.Context, attempt int) error {
	t := time.NewTimer(purgeBackoff << (attempt - 1))
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
