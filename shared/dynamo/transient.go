package dynamo

import (
	"context"
	"errors"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
	"github.com/labchain/appointments/shared/apperr"
)

// transientCodes are the DynamoDB error codes that mean "busy, try again
// later" once the SDK's own retries (with backoff) are used up: throttling,
// a transaction still running on an item, and server-side failures.
var transientCodes = map[string]bool{
	"ProvisionedThroughputExceededException": true,
	"ThrottlingException":                    true,
	"RequestLimitExceeded":                   true,
	"TransactionInProgressException":         true,
	"InternalServerError":                    true,
	"ServiceUnavailable":                     true,
}

// transientReasons are cancellation reason codes of the same kind: the
// transaction failed for no fault of its own and may succeed if run again.
var transientReasons = map[string]bool{
	reasonTransactionConflict:       true,
	"ThrottlingError":               true,
	"ProvisionedThroughputExceeded": true,
}

// A transaction cancelled only by TransactionConflict is run again up to
// txConflictAttempts times in all, txConflictBackoff×attempt apart (the SDK
// does not retry a cancelled transaction).
const (
	txConflictAttempts = 3
	txConflictBackoff  = 25 * time.Millisecond
)

// isTxConflict reports whether err is a cancelled transaction that
// cancellationError classed as transient.
func isTxConflict(err error) bool {
	var tce *types.TransactionCanceledException
	return apperr.Is(err, apperr.Unavailable) && errors.As(err, &tce)
}

// unavailableMessage is the client-safe text of every TEMPORARILY_UNAVAILABLE.
const unavailableMessage = "the database is busy; retry shortly"

// isTransient reports whether err, as the SDK returned it after its retries,
// is a throttling, in-progress or server error, or the request could not be
// sent or answered (connection reset, response lost).
func isTransient(err error) bool {
	var api smithy.APIError
	if errors.As(err, &api) && transientCodes[api.ErrorCode()] {
		return true
	}
	var send *smithyhttp.RequestSendError
	return errors.As(err, &send) && !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded)
}

// unavailable marks a transient SDK error as TEMPORARILY_UNAVAILABLE; other
// errors are returned unchanged. apperr.Wrap keeps the code, so every store
// method's "dynamo: ..." wrapping of such an error stays a 503 for the API
// and a transient failure for consumers, never a 500 or a 409.
func unavailable(err error) error {
	if err == nil || !isTransient(err) {
		return err
	}
	return &apperr.Error{Code: apperr.Unavailable, Message: unavailableMessage, Err: err}
}

// classifying is the Client the store uses: the given client with its
// transient errors marked by unavailable.
type classifying struct{ c Client }

func (c classifying) GetItem(ctx context.Context, in *dynamodb.GetItemInput, o ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	out, err := c.c.GetItem(ctx, in, o...)
	return out, unavailable(err)
}

func (c classifying) PutItem(ctx context.Context, in *dynamodb.PutItemInput, o ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	out, err := c.c.PutItem(ctx, in, o...)
	return out, unavailable(err)
}

func (c classifying) UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, o ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	out, err := c.c.UpdateItem(ctx, in, o...)
	return out, unavailable(err)
}

func (c classifying) DeleteItem(ctx context.Context, in *dynamodb.DeleteItemInput, o ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error) {
	out, err := c.c.DeleteItem(ctx, in, o...)
	return out, unavailable(err)
}

func (c classifying) Query(ctx context.Context, in *dynamodb.QueryInput, o ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error) {
	out, err := c.c.Query(ctx, in, o...)
	return out, unavailable(err)
}

func (c classifying) TransactWriteItems(ctx context.Context, in *dynamodb.TransactWriteItemsInput, o ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error) {
	out, err := c.c.TransactWriteItems(ctx, in, o...)
	return out, unavailable(err)
}

func (c classifying) BatchGetItem(ctx context.Context, in *dynamodb.BatchGetItemInput, o ...func(*dynamodb.Options)) (*dynamodb.BatchGetItemOutput, error) {
	out, err := c.c.BatchGetItem(ctx, in, o...)
	return out, unavailable(err)
}

func (c classifying) BatchWriteItem(ctx context.Context, in *dynamodb.BatchWriteItemInput, o ...func(*dynamodb.Options)) (*dynamodb.BatchWriteItemOutput, error) {
	out, err := c.c.BatchWriteItem(ctx, in, o...)
	return out, unavailable(err)
}
