package app

import (
	"context"
	"errors"

	"github.com/labchain/appointments/shared/apperr"
	"github.com/labchain/appointments/shared/domain"
)

// IntegrationStore is the persistence the LIS and POS use cases need. The
// DynamoDB store implements it next to Store.
type IntegrationStore interface {
	// GetAppointment returns an appointment or NOT_FOUND.
	GetAppointment(ctx context.Context, id string) (domain.Appointment, error)
	// LabOrderAppointment returns the id of the appointment a lab order is
	// linked to, or NOT_FOUND when no event has linked it yet.
	LabOrderAppointment(ctx context.Context, labOrderID string) (string, error)
	// UpdateAppointment is Store.UpdateAppointment: the integrations change
	// an appointment through the same path as every other change.
	UpdateAppointment(ctx context.Context, id string, update UpdateFunc) (domain.Appointment, error)
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
