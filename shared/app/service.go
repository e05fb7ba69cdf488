// Package app holds the booking use cases. It enforces who may do what (deny by
// default), drives the domain rules and persists through the Store port it
// declares. It knows nothing of HTTP or AWS.
package app

import (
	"math/rand/v2"
	"time"

	"github.com/labchain/appointments/shared/domain"
	"github.com/labchain/appointments/shared/ids"
)

// Service is the booking use case set.
type Service struct {
	store Store
	now   func() time.Time
	newID func(prefix string) string
	rnd   func() *rand.Rand
	// maxActive caps a patient's upcoming visits (0: no cap).
	maxActive int
	// catalogs caches branch catalogs for Availability and Book; hints
	// keep what Book last saw of each branch-day's cells.
	catalogs *catalogCache
	hints    *occupancyHints
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

// New builds the use cases over a store and a clock (nil: time.Now).
func New(store Store, now func() time.Time) *Service {
	if now == nil {
		now = time.Now
	}
	return &Service{
		store:    store,
		now:      now,
		newID:    ids.New,
		rnd:      func() *rand.Rand { return rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64())) },
		catalogs: &catalogCache{ttl: DefaultCatalogCacheTTL},
		hints:    &occupancyHints{},
	}
}

// WithIDs replaces the id generator (ids.New) with newID, which gets the
// prefix of the id it makes ("apt", "br", "res", "svc", ...), so that local
// seeding can create records under ids that fixtures name. It returns s for
// chaining.
func (s *Service) WithIDs(newID func(prefix string) string) *Service {
	s.newID = newID
	return s
}

// WithMaxActiveBookings caps how many upcoming (booked or checked-in, not yet
// started) visits a patient may hold when booking for themself; staff and
// admins are not capped. n ≤ 0 removes the cap. It returns s for chaining.
func (s *Service) WithMaxActiveBookings(n int) *Service {
	s.maxActive = n
	return s
}

// clock returns the current time at millisecond precision, in UTC.
func (s *Service) clock() time.Time { return s.now().UTC().Truncate(time.Millisecond) }
