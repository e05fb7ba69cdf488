// Package storetest is the contract of the stores behind the use cases'
// ports: one suite that every implementation passes (shared/dynamo on
// DynamoDB Local, shared/memstore in memory), so that use-case tests on the
// in-memory store mean what they would on DynamoDB.
//
// It checks what the use cases rely on and a broken store would get wrong:
// no cell is ever held twice (also under concurrent bookings), an update is
// conditional on the version it was decided on and is decided again after a
// concurrent change, a change is written whole or not at all with its
// history and events, and the idempotency records follow
// app.IdempotencyStore (Begin, Complete, Release, and the completion written
// in the business transaction), and the delivery log of patient messages
// (claim, lease, take-over, final states). storetest_test.go runs it against stores
// broken on purpose and expects each to fail.
package storetest

import (
	"context"
	"fmt"
	"sort"
	"testing"
	"time"

	"github.com/labchain/appointments/shared/app"
	"github.com/labchain/appointments/shared/apperr"
	"github.com/labchain/appointments/shared/domain"
	"github.com/labchain/appointments/shared/events"
)

// Store is what the suite needs of a store.
type Store interface {
	app.Store
	app.IntegrationStore
	app.IdempotencyStore
	app.PatientStore
	DeliveryStore
	// PendingOutbox returns the recorded, not yet published events created
	// before olderThan, oldest first.
	PendingOutbox(ctx context.Context, olderThan time.Time, limit int) ([]events.CloudEvent, error)
}

// T is the part of *testing.T the checks use, so that the suite's own test
// can run a check against a broken store and see it fail.
type T interface {
	Helper()
	Errorf(format string, args ...any)
	Fatalf(format string, args ...any)
}

// Check is one contract check on a fresh, empty store.
type Check func(t T, s Store)

// Checks are the contract, by name.
var Checks = map[string]Check{
	"NoDoubleBooking":           NoDoubleBooking,
	"ConcurrentBookingsOneWins": ConcurrentBookingsOneWins,
	"CancelReleasesCells":       CancelReleasesCells,
	"CatalogVersion":            CatalogVersion,
	"UpdateRetriesOnConflict":   UpdateRetriesOnConflict,
	"UpdateGivesUp":             UpdateGivesUp,
	"UpdateDecisionErrors":      UpdateDecisionErrors,
	"MultiStepChange":           MultiStepChange,
	"IdempotencyBegin":          IdempotencyBegin,
	"IdempotencyComplete":       IdempotencyComplete,
	"IdempotencyRelease":        IdempotencyRelease,
	"CompletionInTransaction":   CompletionInTransaction,
	"OccupancyRangeCoversDates": OccupancyRangeCoversDates,
	"PatientCap":                PatientCap,
	"PatientCapConcurrent":      PatientCapConcurrent,
	"OversizeEventRefused":      OversizeEventRefused,
	"DeliveryClaim":             DeliveryClaim,
	"DeliveryFinal":             DeliveryFinal,
	"PatientProfiles":           PatientProfiles,
}

// Run runs every check, each on a store newStore returns (fresh and empty).
func Run(t *testing.T, newStore func(t *testing.T) Store) {
	names := make([]string, 0, len(Checks))
	for n := range Checks {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		t.Run(n, func(t *testing.T) { Checks[n](t, newStore(t)) })
	}
}

// The fixtures: a branch in Bangkok and two resources.
var (
	bkk   = time.FixedZone("ICT", 7*3600)
	day   = "2026-12-01"
	nine  = time.Date(2026, 12, 1, 9, 0, 0, 0, bkk)
	then  = time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	staff = domain.ActorRef{ID: "u-staff", Role: domain.RoleStaff}
)

// appt returns version 1 of a booked appointment holding one 15-minute cell
// of each resource at start.
func appt(id string, start time.Time, resources ...string) domain.Appointment {
	a := domain.Appointment{
		ID: id, Status: domain.StatusBooked, BranchID: "br_1", ServiceID: "svc_1",
		Start: start, End: start.Add(15 * time.Minute), Resources: resources,
		Patient: domain.Patient{ID: "pat_" + id, Name: "Somchai Jaidee", Phone: "+66812345678"},
		Version: 1, CreatedAt: then, UpdatedAt: then,
	}
	for _, r := range resources {
		a.Cells = append(a.Cells, domain.Cell{ResourceID: r, Start: start.UTC(), Date: start.Format(time.DateOnly)})
	}
	return a
}

var evSeq int64

func evID() string {
	evSeq++
	return fmt.Sprintf("evt_%d_%d", time.Now().UnixNano(), evSeq)
}

func create(ctx context.Context, s Store, a domain.Appointment) error {
	h := domain.HistoryEntry{At: a.CreatedAt, To: a.Status, Actor: staff, Start: a.Start, End: a.End}
	return s.CreateAppointment(ctx, a, h, domain.AppointmentEvent(evID(), domain.EventAppointmentBooked, a.CreatedAt, a))
}

// step returns the change of cur to the next version by f, recorded by a
// history entry and an event of type typ.
func step(cur domain.Appointment, typ, reason string, f func(*domain.Appointment)) app.Change {
	next := cur
	f(&next)
	next.Version, next.UpdatedAt = cur.Version+1, cur.UpdatedAt.Add(time.Minute)
	h := domain.HistoryEntry{At: next.UpdatedAt, From: cur.Status, To: next.Status, Actor: staff, Reason: reason, Start: next.Start, End: next.End}
	return app.One(next, h, domain.AppointmentEvent(evID(), typ, next.UpdatedAt, next))
}

func must(t T, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("unexpected error: %v", err)
	}
}

func wantCode(t T, err error, code apperr.Code) {
	t.Helper()
	if got := apperr.CodeOf(err); got != code {
		t.Fatalf("error = %v (code %q), want code %s", err, got, code)
	}
}

func get(t T, s Store, id string) domain.Appointment {
	t.Helper()
	a, err := s.GetAppointment(context.Background(), id)
	must(t, err)
	return a
}

// eventTypes returns the types of the recorded events about subject, in
// order.
func eventTypes(t T, s Store, subject string) []string {
	t.Helper()
	all, err := s.PendingOutbox(context.Background(), time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC), 1000)
	must(t, err)
	var out []string
	for _, ce := range all {
		if ce.Subject == subject {
			out = append(out, ce.Type)
		}
	}
	return out
}
