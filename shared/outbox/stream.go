package outbox

import (
	"context"

	lambdaevents "github.com/aws/aws-lambda-go/events"

	"github.com/labchain/appointments/shared/events"
	"github.com/labchain/appointments/shared/lambdakit"
)

// ImageParser decodes the CloudEvent of an outbox record from a stream image;
// isOutbox is false for an image of any other item.
// dynamo.OutboxEventFromStreamImage is the implementation.
type ImageParser func(image map[string]lambdaevents.DynamoDBAttributeValue) (ev events.CloudEvent, isOutbox bool, err error)

// MetricMalformed counts outbox records that do not decode (they are
// skipped: retrying cannot fix them; the sweep keeps reporting them).
const MetricMalformed = "OutboxMalformed"

// StreamHandler is the batch publisher: the handler of the booking table's
// stream (filtered to INSERTs of outbox records, ReportBatchItemFailures).
type StreamHandler struct {
	pub   *Publisher
	parse ImageParser
}

// NewStreamHandler returns the stream handler over a publisher and the
// store's image parser.
func NewStreamHandler(pub *Publisher, parse ImageParser) *StreamHandler {
	return &StreamHandler{pub: pub, parse: parse}
}

// Handle publishes the outbox records INSERTed in the batch and reports in
// BatchItemFailures (itemIdentifier = dynamodb.SequenceNumber) exactly the
// records whose event was not accepted by every target, so Lambda retries
// from there; records already published are then sent again, which consumers
// deduplicate. Records of other items or other event names are ignored, as
// are outbox records that do not decode (logged at error level and counted
// in OutboxMalformed: a retry cannot fix them). It never returns an error.
func (h *StreamHandler) Handle(ctx context.Context, e lambdaevents.DynamoDBEvent) (lambdaevents.DynamoDBEventResponse, error) {
	resp := lambdaevents.DynamoDBEventResponse{BatchItemFailures: []lambdaevents.DynamoDBBatchItemFailure{}}
	var evs []events.CloudEvent
	seqs := map[string][]string{} // event id → sequence numbers of its records
	malformed := 0
	for _, r := range e.Records {
		if r.EventName != string(lambdaevents.DynamoDBOperationTypeInsert) {
			continue
		}
		ce, isOutbox, err := h.parse(r.Change.NewImage)
		if !isOutbox {
			continue
		}
		if err != nil {
			malformed++
			lambdakit.Logger(ctx).ErrorContext(ctx, "malformed outbox record skipped",
				"sequenceNumber", r.Change.SequenceNumber, "eventSourceId", r.EventID, "error", err.Error())
			continue
		}
		if _, dup := seqs[ce.ID]; !dup {
			evs = append(evs, ce)
		}
		seqs[ce.ID] = append(seqs[ce.ID], r.Change.SequenceNumber)
	}
	if malformed > 0 {
		lambdakit.EmitMetric(ctx, MetricMalformed, lambdakit.UnitCount, float64(malformed), nil)
	}
	failed := h.pub.Publish(ctx, evs)
	for _, ce := range evs {
		if _, bad := failed[ce.ID]; !bad {
			continue
		}
		for _, seq := range seqs[ce.ID] {
			resp.BatchItemFailures = append(resp.BatchItemFailures, lambdaevents.DynamoDBBatchItemFailure{ItemIdentifier: seq})
		}
	}
	return resp, nil
}
