package apperr

import (
	"errors"
	"time"
)

// Failure is what a message consumer (an SQS-triggered function) does with a
// message whose processing failed. Classify decides it; nothing else in the
// code base keeps its own notion of permanent, transient or held errors.
type Failure int

// The failure classes.
const (
	// Transient: retry the message after the queue's visibility timeout (an
	// outage, a concurrent change, data that may not have arrived yet).
	Transient Failure = iota
	// Permanent: retrying cannot help; dead-letter the message at once.
	Permanent
	// Held: not a fault; deliver the message again no earlier than a given
	// time (a notification held by the quiet hours).
	Held
)

func (f Failure) String() string {
	switch f {
	case Transient:
		return "transient"
	case Permanent:
		return "permanent"
	case Held:
		return "held"
	}
	return "unknown"
}

// permanentCodes are the codes whose failure no retry of the same message can
// cure: the message (or what it asks for) is wrong, not the moment. Every
// other code is transient: NOT_FOUND (the data may not have arrived yet),
// CONFLICT and REQUEST_IN_PROGRESS (a concurrent change), SLOT_UNAVAILABLE and
// OUTSIDE_SCHEDULE (capacity and schedules change), INTERNAL (an outage).
var permanentCodes = map[Code]bool{
	Validation:           true,
	Unauthenticated:      true,
	Forbidden:            true,
	InvalidTransition:    true,
	CancelCutoff:         true,
	IdempotencyKeyReused: true,
	LimitExceeded:        true,
	PayloadTooLarge:      true,
}

// ErrUnknownVersion is the cause (the Err of a VALIDATION_FAILED *Error, or a
// wrapped sentinel) of a message carrying a schema version its reader does
// not know. Such a message is permanent for this deployment; a consumer
// dead-letters it with a reason that tells the operator to deploy a reader
// that knows the version and redrive, rather than to fix the producer.
var ErrUnknownVersion = errors.New("unknown schema version")

// permanentError marks an error as permanent whatever its code; see
// MarkPermanent.
type permanentError struct{ err error }

func (e *permanentError) Error() string { return e.err.Error() }
func (e *permanentError) Unwrap() error { return e.err }

// MarkPermanent marks err as permanent whatever its code or cause (a provider
// rejecting an address, a message for an appointment that can never exist,
// a NOT_FOUND on a message's last delivery). MarkPermanent(nil) is nil.
func MarkPermanent(err error) error {
	if err == nil {
		return nil
	}
	return &permanentError{err: err}
}

// HeldError is a failure that means "later": the work must wait until Until
// and then be tried again (a results message held by the quiet hours).
type HeldError struct {
	// Until is the earliest time the work may be tried again.
	Until time.Time
	// Reason says why, for logs (no personal data).
	Reason string
}

func (e *HeldError) Error() string {
	return e.Reason + " until " + e.Until.UTC().Format(time.RFC3339)
}

// HoldUntil returns a Held failure: try again at until, for the given reason.
func HoldUntil(until time.Time, reason string) *HeldError {
	return &HeldError{Until: until, Reason: reason}
}

// Classify decides what a consumer does with err, and for Held until when.
// It walks err's chain from the outside in; the first of these it meets
// decides:
//
//   - a MarkPermanent mark: Permanent;
//   - a *HeldError: Held until its Until;
//   - an *Error: its code (Permanent for VALIDATION_FAILED, FORBIDDEN,
//     INVALID_TRANSITION, LIMIT_EXCEEDED and the other request faults listed
//     in permanentCodes, Transient for NOT_FOUND, CONFLICT, INTERNAL and the
//     rest);
//   - a joined error (errors.Join, fmt.Errorf with several %w): its parts,
//     each classified alone. Any Transient part makes the whole Transient
//     (retrying may cure that part, and the others were seen to fail, so the
//     retry will face them again); else any Held part makes it Held until the
//     latest Until; else (every part Permanent) it is Permanent.
//
// An error with none of these (a network error, a driver error) is
// Transient. Classify(nil) is Transient with no meaning; callers test nil
// first.
func Classify(err error) (Failure, time.Time) {
	for err != nil {
		switch e := err.(type) {
		case *permanentError:
			return Permanent, time.Time{}
		case *HeldError:
			return Held, e.Until
		case *Error:
			if permanentCodes[e.Code] {
				return Permanent, time.Time{}
			}
			return Transient, time.Time{}
		case interface{ Unwrap() []error }:
			return classifyJoined(e.Unwrap())
		case interface{ Unwrap() error }:
			err = e.Unwrap()
		default:
			return Transient, time.Time{}
		}
	}
	return Transient, time.Time{}
}

// classifyJoined combines the classes of a joined error's parts.
func classifyJoined(parts []error) (Failure, time.Time) {
	held, permanent := false, false
	var until time.Time
	for _, p := range parts {
		if p == nil {
			continue
		}
		switch f, t := Classify(p); f {
		case Transient:
			return Transient, time.Time{}
		case Held:
			held = true
			if t.After(until) {
				until = t
			}
		case Permanent:
			permanent = true
		}
	}
	switch {
	case held:
		return Held, until
	case permanent:
		return Permanent, time.Time{}
	}
	return Transient, time.Time{}
}

// IsPermanent reports whether Classify finds err Permanent (false for nil).
func IsPermanent(err error) bool {
	if err == nil {
		return false
	}
	f, _ := Classify(err)
	return f == Permanent
}

// IsUnknownVersion reports whether err reports an unknown schema version
// (wraps ErrUnknownVersion).
func IsUnknownVersion(err error) bool { return errors.Is(err, ErrUnknownVersion) }
