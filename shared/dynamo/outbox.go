package dynamo

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	lambdaevents "github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/propagation"

	"github.com/labchain/appointments/shared/apperr"
	"github.com/labchain/appointments/shared/domain"
	"github.com/labchain/appointments/shared/events"
)

// Outbox record attributes (item PK=OUTBOX#<eventId>, SK=#EVENT, see keys.go).
const (
	attrOutboxStatus      = "status"
	attrOutboxEventID     = "eventId"
	attrOutboxEventType   = "eventType"
	attrOutboxSubject     = "subject"
	attrOutboxCloudEvent  = "cloudEvent" // the CloudEvent JSON, as published
	attrOutboxCreatedAt   = "createdAt"  // RFC 3339, UTC, fixed width
	attrOutboxPublishedAt = "publishedAt"
	attrOutboxAttempts    = "attempts"      // failed publications counted by the sweep
	attrOutboxLastError   = "lastError"     // why the last one failed
	attrOutboxLastAttempt = "lastAttemptAt" // RFC 3339, UTC
	attrOutboxParkedAt    = "parkedAt"      // RFC 3339, UTC
)

// Outbox record states.
const (
	// OutboxPending is the state of a record written with its change and not
	// yet published to every target.
	OutboxPending = "PENDING"
	// OutboxPublished is the state of a record published to every target.
	OutboxPublished = "PUBLISHED"
	// OutboxParked is the state of a record the sweep gave up on (see
	// RecordOutboxFailure): out of the sweep's index, listed under
	// GSI1PK = OUTBOX#PARKED for an operator (docs/runbook.md "Events not
	// published (outbox)").
	OutboxParked = "PARKED"
)

// Retrying of failed publications by the sweep (RecordOutboxFailure).
const (
	// OutboxMaxAttempts is how many failed publications park a record.
	OutboxMaxAttempts = 8
	// OutboxRetryBase is how long a record waits after its first failure
	// before the sweep tries it again; the wait doubles with each further
	// failure (5 min, 10, 20, ... about 10 hours in all before parking).
	OutboxRetryBase = 5 * time.Minute
	// maxLastError bounds the stored reason of a failure.
	maxLastError = 1000
)

// OutboxRetention is how long a published record is kept (its ttl is
// publishedAt + OutboxRetention), for audits and replays.
const OutboxRetention = 7 * 24 * time.Hour

// outboxItem encodes the outbox record of ev, whose data is a (what the
// transaction commits), with the traceparent of the span in ctx.
func outboxItem(ctx context.Context, ev domain.Event, a domain.Appointment) (map[string]types.AttributeValue, error) {
	if ev.Subject != a.ID {
		return nil, fmt.Errorf("event %s is about %q, the change about appointment %q", ev.ID, ev.Subject, a.ID)
	}
	ev.Data = a
	return eventOutboxItem(ctx, ev)
}

// eventOutboxItem encodes the outbox record of ev with its own data (any
// JSON-encodable value, such as a domain.ReminderDue), with the traceparent
// of the span in ctx.
func eventOutboxItem(ctx context.Context, ev domain.Event) (map[string]types.AttributeValue, error) {
	ce, err := events.New(ev, traceParent(ctx))
	if err != nil {
		return nil, err
	}
	body, err := events.Encode(ce)
	if err != nil {
		return nil, err
	}
	return outboxItemOf(ce, body), nil
}

// outboxItemOf is the PENDING outbox record of ce, whose encoding is body.
func outboxItemOf(ce events.CloudEvent, body []byte) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{
		attrPK:               avS(outboxPK(ce.ID)),
		attrSK:               avS(skEvent),
		attrEntity:           avS(entityOutbox),
		attrGSI1PK:           avS(gsi1Pending),
		attrGSI1SK:           avS(outboxGSI1SK(ce.Time, ce.ID)),
		attrOutboxStatus:     avS(OutboxPending),
		attrOutboxEventID:    avS(ce.ID),
		attrOutboxEventType:  avS(ce.Type),
		attrOutboxSubject:    avS(ce.Subject),
		attrOutboxCreatedAt:  avS(ce.Time.UTC().Format(historyLayout)),
		attrOutboxCloudEvent: avS(string(body)),
	}
}

// traceParent returns the W3C traceparent of the span in ctx, as the global
// propagator (lambdakit installs W3C trace context) writes it, or "".
func traceParent(ctx context.Context) string {
	c := propagation.MapCarrier{}
	otel.GetTextMapPropagator().Inject(ctx, c)
	if tp := c.Get(events.AttrTraceParent); events.ValidTraceParent(tp) {
		return tp
	}
	return ""
}

// addOutbox adds the outbox record of ev (data: a) to a transaction; the
// record must not exist yet.
func (s *Store) addOutbox(ctx context.Context, b *txBuilder, ev domain.Event, a domain.Appointment) error {
	item, err := outboxItem(ctx, ev, a)
	if errors.Is(err, events.ErrTooLarge) {
		return err // LIMIT_EXCEEDED, refused before the transaction
	}
	if err != nil {
		return apperr.Wrap(err, "dynamo: encode outbox record of %s", a.ID)
	}
	b.add(roleOutbox, types.TransactWriteItem{Put: &types.Put{
		TableName:           s.table,
		Item:                item,
		ConditionExpression: aws.String("attribute_not_exists(PK)"),
	}})
	return nil
}

// MarkPublished records that the event was published to every target: status
// PUBLISHED, publishedAt, ttl = at + OutboxRetention and the matching expiry
// index keys (GSI2, see keys.go), all kept from the first call, and the GSI1
// keys removed so the sweep no longer sees it. It is idempotent. NOT_FOUND if
// there is no such record.
func (s *Store) MarkPublished(ctx context.Context, eventID string, at time.Time) error {
	pk := outboxPK(eventID)
	ttl := at.Add(OutboxRetention)
	update := "SET #status = :published, " +
		attrOutboxPublishedAt + " = if_not_exists(" + attrOutboxPublishedAt + ", :at), " +
		"#ttl = if_not_exists(#ttl, :ttl)"
	values := map[string]types.AttributeValue{
		":published": avS(OutboxPublished),
		":at":        avS(at.UTC().Format(historyLayout)),
		":ttl":       avN(ttl.Unix()),
	}
	if exp := expiryKeys(pk, ttl); exp != nil {
		update += ", " + attrGSI2PK + " = if_not_exists(" + attrGSI2PK + ", :epk), " +
			attrGSI2SK + " = if_not_exists(" + attrGSI2SK + ", :esk)"
		values[":epk"], values[":esk"] = exp[attrGSI2PK], exp[attrGSI2SK]
	}
	_, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 s.table,
		Key:                       key(pk, skEvent),
		UpdateExpression:          aws.String(update + " REMOVE " + attrGSI1PK + ", " + attrGSI1SK),
		ConditionExpression:       aws.String("attribute_exists(PK)"),
		ExpressionAttributeNames:  map[string]string{"#status": attrOutboxStatus, "#ttl": attrTTL},
		ExpressionAttributeValues: values,
	})
	if isConditionFailed(err) {
		return apperr.E(apperr.NotFound, "outbox record %s not found", eventID)
	}
	if err != nil {
		return apperr.Wrap(err, "dynamo: mark outbox record %s published", eventID)
	}
	return nil
}

// RecordOutboxFailure counts a failed publication of a PENDING outbox
// record: attempts + 1, lastError (reason, cut to 1000 bytes) and
// lastAttemptAt = at. The record then waits in the sweep's index until
// at + OutboxRetryBase × 2^(attempts−1) (it sorts by that time, so records
// that keep failing no longer come before newer ones), or, when permanent
// (retrying the same record cannot help) or at OutboxMaxAttempts, it is
// parked: status PARKED, parkedAt, and out of the sweep's index. parked says
// which. A record no longer PENDING (published meanwhile) or counted
// concurrently is left alone (false, nil); NOT_FOUND if there is none.
func (s *Store) RecordOutboxFailure(ctx context.Context, eventID, reason string, at time.Time, permanent bool) (parked bool, err error) {
	pk := outboxPK(eventID)
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: s.table, Key: key(pk, skEvent), ConsistentRead: aws.Bool(true),
		ProjectionExpression:     aws.String("#status, " + attrOutboxAttempts),
		ExpressionAttributeNames: map[string]string{"#status": attrOutboxStatus},
	})
	if err != nil {
		return false, apperr.Wrap(err, "dynamo: read outbox record %s", eventID)
	}
	if out.Item == nil {
		return false, apperr.E(apperr.NotFound, "outbox record %s not found", eventID)
	}
	if str(out.Item, attrOutboxStatus) != OutboxPending {
		return false, nil
	}
	prev := num(out.Item, attrOutboxAttempts)
	n := prev + 1
	if len(reason) > maxLastError {
		reason = reason[:maxLastError]
	}
	parked = permanent || n >= OutboxMaxAttempts
	stamp := at.UTC().Format(historyLayout)
	values := map[string]types.AttributeValue{
		":pending": avS(OutboxPending), ":n": avN(n), ":reason": avS(reason), ":at": avS(stamp),
	}
	cond := "#status = :pending AND attribute_not_exists(" + attrOutboxAttempts + ")"
	if prev > 0 {
		cond = "#status = :pending AND " + attrOutboxAttempts + " = :prev"
		values[":prev"] = avN(prev)
	}
	update := "SET " + attrOutboxAttempts + " = :n, " + attrOutboxLastError + " = :reason, " + attrOutboxLastAttempt + " = :at, "
	if parked {
		update += "#status = :parked, " + attrOutboxParkedAt + " = :at, " + attrGSI1PK + " = :gpk, " + attrGSI1SK + " = :gsk"
		values[":parked"], values[":gpk"], values[":gsk"] = avS(OutboxParked), avS(gsi1Parked), avS(outboxGSI1SK(at, eventID))
	} else {
		retry := at.Add(OutboxRetryBase << min(prev, 20))
		update += attrGSI1SK + " = :gsk"
		values[":gsk"] = avS(outboxGSI1SK(retry, eventID))
	}
	_, err = s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 s.table,
		Key:                       key(pk, skEvent),
		UpdateExpression:          aws.String(update),
		ConditionExpression:       aws.String(cond),
		ExpressionAttributeNames:  map[string]string{"#status": attrOutboxStatus},
		ExpressionAttributeValues: values,
	})
	if isConditionFailed(err) {
		return false, nil
	}
	if err != nil {
		return false, apperr.Wrap(err, "dynamo: record failed publication of outbox record %s", eventID)
	}
	return parked, nil
}

// MalformedOutboxError reports outbox records that do not decode. Retrying
// cannot help; an operator must look at them.
type MalformedOutboxError struct {
	// EventIDs are the ids of the malformed records.
	EventIDs []string
	// Err joins the decoding errors.
	Err error
}

// Error lists the records.
func (e *MalformedOutboxError) Error() string {
	return fmt.Sprintf("dynamo: %d malformed outbox records (%s): %v", len(e.EventIDs), strings.Join(e.EventIDs, ", "), e.Err)
}

// Unwrap returns the decoding errors.
func (e *MalformedOutboxError) Unwrap() error { return e.Err }

// MalformedEventIDs returns the ids of the malformed records (the sweep
// parks them).
func (e *MalformedOutboxError) MalformedEventIDs() []string { return e.EventIDs }

// PendingOutbox returns up to limit PENDING outbox events due before
// olderThan, the longest due first (GSI1, eventually consistent: a record
// published a moment ago may still be listed; publication is at least once
// anyway). A record is due from its creation, and after a failed
// publication from its retry time (RecordOutboxFailure).
// limit <= 0 means DefaultPageSize; it is capped at MaxPageSize.
//
// Records that do not decode are skipped and reported in a
// *MalformedOutboxError returned together with the events that did decode;
// any other error comes with no events.
func (s *Store) PendingOutbox(ctx context.Context, olderThan time.Time, limit int) ([]events.CloudEvent, error) {
	if limit <= 0 {
		limit = DefaultPageSize
	}
	limit = min(limit, MaxPageSize)
	in := &dynamodb.QueryInput{
		TableName:              s.table,
		IndexName:              aws.String(indexGSI1),
		KeyConditionExpression: aws.String(attrGSI1PK + " = :pk AND " + attrGSI1SK + " < :cut"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk":  avS(gsi1Pending),
			":cut": avS(olderThan.UTC().Format(historyLayout)),
		},
		Limit: aws.Int32(int32(limit)),
	}
	out := []events.CloudEvent{}
	var bad MalformedOutboxError
	for seen := 0; seen < limit; {
		page, err := s.db.Query(ctx, in)
		if err != nil {
			return nil, apperr.Wrap(err, "dynamo: query pending outbox")
		}
		for _, item := range page.Items {
			seen++
			ce, err := events.Decode([]byte(str(item, attrOutboxCloudEvent)))
			if err != nil {
				bad.EventIDs = append(bad.EventIDs, str(item, attrOutboxEventID))
				bad.Err = errors.Join(bad.Err, err)
				continue
			}
			out = append(out, ce)
		}
		if len(page.LastEvaluatedKey) == 0 {
			break
		}
		in.ExclusiveStartKey = page.LastEvaluatedKey
		in.Limit = aws.Int32(int32(limit - seen))
	}
	if len(bad.EventIDs) > 0 {
		return out, &bad
	}
	return out, nil
}

// OutboxEventFromStreamImage decodes the CloudEvent of an outbox record from
// a DynamoDB stream image (the NewImage of an INSERT, as the Lambda event
// source mapping delivers it). isOutbox is false, with no error, for an image
// of any other item; an outbox image without a valid CloudEvent is an error
// (wrapping events.ErrInvalid when the JSON breaks the format).
func OutboxEventFromStreamImage(image map[string]lambdaevents.DynamoDBAttributeValue) (ev events.CloudEvent, isOutbox bool, err error) {
	if streamString(image, attrEntity) != entityOutbox {
		return events.CloudEvent{}, false, nil
	}
	body := streamString(image, attrOutboxCloudEvent)
	if body == "" {
		return events.CloudEvent{}, true, fmt.Errorf("dynamo: outbox image %q has no %s", streamString(image, attrPK), attrOutboxCloudEvent)
	}
	ce, err := events.Decode([]byte(body))
	if err != nil {
		return events.CloudEvent{}, true, fmt.Errorf("dynamo: outbox image %q: %w", streamString(image, attrPK), err)
	}
	return ce, true, nil
}

// streamString returns a string attribute of a stream image, "" if it is
// absent or of another type.
func streamString(image map[string]lambdaevents.DynamoDBAttributeValue, name string) string {
	av, ok := image[name]
	if !ok || av.DataType() != lambdaevents.DataTypeString {
		return ""
	}
	return av.String()
}
