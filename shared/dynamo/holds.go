package dynamo

import (
	"context"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/labchain/appointments/shared/apperr"
	"github.com/labchain/appointments/shared/held"
)

// Held message records: PK=HOLD#<key>, SK=#HOLD, listed by queue and time in
// GSI1 (GSI1PK=HOLD#<queue>, GSI1SK=<until>#<key>). They hold no personal
// data (a notification job is the event, contract v1) and have no ttl: a
// hold is deleted only once its message is back in its queue.
const (
	entityHold     = "HOLD"
	skHold         = "#HOLD"
	attrHoldKey    = "key"
	attrHoldBody   = "body"
	attrHoldAttrs  = "attributes"
	attrHoldUntil  = "until" // RFC 3339, UTC, fixed width
	attrHoldQueue  = "queue"
	gsi1HoldPrefix = "HOLD#"
)

// HoldsNotifications labels the holds of NotificationsQueue (the
// notification consumer holds, OutboxSweepFunction releases).
const HoldsNotifications = "notifications"

// QueueHolds keeps the held messages of one queue (consumer.Holder) and
// lists and releases them for sqsx.Releaser.
type QueueHolds struct {
	s     *Store
	queue string
}

// Holds returns the held messages of the queue named queue (a label of the
// holds, e.g. "notifications", not its URL).
func (s *Store) Holds(queue string) *QueueHolds { return &QueueHolds{s: s, queue: queue} }

// Hold stores m until m.Until, replacing an earlier hold of the same key.
func (h *QueueHolds) Hold(ctx context.Context, m held.Message) error {
	attrs := map[string]types.AttributeValue{}
	for k, v := range m.Attributes {
		attrs[k] = avS(v)
	}
	until := m.Until.UTC().Format(historyLayout)
	_, err := h.s.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: h.s.table, Item: map[string]types.AttributeValue{
		attrPK:        avS(gsi1HoldPrefix + m.Key),
		attrSK:        avS(skHold),
		attrEntity:    avS(entityHold),
		attrGSI1PK:    avS(gsi1HoldPrefix + h.queue),
		attrGSI1SK:    avS(until + "#" + m.Key),
		attrHoldKey:   avS(m.Key),
		attrHoldQueue: avS(h.queue),
		attrHoldBody:  avS(m.Body),
		attrHoldAttrs: &types.AttributeValueMemberM{Value: attrs},
		attrHoldUntil: avS(until),
	}})
	if err != nil {
		return apperr.Wrap(err, "dynamo: hold message %s", m.Key)
	}
	return nil
}

// Due returns up to limit messages held until before now, the earliest
// first (GSI1, eventually consistent: a message released a moment ago may
// still be listed; releasing is at least once).
func (h *QueueHolds) Due(ctx context.Context, now time.Time, limit int) ([]held.Message, error) {
	out, err := h.s.db.Query(ctx, &dynamodb.QueryInput{
		TableName:              h.s.table,
		IndexName:              aws.String(indexGSI1),
		KeyConditionExpression: aws.String(attrGSI1PK + " = :pk AND " + attrGSI1SK + " < :cut"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk":  avS(gsi1HoldPrefix + h.queue),
			":cut": avS(now.UTC().Format(historyLayout)),
		},
		Limit: aws.Int32(int32(max(1, min(limit, MaxPageSize)))),
	})
	if err != nil {
		return nil, apperr.Wrap(err, "dynamo: query held messages of %s", h.queue)
	}
	msgs := make([]held.Message, 0, len(out.Items))
	for _, item := range out.Items {
		until, err := time.Parse(time.RFC3339Nano, str(item, attrHoldUntil))
		if err != nil {
			return nil, apperr.Wrap(err, "dynamo: held message %s", str(item, attrHoldKey))
		}
		m := held.Message{Key: str(item, attrHoldKey), Body: str(item, attrHoldBody), Until: until, Attributes: map[string]string{}}
		if am, ok := item[attrHoldAttrs].(*types.AttributeValueMemberM); ok {
			for k, v := range am.Value {
				if s, ok := v.(*types.AttributeValueMemberS); ok {
					m.Attributes[k] = s.Value
				}
			}
		}
		msgs = append(msgs, m)
	}
	return msgs, nil
}

// Release deletes the hold of m once its message is back in the queue,
// unless it was held again meanwhile (another Until).
func (h *QueueHolds) Release(ctx context.Context, m held.Message) error {
	_, err := h.s.db.DeleteItem(ctx, &dynamodb.DeleteItemInput{
		TableName:                 h.s.table,
		Key:                       key(gsi1HoldPrefix+m.Key, skHold),
		ConditionExpression:       aws.String("#until = :until"),
		ExpressionAttributeNames:  map[string]string{"#until": attrHoldUntil},
		ExpressionAttributeValues: map[string]types.AttributeValue{":until": avS(m.Until.UTC().Format(historyLayout))},
	})
	if err != nil && !isConditionFailed(err) {
		return apperr.Wrap(err, "dynamo: release held message %s", m.Key)
	}
	return nil
}
