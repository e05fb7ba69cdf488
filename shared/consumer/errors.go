package consumer

import (
	"errors"
	"time"
	"unicode/utf8"

	"github.com/labchain/appointments/shared/apperr"
)

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
	// ReasonUnknownVersion: Validate reported apperr.ErrUnknownVersion.
	ReasonUnknownVersion Reason = "unknown_version"
	// ReasonPayloadMismatch: the dedupe key was already completed with a
	// different body.
	ReasonPayloadMismatch Reason = "payload_mismatch"
	// ReasonPermanent: the handler returned an error that apperr.Classify
	// finds permanent.
	ReasonPermanent Reason = "permanent"
)

// MaxRetryDelay is the longest delay for a held message (apperr.Held):
// SQS's maximum visibility timeout.
const MaxRetryDelay = 12 * time.Hour

// rejection is a permanent failure found before the handler ran.
type rejection struct {
	reason Reason
	err    error
}

func (r *rejection) Error() string { return string(r.reason) + ": " + r.err.Error() }
func (r *rejection) Unwrap() error { return r.err }

// reject returns a rejection; decoding and validation failures are always
// permanent (apperr.MarkPermanent).
func reject(reason Reason, err error) error {
	return apperr.MarkPermanent(&rejection{reason: reason, err: err})
}

// reasonOf returns the reason of a permanent failure: the rejection's reason,
// or ReasonPermanent for a handler error.
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
