package storetest_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/labchain/appointments/shared/app"
	"github.com/labchain/appointments/shared/domain"
	"github.com/labchain/appointments/shared/idempotency"
	"github.com/labchain/appointments/shared/memstore"
	"github.com/labchain/appointments/shared/notice"
	"github.com/labchain/appointments/shared/storetest"
	"time"
)

// recorder is a storetest.T that records failures instead of failing the
// test; Fatalf stops the check as testing.T's does (by unwinding).
type recorder struct{ failed []string }

type stop struct{}

func (r *recorder) Helper() {}
func (r *recorder) Errorf(format string, args ...any) {
	r.failed = append(r.failed, fmt.Sprintf(format, args...))
}
func (r *recorder) Fatalf(format string, args ...any) {
	r.Errorf(format, args...)
	panic(stop{})
}

// run runs one check on s and returns its failures.
func run(check storetest.Check, s storetest.Store) (failed []string) {
	r := &recorder{}
	defer func() {
		if p := recover(); p != nil {
			if _, ok := p.(stop); !ok {
				panic(p)
			}
		}
		failed = r.failed
	}()
	check(r, s)
	return r.failed
}

// lostUpdate decides once and writes its decision over whatever is stored
// (last writer wins): no version check, no retry.
type lostUpdate struct{ *memstore.Store }

func (s lostUpdate) UpdateAppointment(ctx context.Context, id string, update app.UpdateFunc) (domain.Appointment, error) {
	cur, err := s.GetAppointment(ctx, id)
	if err != nil {
		return domain.Appointment{}, err
	}
	c, err := update(cur)
	if err != nil || len(c.Steps) == 0 {
		return cur, err
	}
	return s.Store.UpdateAppointment(ctx, id, func(now domain.Appointment) (app.Change, error) {
		for i := range c.Steps { // renumber the stale decision onto the stored version
			c.Steps[i].State.Version = now.Version + 1 + i
		}
		return c, nil
	})
}

// lostPatientUpdate decides once and writes over whatever is stored.
type lostPatientUpdate struct{ *memstore.Store }

func (s lostPatientUpdate) UpdatePatient(ctx context.Context, id string, update app.PatientUpdateFunc) (domain.PatientProfile, error) {
	var cur *domain.PatientProfile
	if p, err := s.GetPatient(ctx, id); err == nil {
		cur = &p
	}
	next, write, err := update(cur)
	if err != nil || !write {
		return next, err
	}
	return s.Store.UpdatePatient(ctx, id, func(*domain.PatientProfile) (domain.PatientProfile, bool, error) { return next, true, nil })
}

// noCells books without holding cells (a store that forgets the
// conditional cell items).
type noCells struct{ *memstore.Store }

func (s noCells) CreateAppointment(ctx context.Context, a domain.Appointment, h domain.HistoryEntry, ev domain.Event) error {
	a.Cells = nil
	return s.Store.CreateAppointment(ctx, a, h, ev)
}

// noCap ignores the cap and counts nothing.
type noCap struct{ *memstore.Store }

func (s noCap) CreateAppointmentGuarded(ctx context.Context, a domain.Appointment, h domain.HistoryEntry, ev domain.Event, _ app.Guard) error {
	return s.Store.CreateAppointment(ctx, a, h, ev)
}

// grantAll is the kind of idempotency fake that disagrees with the
// contract: every Begin claims the key.
type grantAll struct{ *memstore.Store }

func (s grantAll) Begin(ctx context.Context, rec idempotency.Record, now time.Time) (*idempotency.Record, error) {
	_ = s.Store.Release(ctx, &idempotency.Claim{Key: rec.Key, InProgressUntil: rec.InProgressUntil})
	return nil, nil
}

// releaseAny deletes any in-progress record of the key, not only the
// claim's own.
type releaseAny struct{ *memstore.Store }

func (s releaseAny) Release(ctx context.Context, c *idempotency.Claim) error {
	old, err := s.Store.Begin(ctx, idempotency.Record{Key: c.Key, Status: idempotency.StatusInProgress}, time.Unix(0, 0))
	if err == nil && old != nil && old.Status == idempotency.StatusInProgress {
		c2 := *c
		c2.InProgressUntil = old.InProgressUntil
		return s.Store.Release(ctx, &c2)
	}
	return err
}

// leaseIgnored grants every claim, as a fake that forgets the lease and the
// final states would: it claims as if every lease had run out, and reports a
// refused claim (a final record) as granted.
type leaseIgnored struct{ *memstore.Store }

func (s leaseIgnored) ClaimDelivery(ctx context.Context, d notice.Delivery, _ time.Time) (bool, notice.Delivery, error) {
	ok, got, err := s.Store.ClaimDelivery(ctx, d, time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC))
	if err != nil || ok {
		return ok, got, err
	}
	return true, d, nil
}

// finishAny finishes a delivery whether or not it is in flight.
type finishAny struct{ *memstore.Store }

func (s finishAny) FinishDelivery(ctx context.Context, d notice.Delivery) error {
	_ = s.Store.FinishDelivery(ctx, d) // a CONFLICT is swallowed: "stored"
	return nil
}

// TestChecksFailOnBrokenStores: each store broken on purpose fails the
// checks of what it breaks, and memstore itself passes them (the positive
// control), so the contract can tell a broken store from a good one.
func TestChecksFailOnBrokenStores(t *testing.T) {
	cases := []struct {
		name   string
		broken func() storetest.Store
		checks []string
	}{
		{"lost update", func() storetest.Store { return lostUpdate{memstore.New()} }, []string{"UpdateRetriesOnConflict", "UpdateGivesUp"}},
		{"lost patient update", func() storetest.Store { return lostPatientUpdate{memstore.New()} }, []string{"PatientProfiles"}},
		{"no cells", func() storetest.Store { return noCells{memstore.New()} }, []string{"NoDoubleBooking", "ConcurrentBookingsOneWins", "OccupancyRangeCoversDates"}},
		{"no cap", func() storetest.Store { return noCap{memstore.New()} }, []string{"PatientCap", "PatientCapConcurrent"}},
		{"Begin grants all", func() storetest.Store { return grantAll{memstore.New()} }, []string{"IdempotencyBegin", "IdempotencyComplete"}},
		{"Release any", func() storetest.Store { return releaseAny{memstore.New()} }, []string{"IdempotencyRelease"}},
		{"delivery lease ignored", func() storetest.Store { return leaseIgnored{memstore.New()} }, []string{"DeliveryClaim", "DeliveryFinal"}},
		{"delivery finished twice", func() storetest.Store { return finishAny{memstore.New()} }, []string{"DeliveryFinal"}},
	}
	for _, c := range cases {
		for _, name := range c.checks {
			check := storetest.Checks[name]
			if check == nil {
				t.Fatalf("no check %s", name)
			}
			if failed := run(check, memstore.New()); len(failed) > 0 {
				t.Errorf("%s fails on memstore: %v", name, failed)
			}
			if failed := run(check, c.broken()); len(failed) == 0 {
				t.Errorf("%s passes on a store with %s", name, c.name)
			}
		}
	}
}
