package consumer

import (
	"errors"
	"time"
	"unicode/utf8"
)

// ErrUnknownVersion is what a message type's Validate wraps when the message
// carries a schema version it does not know, for example
// fmt.Errorf("%w %d", consumer.ErrUnknownVersion, m.Version). The message is
// then dead-lettered with reason unknown_version rather than invalid, which
// tells the operator to deploy the newer consumer and redrive, not to fix the
// producer.
var ErrUnknownVersion = errors.New("unknown schema version")

// Reason is the short code of a permanent failure, sent as the failure-reason
// attribute of a dead-lettered message.
type Reason string

// The reasons a message is dead-lettered by the consumer.
const (
	// ReasonUndecodable: the body is not one JSON object that decodes strictly
	// into the message type.
	ReasonUndecodable Reason = "undecodable"
	// ReasonInvalid: the message decoded but Validate rejected it (or its
	// dedupe key is empty or too long).
	ReasonInvalid Reason = "invalid"
	// ReasonUnknownVersion: Validate reported ErrUnknownVersion.
	ReasonUnknownVersion Reason = "unknown_version"
	// ReasonPayloadMismatch: the dedupe key was already completed with a
	// different body.
	ReasonPayloadMismatch Reason = "payload_mismatch"
	// ReasonPermanent: the handler returned an error wrapped by Permanent.
	ReasonPermanent Reason = "permanent"
)

// permanentError marks an error as permanent; see Permanent.
type permanentError struct{ err error }

func (e *permanentError) Error() string { return e.err.Error() }
func (e *permanentError) Unwrap() error { return e.err }

// Permanent marks a handler error as permanent: retrying the message cannot
// succeed (for example, it refers to something that can never exist), so it
// is dead-lettered at once instead of being retried up to maxReceiveCount
// times. Every error not marked is transient, including apperr codes such as
// NOT_FOUND, which often only means that the data has not arrived yet.
// Permanent(nil) returns nil.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return &permanentError{err: err}
}

// IsPermanent reports whether err, or an error it wraps, was marked by
// Permanent.
func IsPermanent(err error) bool {
	var p *permanentError
	return errors.As(err, &p)
}

// MaxRetryDelay is the longest RetryAfter delay: SQS's maximum visibility
// timeout.
const MaxRetryDelay = 12 * time.Hour

// retryAfterError is a transient error with a wanted redelivery delay.
type retryAfterError struct {
	err   error
	delay time.Duration
}

func (e *retryAfterError) Error() string { return e.err.Error() }
func (e *retryAfterError) Unwrap() error { return e.err }

// RetryAfter marks a handler error as transient with a wanted delay before
// the message is delivered again (capped at MaxRetryDelay), for a message
// that must wait rather than fail, such as one held until the morning. The
// consumer asks Options.Delayer to hide the message that long; without a
// Delayer, or if that fails, it is an ordinary transient error (redelivered
// after the queue's visibility timeout). Each delay uses up one of the
// queue's maxReceiveCount deliveries. RetryAfter(nil, d) is nil.
func RetryAfter(err error, d time.Duration) error {
	if err == nil {
		return nil
	}
	return &retryAfterError{err: err, delay: min(max(d, 0), MaxRetryDelay)}
}

// retryDelay returns the delay RetryAfter gave err, if any.
func retryDelay(err error) (time.Duration, bool) {
	var r *retryAfterError
	if errors.As(err, &r) {
		return r.delay, true
	}
	return 0, false
}

// rejection is a permanent failure found before the handler ran.
type rejection struct {
	reason Reason
	err    error
}

func (r *rejection) Error() string { return string(r.reason) + ": " + r.err.Error() }
func (r *rejection) Unwrap() error { return r.err }

// reject returns a rejection; decoding and validation failures are always
// permanent, so it also satisfies IsPermanent through Permanent's type.
func reject(reason Reason, err error) error {
	return &permanentError{err: &rejection{reason: reason, err: err}}
}

// reasonOf returns the reason of a permanent failure: the rejection's reason,
// or ReasonPermanent for a handler error marked by Permanent.
func reasonOf(err error) Reason {
	var r *rejection
	if errors.As(err, &r) {
		return r.reason
	}
	return ReasonPermanent
}

// maxDetail bounds the failure-detail attribute and the error logged for a
// failed record.
const maxDetail = 1024

// truncate shortens s to at most max bytes without splitting a UTF-8
// sequence, marking the cut with "...".
func truncate(s string, max int) string {
	if len(s) <= max {
		return s
	}
	cut := max - 3
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "..."
}
