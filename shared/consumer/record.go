package consumer

import (
	"context"
	"fmt"
	"log/slog"
	"runtime/debug"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"go.opentelemetry.io/otel/codes"

	"github.com/labchain/appointments/shared/apperr"
	"github.com/labchain/appointments/shared/held"
	"github.com/labchain/appointments/shared/idempotency"
	"github.com/labchain/appointments/shared/lambdakit"
	"github.com/labchain/appointments/shared/metrics"
)

// Outcome is what became of one record. It is the span attribute "outcome"
// and the Outcome dimension of the metric MessagesProcessed.
type Outcome string

// The outcomes of a record.
const (
	// OutcomeProcessed: the handler ran and succeeded; acknowledged.
	OutcomeProcessed Outcome = metrics.MessageProcessed
	// OutcomeDuplicate: the dedupe key was already completed with the same
	// body; acknowledged without running the handler.
	OutcomeDuplicate Outcome = metrics.MessageDuplicate
	// OutcomeRetry: a transient failure (or the key is in progress elsewhere);
	// reported in batchItemFailures so SQS delivers it again.
	OutcomeRetry Outcome = metrics.MessageRetried
	// OutcomeDeadLettered: a permanent failure; sent to the dead-letter queue
	// with failure attributes, then acknowledged.
	OutcomeDeadLettered Outcome = metrics.MessageDeadLettered
	// OutcomeHeld: the handler said "later" (apperr.Held) and Options.Holder
	// took the message out of the queue until then; acknowledged.
	OutcomeHeld Outcome = metrics.MessageHeld
)

// The metric of a batch's outcomes: MetricMessages (unit Count) with the
// dimensions DimensionConsumer=<Options.Name> and DimensionOutcome=<Outcome>,
// one line per outcome seen in the batch and none for an outcome not seen (so
// that no data for Outcome=processed means that nothing was processed).
const (
	// MetricMessages counts the records of a batch per outcome.
	MetricMessages = metrics.MessagesProcessed
	// DimensionConsumer is the dimension holding Options.Name.
	DimensionConsumer = metrics.DimConsumer
	// DimensionOutcome is the dimension holding the Outcome.
	DimensionOutcome = metrics.DimOutcome
)

// result is the outcome of one record with what the log line needs.
type result struct {
	outcome Outcome
	reason  Reason // for OutcomeDeadLettered
	detail  string // why it failed; never the body
	key     string // dedupe key, "" if unknown
}

// record processes one record in its own span and logs its failure, if any.
func (c *Consumer[T]) record(ctx context.Context, r events.SQSMessage, p prepared[T]) (res result) {
	ctx, span := c.startSpan(ctx, r)
	defer span.End()
	defer func() {
		// A panic outside the handler (in a store, in Validate) must not kill
		// the whole process when records run in goroutines.
		if v := recover(); v != nil {
			res = result{outcome: OutcomeRetry, detail: fmt.Sprintf("panic: %v", v), key: dedupeKeyOf(p)}
			lambdakit.Logger(ctx).ErrorContext(ctx, "consumer: panic while processing a record",
				"consumer", c.opts.Name, "messageId", r.MessageId, "stack", string(debug.Stack()))
		}
		span.SetAttributes(attrOutcome.String(string(res.outcome)))
		if res.outcome == OutcomeRetry || res.outcome == OutcomeDeadLettered {
			span.SetStatus(codes.Error, string(res.outcome)+": "+truncate(res.detail, maxDetail))
		}
		c.logResult(ctx, r, res)
	}()
	return c.process(ctx, r, p)
}

// process is record's logic: dead-letter what cannot decode, claim the key,
// run the handler, settle the claim.
func (c *Consumer[T]) process(ctx context.Context, r events.SQSMessage, p prepared[T]) result {
	if p.err != nil {
		return c.deadLetter(ctx, r, "", p.err)
	}
	key := p.msg.DedupeKey()
	if err := ctx.Err(); err != nil {
		// The invocation is out of time: leave the record for a retry rather
		// than claim a key we cannot settle.
		return result{outcome: OutcomeRetry, detail: "not started: " + err.Error(), key: key}
	}

	now := c.opts.Now()
	rec := idempotency.Record{
		Key:             p.key,
		Hash:            p.hash,
		Status:          idempotency.StatusInProgress,
		InProgressUntil: c.inProgressUntil(ctx, now),
		ExpiresAt:       now.Add(c.opts.DedupeTTL),
	}
	existing, err := c.opts.Store.Begin(ctx, rec, now)
	if err != nil {
		return result{outcome: OutcomeRetry, detail: "dedupe store: " + err.Error(), key: key}
	}
	if existing != nil {
		switch {
		case existing.Status == idempotency.StatusCompleted && existing.Hash == p.hash:
			return result{outcome: OutcomeDuplicate, key: key}
		case existing.Status == idempotency.StatusCompleted:
			return c.deadLetter(ctx, r, key, reject(ReasonPayloadMismatch, fmt.Errorf("dedupe key reused with a different payload")))
		default:
			// In progress in another invocation. A different hash is checked
			// when that one has completed and this record comes back.
			return result{outcome: OutcomeRetry, detail: "dedupe key in progress in another invocation", key: key}
		}
	}

	claim := &idempotency.Claim{Key: rec.Key, Hash: rec.Hash, ExpiresAt: rec.ExpiresAt, InProgressUntil: rec.InProgressUntil}
	herr := c.callHandler(ctx, p.msg, metaOf(r))

	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
	defer cancel()
	if herr == nil {
		// The refreshed expiry counts DedupeTTL from completion.
		claim.ExpiresAt = c.opts.Now().Add(c.opts.DedupeTTL)
		if err := c.opts.Store.Complete(cctx, claim, 0, nil); err != nil {
			// The effect has happened, so the message is processed; retrying
			// it would repeat the effect once the claim lapses.
			lambdakit.Logger(ctx).WarnContext(ctx, "consumer: processed but the dedupe record was not completed",
				"consumer", c.opts.Name, "messageId", r.MessageId, "dedupeKey", key, "error", truncate(err.Error(), maxDetail))
		}
		return result{outcome: OutcomeProcessed, key: key}
	}
	if err := c.opts.Store.Release(cctx, claim); err != nil {
		// The claim lapses at InProgressUntil; until then retries wait.
		lambdakit.Logger(ctx).WarnContext(ctx, "consumer: dedupe record not released",
			"consumer", c.opts.Name, "messageId", r.MessageId, "dedupeKey", key, "error", truncate(err.Error(), maxDetail))
	}
	fate, until := apperr.Classify(herr)
	if fate == apperr.Permanent {
		return c.deadLetter(ctx, r, key, herr)
	}
	if fate == apperr.Held && c.opts.Holder != nil {
		err := c.opts.Holder.Hold(cctx, held.Message{Key: p.key, Body: r.Body, Attributes: stringAttributes(r), Until: until})
		if err == nil {
			return result{outcome: OutcomeHeld, detail: herr.Error(), key: key}
		}
		lambdakit.Logger(ctx).WarnContext(ctx, "consumer: message not held outside the queue; it waits in the queue instead",
			"consumer", c.opts.Name, "messageId", r.MessageId, "until", until.UTC().Format(time.RFC3339), "error", truncate(err.Error(), maxDetail))
	}
	if fate == apperr.Held && c.opts.Delayer != nil {
		d := min(max(until.Sub(c.opts.Now()), 0), MaxRetryDelay)
		if err := c.opts.Delayer.Delay(cctx, r, d); err != nil {
			lambdakit.Logger(ctx).WarnContext(ctx, "consumer: redelivery delay not set; the queue's visibility timeout applies",
				"consumer", c.opts.Name, "messageId", r.MessageId, "delay", d.String(), "error", truncate(err.Error(), maxDetail))
		}
	}
	return result{outcome: OutcomeRetry, detail: herr.Error(), key: key}
}

// inProgressUntil is when a claim taken now lapses: the invocation's deadline
// (past it the invocation is dead and a retry may run), else now plus the
// visibility timeout.
func (c *Consumer[T]) inProgressUntil(ctx context.Context, now time.Time) time.Time {
	if dl, ok := ctx.Deadline(); ok {
		return dl
	}
	return now.Add(c.opts.VisibilityTimeout)
}

// callHandler runs the handler, turning a panic into a (transient) error so
// that the claim is released and the record retried.
func (c *Consumer[T]) callHandler(ctx context.Context, msg T, meta Meta) (err error) {
	defer func() {
		if v := recover(); v != nil {
			lambdakit.Logger(ctx).ErrorContext(ctx, "consumer: handler panicked",
				"consumer", c.opts.Name, "messageId", meta.MessageID, "stack", string(debug.Stack()))
			err = fmt.Errorf("handler panicked: %v", v)
		}
	}()
	return c.handle(ctx, msg, meta)
}

// logResult writes one line for a record that failed or was dead-lettered
// (with its messageId, dedupe key and reason, never its body) and a debug
// line for a duplicate.
func (c *Consumer[T]) logResult(ctx context.Context, r events.SQSMessage, res result) {
	attrs := []any{"consumer", c.opts.Name, "messageId", r.MessageId, "dedupeKey", res.key, "outcome", string(res.outcome)}
	log := lambdakit.Logger(ctx)
	switch res.outcome {
	case OutcomeRetry:
		log.WarnContext(ctx, "consumer: record will be retried", append(attrs, "reason", truncate(res.detail, maxDetail))...)
	case OutcomeDeadLettered:
		log.ErrorContext(ctx, "consumer: record dead-lettered", append(attrs, "reason", string(res.reason), "detail", truncate(res.detail, maxDetail))...)
	case OutcomeDuplicate:
		log.Log(ctx, slog.LevelDebug, "consumer: duplicate record acknowledged", attrs...)
	}
}

// emitMetrics counts the batch's outcomes, one metric line per outcome seen.
func (c *Consumer[T]) emitMetrics(ctx context.Context, counts map[Outcome]int) {
	for _, o := range []Outcome{OutcomeProcessed, OutcomeDuplicate, OutcomeRetry, OutcomeDeadLettered, OutcomeHeld} {
		metrics.EmitMessages(ctx, c.opts.Name, string(o), counts[o])
	}
}
