// Package consumer is the one helper every SQS-triggered Lambda function uses
// to process its messages, with the semantics of Lambda's SQS event source
// mapping and of the batch-processing and idempotency utilities of Powertools
// for AWS Lambda.
//
// A consumer declares its message type and a handler:
//
//	type AppointmentBooked struct {
//		Version int    `json:"version"`
//		EventID string `json:"eventId"`
//		// ...
//	}
//
//	func (m AppointmentBooked) DedupeKey() string { return m.EventID }
//	func (m AppointmentBooked) Validate() error {
//		if m.Version != 1 {
//			return fmt.Errorf("%w %d", apperr.ErrUnknownVersion, m.Version)
//		}
//		// ...
//	}
//
//	c := consumer.New(consumer.Options{Name: "notify-booked", Store: store, DeadLetters: dlq},
//		func(ctx context.Context, m AppointmentBooked, meta consumer.Meta) error { ... })
//	lambdakit.StartTyped(rt, c.Handle)
//
// For every record of a batch, Handle:
//
//  1. decodes the body strictly into the message type (one JSON object, no
//     unknown, duplicate or wrongly-cased member names, valid UTF-8; the
//     decoder is shared/strictjson, the same as for HTTP bodies) and calls
//     Validate. A failure here is permanent.
//  2. claims the message's business key (DedupeKey, such as the producer's
//     event id; not the SQS message id, which changes when a producer sends
//     the same event twice) in the IdempotencyStore. A key already completed
//     with the same body is a duplicate and is acknowledged without running
//     the handler; completed with a different body it is a permanent failure;
//     a key in progress elsewhere is retried later, so the handler never runs
//     twice at once for one key.
//  3. runs the handler. Success completes the claim (kept for DedupeTTL); an
//     error releases it so that a retry can run. apperr.Classify, the one
//     classifier of failures, decides what happens next: a Permanent error
//     is dead-lettered, a Held one (apperr.HoldUntil) is kept outside the
//     queue until its time (Options.Holder; a release job sends it back) and
//     acknowledged, or, without a Holder or if holding fails, hidden in the
//     queue until then (Options.Delayer); every other error is transient.
//
// Permanent failures are sent at once to the queue's dead-letter queue with
// failure attributes (see DeadLetterSender) and acknowledged: retrying them
// cannot help. Transient failures are reported in batchItemFailures, so SQS
// makes them visible again after the visibility timeout and, after the
// queue's maxReceiveCount, moves them to the dead-letter queue itself. A
// message is never acknowledged unless it was processed, was a duplicate, or
// is safely in the dead-letter queue.
//
// Deduplication makes redeliveries harmless with one exception, as in
// Powertools: if an invocation dies after the handler's effect but before the
// record is completed, the message runs again once the claim lapses (at the
// dead invocation's deadline). A handler whose effect must happen at most once
// makes that effect conditional itself, for example a DynamoDB write
// conditional on the dedupe key.
//
// The Lambda event source mapping must have ReportBatchItemFailures enabled
// (FunctionResponseTypes: [ReportBatchItemFailures]). Without it Lambda
// ignores the response and deletes the whole batch whenever Handle returns no
// error, so the messages reported as failed would be lost.
package consumer
