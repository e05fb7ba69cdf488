// Package app holds the booking use cases. It enforces who may do what (deny by
// default), drives the domain rules and persists through the Store port it
// declares. It knows nothing of HTTP or AWS.
package app

import (
	"context"
	"math/rand/v2"
	"time"

	"github.com/labchain/appointments/shared/domain"
)

// Service is the booking use case set.
type Service struct {
	store Store
	now   func() time.Time
	newID func(prefix string) string
	rnd   func() *rand.Rand
}

// ResourcePatch changes a resource; nil fields are left alone.
type ResourcePatch struct {
	Name   *string            `json:"name"`
	Active *bool              `json:"active"`
	Hours  *[]domain.DayHours `json:"hours"`
}

// AvailabilityQuery asks for free starts of a service at a branch between two
// local dates (inclusive).
type AvailabilityQuery struct {
	BranchID  string
	ServiceID string
	From      string
	To        string
}

// BookInput is a booking request. For patients, Patient.ID is overridden with
// the caller's patient id.
type BookInput struct {
	BranchID  string
	ServiceID string
	Start     time.Time
	Patient   domain.Patient
	Notes     string
}

// ListQuery selects appointments either by BranchID+Date or by PatientID.
type ListQuery struct {
	BranchID  string
	Date      string
	PatientID string
	Limit     int // 1..100, default 50
	Cursor    string
}

// New builds the use cases over a store and a clock.
func New(store Store, now func() time.Time) *Service { panic("todo") }

// CreateBranch creates a branch (admin). VALIDATION_FAILED, FORBIDDEN.
func (s *Service) CreateBranch(ctx context.Context, actor domain.Actor, in domain.Branch) (domain.Branch, error) {
	panic("todo")
}

// ListBranches lists branches (any authenticated caller).
func (s *Service) ListBranches(ctx context.Context, actor domain.Actor) ([]domain.Branch, error) {
	panic("todo")
}

// GetBranch returns a branch (any authenticated caller). NOT_FOUND.
func (s *Service) GetBranch(ctx context.Context, actor domain.Actor, id string) (domain.Branch, error) {
	panic("todo")
}

// PutHours replaces a branch's opening hours (admin). NOT_FOUND, VALIDATION_FAILED, FORBIDDEN.
func (s *Service) PutHours(ctx context.Context, actor domain.Actor, branchID string, h domain.Hours) (domain.Hours, error) {
	panic("todo")
}

// GetHours returns a branch's opening hours (any authenticated caller). NOT_FOUND.
func (s *Service) GetHours(ctx context.Context, actor domain.Actor, branchID string) (domain.Hours, error) {
	panic("todo")
}

// CreateResource adds a resource to a branch (admin). NOT_FOUND, VALIDATION_FAILED, FORBIDDEN.
func (s *Service) CreateResource(ctx context.Context, actor domain.Actor, branchID string, in domain.Resource) (domain.Resource, error) {
	panic("todo")
}

// UpdateResource renames, (de)activates or re-hours a resource (admin, staff of
// the branch). NOT_FOUND, VALIDATION_FAILED, FORBIDDEN.
func (s *Service) UpdateResource(ctx context.Context, actor domain.Actor, branchID, resourceID string, p ResourcePatch) (domain.Resource, error) {
	panic("todo")
}

// ListResources lists a branch's resources (any authenticated caller). NOT_FOUND.
func (s *Service) ListResources(ctx context.Context, actor domain.Actor, branchID string) ([]domain.Resource, error) {
	panic("todo")
}

// CreateService adds a bookable service to a branch (admin). NOT_FOUND, VALIDATION_FAILED, FORBIDDEN.
func (s *Service) CreateService(ctx context.Context, actor domain.Actor, branchID string, in domain.Service) (domain.Service, error) {
	panic("todo")
}

// ListServices lists a branch's services (any authenticated caller). NOT_FOUND.
func (s *Service) ListServices(ctx context.Context, actor domain.Actor, branchID string) ([]domain.Service, error) {
	panic("todo")
}

// Availability lists bookable starts (any authenticated caller) with one catalog
// read and one occupancy read per day. VALIDATION_FAILED, NOT_FOUND.
func (s *Service) Availability(ctx context.Context, actor domain.Actor, q AvailabilityQuery) ([]domain.Slot, error) {
	panic("todo")
}

// Book books a visit (patient for itself, staff of the branch, admin).
// VALIDATION_FAILED, NOT_FOUND, OUTSIDE_SCHEDULE, SLOT_UNAVAILABLE, FORBIDDEN.
func (s *Service) Book(ctx context.Context, actor domain.Actor, in BookInput) (domain.Appointment, error) {
	panic("todo")
}

// GetAppointment returns a visit the caller may see (else NOT_FOUND).
func (s *Service) GetAppointment(ctx context.Context, actor domain.Actor, id string) (domain.Appointment, error) {
	panic("todo")
}

// ListAppointments lists by branch+date (staff of the branch, admin) or by
// patient (that patient, admin). VALIDATION_FAILED, FORBIDDEN.
func (s *Service) ListAppointments(ctx context.Context, actor domain.Actor, q ListQuery) (Page[domain.Appointment], error) {
	panic("todo")
}

// Reschedule moves a booked visit atomically. NOT_FOUND, CANCEL_CUTOFF,
// OUTSIDE_SCHEDULE, SLOT_UNAVAILABLE, INVALID_TRANSITION.
func (s *Service) Reschedule(ctx context.Context, actor domain.Actor, id string, start time.Time) (domain.Appointment, error) {
	panic("todo")
}

// Cancel cancels a booked visit and frees its capacity. NOT_FOUND,
// CANCEL_CUTOFF, INVALID_TRANSITION.
func (s *Service) Cancel(ctx context.Context, actor domain.Actor, id, reason string) (domain.Appointment, error) {
	panic("todo")
}

// Transition moves a visit to checked_in, completed or no_show (staff of the
// branch, admin). NOT_FOUND, FORBIDDEN, INVALID_TRANSITION.
func (s *Service) Transition(ctx context.Context, actor domain.Actor, id string, to domain.Status, reason string) (domain.Appointment, error) {
	panic("todo")
}

// History returns every change of a visit the caller may see. NOT_FOUND.
func (s *Service) History(ctx context.Context, actor domain.Actor, id string) ([]domain.HistoryEntry, error) {
	panic("todo")
}
