package app

import (
	"context"
	"errors"

	"github.com/labchain/appointments/shared/apperr"
	"github.com/labchain/appointments/shared/domain"
)

// Step is one history entry of an integration change and the event it
// records: State is the appointment after the step (the event's data).
type Step struct {
	History domain.HistoryEntry
	Event   domain.Event
	State   domain.Appointment
}

// LabOrderLink is the lookup that finds the appointment of a lab order from
// an LIS event that carries only the lab order id.
type LabOrderLink struct {
	LabOrderID    string
	AppointmentID string
}

// IntegrationStore is the persistence the LIS and POS use cases need. The
// DynamoDB store implements it next to Store.
type IntegrationStore interface {
	// GetAppointment returns an appointment or NOT_FOUND.
	GetAppointment(ctx context.Context, id string) (domain.Appointment, error)
	// LabOrderAppointment returns the id of the appointment a lab order is
	// linked to, or NOT_FOUND when no event has linked it yet.
	LabOrderAppointment(ctx context.Context, labOrderID string) (string, error)
	// ApplyIntegrationChange replaces prev by next in one transaction,
	// conditional on prev.Version (CONFLICT otherwise), with one history
	// entry and one outbox event per step (step i has version
	// prev.Version+1+i, and next.Version must be prev.Version+len(steps)),
	// and a lookup item per link written only if absent (CONFLICT if the lab
	// order was linked meanwhile). Cells must not change (INTERNAL
	// otherwise): integrations never move or cancel a visit.
	ApplyIntegrationChange(ctx context.Context, prev, next domain.Appointment, steps []Step, links []LabOrderLink) error
}

// PermanentIntegrationError reports whether an error of ApplySampleStatus or
// ApplyOrder can never succeed on a retry: a malformed event, one that
// contradicts an earlier event (domain.ErrContradiction), a forbidden
// transition or an exceeded limit. Every other error is transient: NOT_FOUND
// (the appointment or the lab order link may not exist yet), CONFLICT (a
// concurrent change; domain.ErrNotPaidYet) and INTERNAL (an outage).
func PermanentIntegrationError(err error) bool {
	if err == nil {
		return false
	}
	if errors.Is(err, domain.ErrContradiction) {
		return true
	}
	switch apperr.CodeOf(err) {
	case apperr.Validation, apperr.InvalidTransition, apperr.LimitExceeded, apperr.Forbidden:
		return true
	}
	return false
}
