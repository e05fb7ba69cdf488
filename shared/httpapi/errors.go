package httpapi

import (
	"encoding/json"
	"net/http"

	"github.com/labchain/appointments/shared/apperr"
)

// statusByCode is the one table from application error codes to HTTP statuses.
// A test fails when apperr declares a code that is missing here.
var statusByCode = map[apperr.Code]int{
	apperr.Validation:           http.StatusBadRequest,
	apperr.Unauthenticated:      http.StatusUnauthorized,
	apperr.Forbidden:            http.StatusForbidden,
	apperr.NotFound:             http.StatusNotFound,
	apperr.SlotUnavailable:      http.StatusConflict,
	apperr.Conflict:             http.StatusConflict,
	apperr.RequestInProgress:    http.StatusConflict,
	apperr.OutsideSchedule:      http.StatusUnprocessableEntity,
	apperr.CancelCutoff:         http.StatusUnprocessableEntity,
	apperr.InvalidTransition:    http.StatusConflict,
	apperr.IdempotencyKeyReused: http.StatusUnprocessableEntity,
	apperr.LimitExceeded:        http.StatusUnprocessableEntity,
	apperr.PayloadTooLarge:      http.StatusRequestEntityTooLarge,
	apperr.Unavailable:          http.StatusServiceUnavailable,
	apperr.Internal:             http.StatusInternalServerError,
}

// StatusOf returns the HTTP status for an application error code; an unknown
// code is a server bug and maps to 500.
func StatusOf(code apperr.Code) int {
	if s, ok := statusByCode[code]; ok {
		return s
	}
	return http.StatusInternalServerError
}

// internalMessage is all a client ever learns about a 5xx other than 503.
const internalMessage = "internal error"

// RetryAfterSeconds is the Retry-After of every 503 (TEMPORARILY_UNAVAILABLE):
// throttling and transaction conflicts in DynamoDB clear within about a
// second, and the SDK has already retried with backoff before we give up.
const RetryAfterSeconds = "1"

// ErrorBody is the envelope of every non-2xx response:
// {"error":{"code":"SLOT_UNAVAILABLE","message":"...","requestId":"..."}}.
type ErrorBody struct {
	Error ErrorDetail `json:"error"`
}

// ErrorDetail is the content of the error envelope. RequestID is API Gateway's
// request id (requestContext.requestId), which support can look up in the logs.
type ErrorDetail struct {
	Code      apperr.Code `json:"code"`
	Message   string      `json:"message"`
	RequestID string      `json:"requestId"`
}

// errorStatusAndBody maps err to its status and envelope. 5xx responses never
// carry the cause: the code becomes INTERNAL and the message a fixed text,
// except for TEMPORARILY_UNAVAILABLE (503), whose code tells the client that
// a retry after Retry-After may succeed.
func errorStatusAndBody(err error, requestID string) (int, []byte) {
	code := apperr.CodeOf(err)
	status := StatusOf(code)
	msg := apperr.MessageOf(err)
	if status == http.StatusServiceUnavailable {
		msg = "temporarily unavailable; retry after the Retry-After delay"
	} else if status >= 500 {
		code, msg = apperr.Internal, internalMessage
	}
	b, mErr := json.Marshal(ErrorBody{Error: ErrorDetail{Code: code, Message: msg, RequestID: requestID}})
	if mErr != nil { // cannot happen with string fields; keep a valid body anyway
		return http.StatusInternalServerError, []byte(`{"error":{"code":"INTERNAL","message":"internal error","requestId":""}}`)
	}
	return status, b
}
