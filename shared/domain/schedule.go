package domain

import (
	"math/rand/v2"
	"time"
)

// MaxRangeDays is the longest availability query, in days (inclusive range).
const MaxRangeDays = 31

// MaxCellsPerBooking bounds cells × resources of one booking so that a
// reschedule (release old + take new + appointment + history + idempotency +
// outbox) fits in one 100-item DynamoDB transaction.
const MaxCellsPerBooking = 40

// DefaultMaxAdvanceDays applies when a service sets no booking horizon.
const DefaultMaxAdvanceDays = 60

// Plan is the outcome of planning a booking: the interval and the resources and
// cells it would hold.
type Plan struct {
	Start     time.Time
	End       time.Time
	Date      string // branch-local date of Start
	Resources []string
	Cells     []Cell
}

// LoadLocation loads an IANA zone; VALIDATION_FAILED if unknown.
func LoadLocation(tz string) (*time.Location, error) { panic("todo") }

// LocalDate returns t's date in loc as YYYY-MM-DD.
func LocalDate(t time.Time, loc *time.Location) string { panic("todo") }

// DatesInRange lists the dates from..to inclusive (YYYY-MM-DD); VALIDATION_FAILED
// if either is malformed, to is before from, or the range exceeds maxDays.
func DatesInRange(from, to string, maxDays int) ([]string, error) { panic("todo") }

// DayWindow returns the opening interval of date in loc according to weekly;
// ok is false when the weekday is absent (closed). Open and close are wall times
// of that date converted to instants, so the interval is correct across DST.
func DayWindow(loc *time.Location, weekly []DayHours, date string) (open, close time.Time, ok bool) {
	panic("todo")
}

// Availability lists, for each date, every grid start (open + k×slot) at which svc
// fits inside the branch's opening hours, off closures and inside the booking
// window relative to now, with Available = how many more bookings could start
// there (min over requirements of free resources of that type ÷ count, a
// resource being free when active, inside its own hours and all its cells over
// the duration are free in occ). Starts with Available 0 are omitted. Start and
// End are in the branch's zone.
func Availability(cat Catalog, svc Service, occ Occupancy, dates []string, now time.Time) ([]Slot, error) {
	panic("todo")
}

// PlanBooking checks that start is a bookable grid start for svc (else
// OUTSIDE_SCHEDULE: closed, closure, off the grid, past, before min notice or
// beyond max advance) and picks, for each requirement, Count free resources of
// its type (else SLOT_UNAVAILABLE). Cells held by appointment ignore count as
// free (used by reschedule). rnd shuffles the choice among free resources to
// reduce contention; nil picks in id order.
func PlanBooking(cat Catalog, svc Service, occ Occupancy, start, now time.Time, ignore string, rnd *rand.Rand) (Plan, error) {
	panic("todo")
}
