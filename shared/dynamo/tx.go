package dynamo

import (
	"errors"
	"regexp"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/labchain/appointments/shared/apperr"
)

// Cancellation reason codes (types.CancellationReason.Code).
const (
	reasonNone                   = "None"
	reasonConditionalCheckFailed = "ConditionalCheckFailed"
	reasonTransactionConflict    = "TransactionConflict"
)

// cancellationError maps a failed TransactWriteItems to the contract's codes.
// The reasons are per item, in request order; roles says what each item was.
// When several items failed, the most actionable code wins: the appointment
// or idempotency record changed (CONFLICT: re-read and retry) before a held
// cell (SLOT_UNAVAILABLE). Only transient reasons (TransactionConflict,
// throttling) give TEMPORARILY_UNAVAILABLE.
func cancellationError(err error, roles []txRole, create bool, what string) error {
	var tce *types.TransactionCanceledException
	if !errors.As(err, &tce) {
		var inProgress *types.TransactionInProgressException
		if errors.As(err, &inProgress) {
			return &apperr.Error{Code: apperr.Unavailable, Message: unavailableMessage, Err: err}
		}
		return apperr.Wrap(err, "dynamo: %s", what)
	}
	codes := reasonCodes(tce)
	if len(codes) != len(roles) {
		return apperr.Wrap(err, "dynamo: %s: %d cancellation reasons for %d items", what, len(codes), len(roles))
	}
	failed := map[txRole]bool{}
	conflict, other := false, false
	for i, c := range codes {
		switch c {
		case reasonNone, "":
		case reasonConditionalCheckFailed:
			failed[roles[i]] = true
		default:
			if transientReasons[c] {
				conflict = true
			} else {
				other = true
			}
		}
	}
	switch {
	case failed[roleAppointment] && create:
		return apperr.E(apperr.Conflict, "the appointment already exists")
	case failed[roleAppointment]:
		return apperr.E(apperr.Conflict, "the appointment was changed by another request; reload and retry")
	case failed[roleIdempotency]:
		return apperr.E(apperr.Conflict, "idempotency record changed")
	case failed[roleBranch]:
		return apperr.E(apperr.NotFound, branchMissing)
	case failed[roleCatalog]:
		return errCatalogChanged()
	case failed[roleTakeCell]:
		return apperr.E(apperr.SlotUnavailable, "the requested time is no longer available")
	case failed[roleVisitsCap]:
		return &apperr.Error{Code: apperr.LimitExceeded, Message: "the patient holds the most upcoming appointments allowed", Err: errVisitsFull}
	case failed[roleVisitsVersion]:
		return &apperr.Error{Code: apperr.Conflict, Message: "the patient's visits changed; retry", Err: errVisitsChanged}
	case failed[roleOutbox]:
		// Only an event id used twice gets here; a retry uses a new one.
		return apperr.E(apperr.Conflict, "the event id is already used; retry")
	case failed[roleReleaseCell], failed[roleHistory]:
		return apperr.E(apperr.Conflict, "the appointment was changed by another request; reload and retry")
	case conflict && !other:
		// Another transaction was running on an item (or capacity ran out):
		// nothing here failed a condition, so this is neither a taken slot nor
		// a stale read, and the caller must not be told so (409).
		return &apperr.Error{Code: apperr.Unavailable, Message: unavailableMessage, Err: err}
	}
	return apperr.Wrap(err, "dynamo: %s", what)
}

var reasonList = regexp.MustCompile(`\[([A-Za-z, ]*)\]\s*$`)

// reasonCodes returns the per-item cancellation codes. The SDK decodes
// CancellationReasons from the response; should a server send only the
// message ("Transaction cancelled, please refer cancellation reasons for
// specific reasons [None, ConditionalCheckFailed]"), the list is parsed from
// it.
func reasonCodes(e *types.TransactionCanceledException) []string {
	if len(e.CancellationReasons) > 0 {
		out := make([]string, len(e.CancellationReasons))
		for i, r := range e.CancellationReasons {
			out[i] = aws.ToString(r.Code)
		}
		return out
	}
	m := reasonList.FindStringSubmatch(e.ErrorMessage())
	if m == nil {
		return nil
	}
	parts := strings.Split(m[1], ",")
	for i := range parts {
		parts[i] = strings.TrimSpace(parts[i])
	}
	return parts
}
