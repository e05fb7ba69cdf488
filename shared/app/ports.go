package app

import (
	"context"
	"errors"
	"time"

	"github.com/labchain/appointments/shared/domain"
	"github.com/labchain/appointments/shared/idempotency"
)

// Page is one page of a list: Cursor is opaque, "" when there is no next page.
type Page[T any] struct {
	Items  []T
	Cursor string
}

// Store is the persistence the booking use cases need. Implementations must make
// CreateAppointment and UpdateAppointment single atomic transactions in which
// every cell is taken conditionally, so that no cell is ever held twice, and
// in which the change's event is recorded in the outbox (transactional
// outbox): an event exists if and only if its change was committed, and its
// data is the appointment exactly as committed.
//
// Errors: NOT_FOUND for a missing object, SLOT_UNAVAILABLE when a cell to take is
// held by another appointment, CONFLICT when the previous version no longer
// matches, VALIDATION_FAILED for a malformed cursor, INTERNAL otherwise.
type Store interface {
	// PutBranch creates a branch (CONFLICT if the id exists).
	PutBranch(ctx context.Context, b domain.Branch) error
	// GetBranch returns a branch or NOT_FOUND.
	GetBranch(ctx context.Context, id string) (domain.Branch, error)
	// ListBranches returns all branches ordered by name.
	ListBranches(ctx context.Context) ([]domain.Branch, error)
	// Every catalog write (PutHours, PutResource, PutService) changes the
	// branch's catalog version (LoadCatalog) atomically with the write, and
	// is NOT_FOUND when the branch does not exist.
	//
	// PutHours replaces a branch's hours.
	PutHours(ctx context.Context, branchID string, h domain.Hours) error
	// GetHours returns a branch's hours (empty Hours if never set).
	GetHours(ctx context.Context, branchID string) (domain.Hours, error)
	// PutResource creates or replaces a resource.
	PutResource(ctx context.Context, r domain.Resource) error
	// GetResource returns a resource of a branch or NOT_FOUND.
	GetResource(ctx context.Context, branchID, id string) (domain.Resource, error)
	// ListResources returns a branch's resources ordered by id.
	ListResources(ctx context.Context, branchID string) ([]domain.Resource, error)
	// PutService creates or replaces a service.
	PutService(ctx context.Context, s domain.Service) error
	// ListServices returns a branch's services ordered by id.
	ListServices(ctx context.Context, branchID string) ([]domain.Service, error)
	// LoadCatalog returns branch, hours, resources and services in one request;
	// NOT_FOUND when the branch does not exist.
	LoadCatalog(ctx context.Context, branchID string) (domain.Catalog, error)
	// Occupancy returns the held cells of a branch on the given local dates, with
	// one request (page) per date.
	Occupancy(ctx context.Context, branchID string, dates []string) (domain.Occupancy, error)
	// OccupancyRange returns the held cells of a branch on the local dates from
	// to to (inclusive), with one request (page) for the whole range. It may
	// lag behind recent bookings (eventually consistent): for answers such as
	// availability, never for booking decisions.
	OccupancyRange(ctx context.Context, branchID, from, to string) (domain.Occupancy, error)

	// CreateAppointment writes the appointment, its first history entry, all its
	// cells and the outbox record of ev in one transaction. If ctx carries an
	// idempotency claim, its completion (status and the appointment's JSON) is
	// written in the same transaction. ev.Subject must be a.ID; the recorded
	// event's data is a (ev.Data is not used), with the traceparent of the span
	// in ctx.
	CreateAppointment(ctx context.Context, a domain.Appointment, h domain.HistoryEntry, ev domain.Event) error
	// CreateAppointmentGuarded is CreateAppointment with g's conditions
	// checked in the same transaction: LIMIT_EXCEEDED when g.MaxUpcoming > 0
	// and the patient already holds that many visits domain.Upcoming at g.Now;
	// CONFLICT carrying ErrCatalogChanged when g.CheckCatalog and the branch's
	// catalog version is no longer g.CatalogVersion.
	// Exact under concurrency: of simultaneous bookings of one patient, no
	// more commit than the cap allows.
	CreateAppointmentGuarded(ctx context.Context, a domain.Appointment, h domain.HistoryEntry, ev domain.Event, g Guard) error
	// UpdateAppointment is the one way to change an appointment: it reads it
	// (strongly consistent; NOT_FOUND if missing), calls update with it and
	// writes the Change update returns in one transaction conditional on the
	// version read: the new state, releasing cells it no longer holds and
	// taking new ones conditionally, each step's history entry and outbox
	// event, the links, and the completion of the idempotency claim in ctx if
	// any (body: the new state). When the write loses to a concurrent change
	// (CONFLICT, or SLOT_UNAVAILABLE for a cell taken meanwhile) it reads
	// again and calls update again, at most MaxUpdateAttempts times in all
	// (RetryConcurrent), then returns the last error. An error of update is
	// returned as it is, without a retry. It returns the appointment as
	// written (as read if the Change has no steps).
	UpdateAppointment(ctx context.Context, id string, update UpdateFunc) (domain.Appointment, error)
	// GetAppointment returns an appointment or NOT_FOUND.
	GetAppointment(ctx context.Context, id string) (domain.Appointment, error)
	// ListAppointmentsByBranchDay lists a branch's appointments starting on a local
	// date, ordered by start.
	ListAppointmentsByBranchDay(ctx context.Context, branchID, date string, limit int, cursor string) (Page[domain.Appointment], error)
	// ListAppointmentsByPatient lists a patient's appointments ordered by start.
	ListAppointmentsByPatient(ctx context.Context, patientID string, limit int, cursor string) (Page[domain.Appointment], error)
	// History returns an appointment's history, oldest first.
	History(ctx context.Context, appointmentID string) ([]domain.HistoryEntry, error)
}

// Guard is what a booking's transaction checks besides the cells it takes
// (CreateAppointmentGuarded).
//
// Every store keeps, for each patient, the set of their Active visits
// (booked or checked in) with their starts, updated in the transaction of
// every booking and every change of status, start or patient, whatever the
// Guard: the cap counts the members of that set that start after Now, so a
// visit stops counting when its start passes without any write.
type Guard struct {
	// MaxUpcoming > 0 caps the patient's upcoming visits, this one included.
	MaxUpcoming int
	// Now is the instant at which visits are counted as upcoming.
	Now time.Time
	// CheckCatalog requires the branch's catalog to be still at
	// CatalogVersion (domain.Catalog.Version), else the booking fails with
	// CONFLICT carrying ErrCatalogChanged: planned on a cached catalog, it
	// must not commit against changed hours or a deactivated resource.
	CheckCatalog   bool
	CatalogVersion int64
}

// ErrCatalogChanged is the cause of the CONFLICT of a guarded booking whose
// branch catalog is no longer at Guard.CatalogVersion (errors.Is).
var ErrCatalogChanged = errors.New("the branch's catalog changed")

// IdempotencyStore keeps idempotency records (Powertools semantics).
//
// Begin stores an INPROGRESS record for key unless one exists that is COMPLETED
// and unexpired, or INPROGRESS with InProgressUntil after now; in that case it
// returns that record (and no error) so the caller can replay it or refuse.
// Complete stores the outcome of a claim that the business transaction did not
// complete itself. Release deletes the claim's own INPROGRESS record (not a
// later claim's that took the key over) so a retry can run.
type IdempotencyStore interface {
	Begin(ctx context.Context, rec idempotency.Record, now time.Time) (existing *idempotency.Record, err error)
	Complete(ctx context.Context, c *idempotency.Claim, statusCode int, body []byte) error
	Release(ctx context.Context, c *idempotency.Claim) error
}
