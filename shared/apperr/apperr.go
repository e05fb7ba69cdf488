// Package apperr defines the single application error type and its small set of
// stable codes. Adapters map codes to transport statuses (see httpapi); nothing
// else in the code base invents error kinds.
package apperr

import (
	"errors"
	"fmt"
)

// Code is a stable, upper-case error code that clients may rely on.
type Code string

// The codes. Adding one requires adding it to the HTTP status table in httpapi.
const (
	Validation           Code = "VALIDATION_FAILED"       // the request is malformed or breaks a field rule
	Unauthenticated      Code = "UNAUTHENTICATED"         // no or unusable caller identity
	Forbidden            Code = "FORBIDDEN"               // the caller's role may never do this
	NotFound             Code = "NOT_FOUND"               // the object does not exist or is not visible to the caller
	SlotUnavailable      Code = "SLOT_UNAVAILABLE"        // no free resource set at the requested time
	OutsideSchedule      Code = "OUTSIDE_SCHEDULE"        // closed, off the grid, or outside the booking window
	CancelCutoff         Code = "CANCEL_CUTOFF"           // a patient is too close to the start to change the visit
	InvalidTransition    Code = "INVALID_TRANSITION"      // the lifecycle does not allow this status change
	Conflict             Code = "CONFLICT"                // a concurrent change won; the caller may retry
	IdempotencyKeyReused Code = "IDEMPOTENCY_KEY_REUSED"  // same Idempotency-Key, different request
	RequestInProgress    Code = "REQUEST_IN_PROGRESS"     // same Idempotency-Key while the first call still runs
	LimitExceeded        Code = "LIMIT_EXCEEDED"          // a configured quota would be exceeded
	PayloadTooLarge      Code = "PAYLOAD_TOO_LARGE"       // request body over the limit
	Unavailable          Code = "TEMPORARILY_UNAVAILABLE" // the database is throttling or busy; retry later
	Internal             Code = "INTERNAL"                // anything unexpected; never shown in detail to clients
)

// Error is the application error. Message is safe to show to clients for every
// code except Internal; Err (optional) is the cause, for operators only.
type Error struct {
	Code    Code
	Message string
	Err     error
}

func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%s: %s: %v", e.Code, e.Message, e.Err)
	}
	return fmt.Sprintf("%s: %s", e.Code, e.Message)
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// E builds an error with a client-safe message.
func E(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Wrap builds an Internal error around an unexpected cause; the message given
// is for logs only (clients always see a generic text for Internal). A cause
// that is already Unavailable stays Unavailable (a busy database is not a
// bug), with the given message added to the cause for the logs.
func Wrap(err error, format string, args ...any) *Error {
	msg := fmt.Sprintf(format, args...)
	var e *Error
	if errors.As(err, &e) && e.Code == Unavailable {
		return &Error{Code: Unavailable, Message: e.Message, Err: fmt.Errorf("%s: %w", msg, err)}
	}
	return &Error{Code: Internal, Message: msg, Err: err}
}

// CodeOf returns the code of the first *Error in err's chain, Internal for any
// other non-nil error, and "" for nil.
func CodeOf(err error) Code {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return Internal
}

// Is reports whether err carries the given code.
func Is(err error, code Code) bool { return err != nil && CodeOf(err) == code }

// MessageOf returns the client-safe message of err: the *Error's message, or a
// generic text for Internal and foreign errors.
func MessageOf(err error) string {
	var e *Error
	if errors.As(err, &e) && e.Code != Internal {
		return e.Message
	}
	return "internal error"
}
