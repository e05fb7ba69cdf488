package app

import (
	"context"

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
