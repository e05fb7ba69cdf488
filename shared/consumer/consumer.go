package consumer

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"go.opentelemetry.io/otel/trace"

	"github.com/labchain/appointments/shared/idempotency"
)

// Message is what a consumer's message type implements. The consumer decodes
// each body strictly into the type (see Decode) before calling these.
type Message interface {
	// DedupeKey returns the message's business key, such as the producer's
	// event id: two deliveries with the same key are the same message. It must
	// not be the SQS message id, which differs when a producer sends the same
	// event twice. An empty key is invalid.
	DedupeKey() string
	// Validate checks the message's fields. An error makes the message
	// permanently invalid (dead-lettered). It wraps apperr.ErrUnknownVersion
	// for a schema version the type does not know. Its text is logged and sent as
	// failure-detail, so it must not quote field values (personal data).
	Validate() error
}

// Meta describes the delivery of one message.
type Meta struct {
	// MessageID is the SQS message id (not the dedupe key).
	MessageID string
	// ReceiveCount is how many times SQS has delivered the message, this
	// delivery included (the ApproximateReceiveCount attribute); 0 if absent.
	ReceiveCount int
	// SentAt is when the message was sent to the queue (SentTimestamp); zero
	// if absent.
	SentAt time.Time
	// Attributes are the message attributes the producer set.
	Attributes map[string]events.SQSMessageAttribute
	// EventSourceARN is the ARN of the queue the message came from.
	EventSourceARN string
	// MessageGroupID is the FIFO message group id, "" for a standard queue.
	MessageGroupID string
}

// IdempotencyStore keeps the dedupe records, with the semantics of
// app.IdempotencyStore (which the DynamoDB store implements): Begin stores rec
// unless a live record exists (COMPLETED and unexpired, or INPROGRESS with
// InProgressUntil not before now) and then returns that record and no error;
// Complete marks the claim's record COMPLETED with the claim's expiry; Release
// deletes the claim's own INPROGRESS record (never that of a later claim that
// took a lapsed key over) so that a retry can run.
type IdempotencyStore interface {
	Begin(ctx context.Context, rec idempotency.Record, now time.Time) (existing *idempotency.Record, err error)
	Complete(ctx context.Context, c *idempotency.Claim, statusCode int, body []byte) error
	Release(ctx context.Context, c *idempotency.Claim) error
}

// Delayer hides a received message for d, so that it is delivered again
// only then (SQS ChangeMessageVisibility on its receipt handle).
type Delayer interface {
	Delay(ctx context.Context, r events.SQSMessage, d time.Duration) error
}

// Defaults and limits of Options.
const (
	// DefaultDedupeTTL is how long a completed dedupe record is kept.
	DefaultDedupeTTL = 7 * 24 * time.Hour
	// MinDedupeTTL is the shortest DedupeTTL accepted: a record must outlive
	// every redelivery of its message (visibility timeout × maxReceiveCount,
	// plus a redrive from the dead-letter queue), or a late redelivery would
	// run the handler again.
	MinDedupeTTL = 24 * time.Hour
	// DefaultVisibilityTimeout is SQS's default visibility timeout.
	DefaultVisibilityTimeout = 30 * time.Second
)

// cleanupTimeout bounds Complete and Release, which run on a context that is
// not cancelled with the invocation, so that a record is not left blocking
// retries for nothing.
const cleanupTimeout = 2 * time.Second

// Options configure a Consumer.
type Options struct {
	// Name identifies the consumer: it scopes the dedupe keys
	// ("consumer#<Name>#<DedupeKey>"), names the spans ("process <Name>") and
	// is the Consumer dimension of the metrics. Required: 1..64 of
	// [A-Za-z0-9_.-]. Renaming a consumer forgets its dedupe records.
	Name string
	// Store keeps the dedupe records. Required.
	Store IdempotencyStore
	// DeadLetters sends permanently failed messages to the queue's
	// dead-letter queue. Required.
	DeadLetters DeadLetterSender
	// Concurrency is how many records of a batch are processed at once;
	// default 1, which processes them in order. Records with the same dedupe
	// key never run at once whatever the value, and a FIFO queue's batch is
	// always processed in order.
	Concurrency int
	// DedupeTTL is how long a completed message is remembered; default
	// DefaultDedupeTTL, at least MinDedupeTTL.
	DedupeTTL time.Duration
	// VisibilityTimeout is how long a claim blocks other deliveries of its key
	// when the context has no deadline (outside Lambda). Inside Lambda the
	// claim lasts until the invocation's deadline, after which the invocation
	// is dead and a retry may run. Default DefaultVisibilityTimeout.
	VisibilityTimeout time.Duration
	// Delayer sets a message's redelivery delay for handler errors that
	// apperr.Classify finds Held (the SQS adapter: ChangeMessageVisibility),
	// until the time they name (at most MaxRetryDelay ahead; each delay uses
	// up one of the queue's maxReceiveCount deliveries); nil means such
	// errors are retried after the queue's visibility timeout, as is a
	// failed Delay.
	Delayer Delayer
	// Holder, if set, takes a message whose handler error is Held out of the
	// queue until the time it names (see Holder); the message is then
	// acknowledged, so it neither ages in the queue nor counts as a failure.
	// If Hold fails, Delayer applies.
	Holder Holder
	// TracerProvider creates the per-record spans; nil means the global one
	// (otel.GetTracerProvider, which lambdakit.Init sets).
	TracerProvider trace.TracerProvider
	// Now returns the current time; nil means time.Now.
	Now func() time.Time
}

var namePattern = regexp.MustCompile(`^[A-Za-z0-9_.-]{1,64}$`)

// validate checks o and fills in defaults.
func (o *Options) validate() error {
	var errs []error
	if !namePattern.MatchString(o.Name) {
		errs = append(errs, fmt.Errorf("Name %q must be 1..64 of [A-Za-z0-9_.-]", o.Name))
	}
	if o.Store == nil {
		//lint:ignore ST1005 the message starts with the name of the Options field
		errs = append(errs, errors.New("Store is required"))
	}
	if o.DeadLetters == nil {
		errs = append(errs, errors.New("DeadLetters is required"))
	}
	switch {
	case o.Concurrency == 0:
		o.Concurrency = 1
	case o.Concurrency < 0:
		//lint:ignore ST1005 the message starts with the name of the Options field
		errs = append(errs, fmt.Errorf("Concurrency %d must not be negative", o.Concurrency))
	}
	switch {
	case o.DedupeTTL == 0:
		o.DedupeTTL = DefaultDedupeTTL
	case o.DedupeTTL < MinDedupeTTL:
		errs = append(errs, fmt.Errorf("DedupeTTL %v must be at least %v (the queue's redelivery horizon)", o.DedupeTTL, MinDedupeTTL))
	}
	switch {
	case o.VisibilityTimeout == 0:
		o.VisibilityTimeout = DefaultVisibilityTimeout
	case o.VisibilityTimeout < 0:
		errs = append(errs, fmt.Errorf("VisibilityTimeout %v must not be negative", o.VisibilityTimeout))
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return errors.Join(errs...)
}

// Consumer processes SQS batches of messages of type T. It is safe for
// concurrent use; build it once per cold start.
type Consumer[T Message] struct {
	opts   Options
	handle func(ctx context.Context, msg T, meta Meta) error
}

// New returns a consumer that runs handle for each new, valid message. It
// panics if opts are invalid (a missing Name, Store or DeadLetters, a
// DedupeTTL under MinDedupeTTL, a negative Concurrency or VisibilityTimeout)
// or handle is nil: options are fixed in a function's main, so this fails the
// cold start visibly.
//
// handle's error decides the message's fate, as apperr.Classify classes it:
// nil acknowledges it; a Permanent error dead-letters it; a Held error has it
// hidden until its time (see Options.Delayer); any other error has it retried
// by SQS. A panic in handle counts as a transient error.
func New[T Message](opts Options, handle func(ctx context.Context, msg T, meta Meta) error) *Consumer[T] {
	if handle == nil {
		panic("consumer: New: handle is nil")
	}
	if err := opts.validate(); err != nil {
		panic("consumer: New: " + strings.ReplaceAll(err.Error(), "\n", "; "))
	}
	return &Consumer[T]{opts: opts, handle: handle}
}

// Name returns the consumer's name.
func (c *Consumer[T]) Name() string { return c.opts.Name }

// prepared is a record after decoding, before processing.
type prepared[T Message] struct {
	msg  T
	key  string // storage key; "" when decoding failed
	hash string
	err  error // permanent decoding or validation failure
}

// Handle processes one SQS event, as Lambda's event source mapping delivers
// it, and returns the messageIds to retry in BatchItemFailures (Lambda must
// have ReportBatchItemFailures enabled). Processed, duplicate and
// dead-lettered records are acknowledged.
//
// It returns an error, which makes Lambda retry the whole batch (and count a
// function error), only when every record of the batch failed, as Powertools
// does, or when a failed record has an empty messageId, which
// BatchItemFailures cannot name. In both cases no message is lost: records
// already processed are duplicates when delivered again.
func (c *Consumer[T]) Handle(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
	recs := ev.Records
	preps := make([]prepared[T], len(recs))
	for i, r := range recs {
		msg, hash, err := decode[T](r.Body)
		preps[i] = prepared[T]{msg: msg, hash: hash, err: err}
		if err == nil {
			preps[i].key = "consumer#" + c.opts.Name + "#" + msg.DedupeKey()
		}
	}

	results := make([]result, len(recs))
	switch {
	case isFIFO(recs):
		c.runFIFO(ctx, recs, preps, results)
	case c.opts.Concurrency == 1:
		for i := range recs {
			results[i] = c.record(ctx, recs[i], preps[i])
		}
	default:
		c.runConcurrently(ctx, recs, preps, results)
	}
	return c.respond(ctx, recs, results)
}

// isFIFO reports whether the batch comes from a FIFO queue.
func isFIFO(recs []events.SQSMessage) bool {
	return len(recs) > 0 && strings.HasSuffix(recs[0].EventSourceARN, ".fifo")
}

// runFIFO processes a FIFO batch in order and, as Powertools and the Lambda
// documentation prescribe, reports every record after the first retried one
// as failed without processing it, so that no message overtakes an earlier
// one of its group. Dead-lettered records do not stop the batch: SQS itself
// moves on past a message once it is in the dead-letter queue.
func (c *Consumer[T]) runFIFO(ctx context.Context, recs []events.SQSMessage, preps []prepared[T], results []result) {
	stopped := false
	for i := range recs {
		if stopped {
			results[i] = result{outcome: OutcomeRetry, detail: "not processed: an earlier record of this FIFO batch failed", key: dedupeKeyOf(preps[i])}
			continue
		}
		results[i] = c.record(ctx, recs[i], preps[i])
		stopped = results[i].outcome == OutcomeRetry
	}
}

// runConcurrently processes up to Concurrency records at once. Records that
// share a dedupe key are chained in batch order, so the second sees the
// first's outcome (normally a duplicate) instead of its claim in progress.
func (c *Consumer[T]) runConcurrently(ctx context.Context, recs []events.SQSMessage, preps []prepared[T], results []result) {
	sem := make(chan struct{}, c.opts.Concurrency)
	last := make(map[string]chan struct{})
	var wg sync.WaitGroup
	for i := range recs {
		done := make(chan struct{})
		var prev chan struct{}
		if k := preps[i].key; k != "" {
			prev = last[k]
			last[k] = done
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer close(done)
			if prev != nil {
				<-prev // before taking a slot, so waiting never holds one
			}
			sem <- struct{}{}
			defer func() { <-sem }()
			results[i] = c.record(ctx, recs[i], preps[i])
		}()
	}
	wg.Wait()
}

// respond builds the batch response, logs and counts the outcomes.
func (c *Consumer[T]) respond(ctx context.Context, recs []events.SQSMessage, results []result) (events.SQSEventResponse, error) {
	resp := events.SQSEventResponse{BatchItemFailures: []events.SQSBatchItemFailure{}}
	counts := map[Outcome]int{}
	reported := map[string]bool{}
	failed, unnamed := 0, 0
	for i, r := range results {
		counts[r.outcome]++
		if r.outcome != OutcomeRetry {
			continue
		}
		failed++
		id := recs[i].MessageId
		if id == "" {
			unnamed++
			continue
		}
		if !reported[id] {
			reported[id] = true
			resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: id})
		}
	}
	c.emitMetrics(ctx, counts)
	switch {
	case unnamed > 0:
		return resp, fmt.Errorf("consumer %s: %d failed record(s) without a messageId cannot be reported alone; failing the whole batch", c.opts.Name, unnamed)
	case failed > 0 && failed == len(recs):
		return resp, fmt.Errorf("consumer %s: all %d record(s) of the batch failed", c.opts.Name, failed)
	}
	return resp, nil
}

// metaOf returns the delivery information of a record.
func metaOf(r events.SQSMessage) Meta {
	m := Meta{
		MessageID:      r.MessageId,
		Attributes:     r.MessageAttributes,
		EventSourceARN: r.EventSourceARN,
		MessageGroupID: r.Attributes["MessageGroupId"],
	}
	if n, err := strconv.Atoi(r.Attributes["ApproximateReceiveCount"]); err == nil {
		m.ReceiveCount = n
	}
	if ms, err := strconv.ParseInt(r.Attributes["SentTimestamp"], 10, 64); err == nil {
		m.SentAt = time.UnixMilli(ms)
	}
	return m
}

// dedupeKeyOf returns a prepared record's dedupe key for logs, "" if it did
// not decode.
func dedupeKeyOf[T Message](p prepared[T]) string {
	if p.key == "" {
		return ""
	}
	return p.msg.DedupeKey()
}
