package storetest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/labchain/appointments/shared/app"
	"github.com/labchain/appointments/shared/apperr"
	"github.com/labchain/appointments/shared/domain"
	"github.com/labchain/appointments/shared/events"
	"github.com/labchain/appointments/shared/idempotency"
)

// NoDoubleBooking: a cell held by one appointment cannot be taken by
// another, neither by a booking nor by an update; the refused change writes
// nothing.
func NoDoubleBooking(t T, s Store) {
	ctx := context.Background()
	must(t, create(ctx, s, appt("apt_1", nine, "res_a")))
	wantCode(t, create(ctx, s, appt("apt_2", nine, "res_a", "res_b")), apperr.SlotUnavailable)
	if _, err := s.GetAppointment(ctx, "apt_2"); apperr.CodeOf(err) != apperr.NotFound {
		t.Fatalf("a refused booking was written: %v", err)
	}
	occ, err := s.Occupancy(ctx, "br_1", []string{day})
	must(t, err)
	if len(occ) != 1 || occ[domain.CellKey{ResourceID: "res_a", Start: nine.Unix()}] != "apt_1" {
		t.Fatalf("occupancy %v, want res_a held by apt_1 only", occ)
	}
	// The same id twice is a conflict, not a second booking.
	wantCode(t, create(ctx, s, appt("apt_1", nine.Add(time.Hour), "res_b")), apperr.Conflict)

	// An update that moves onto a held cell is refused (and decided again
	// first: SLOT_UNAVAILABLE is retried, so the closure runs more than once).
	must(t, create(ctx, s, appt("apt_3", nine.Add(time.Hour), "res_a")))
	calls := 0
	_, err = s.UpdateAppointment(ctx, "apt_3", func(cur domain.Appointment) (app.Change, error) {
		calls++
		moved := appt(cur.ID, nine, "res_a")
		return step(cur, domain.EventAppointmentRescheduled, "rescheduled", func(n *domain.Appointment) {
			n.Start, n.End, n.Cells = moved.Start, moved.End, moved.Cells
		}), nil
	})
	wantCode(t, err, apperr.SlotUnavailable)
	if calls < 2 {
		t.Errorf("the closure ran %d times; a cell taken meanwhile is a concurrent change, decided again", calls)
	}
	if a := get(t, s, "apt_3"); a.Version != 1 || !a.Start.Equal(nine.Add(time.Hour)) {
		t.Fatalf("a refused move was written: %+v", a)
	}
	if got := eventTypes(t, s, "apt_3"); !slices.Equal(got, []string{domain.EventAppointmentBooked}) {
		t.Fatalf("events of apt_3 %v, want the booking's only", got)
	}
}

// ConcurrentBookingsOneWins: of several bookings of the same cell at once,
// exactly one is written.
func ConcurrentBookingsOneWins(t T, s Store) {
	ctx := context.Background()
	const n = 8
	errs := make([]error, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			errs[i] = create(ctx, s, appt("apt_c"+string(rune('a'+i)), nine, "res_a"))
		}()
	}
	close(start)
	wg.Wait()
	won := 0
	for _, err := range errs {
		switch {
		case err == nil:
			won++
		case apperr.CodeOf(err) != apperr.SlotUnavailable && apperr.CodeOf(err) != apperr.Conflict:
			t.Errorf("unexpected error %v", err)
		}
	}
	occ, err := s.Occupancy(ctx, "br_1", []string{day})
	must(t, err)
	if won != 1 || len(occ) != 1 {
		t.Fatalf("%d bookings of one cell won, occupancy %v; want exactly one", won, occ)
	}
}

// CancelReleasesCells: a change to a status that does not hold cells frees
// them in the same write; a change that keeps them leaves them held.
func CancelReleasesCells(t T, s Store) {
	ctx := context.Background()
	must(t, create(ctx, s, appt("apt_1", nine, "res_a", "res_b")))
	_, err := s.UpdateAppointment(ctx, "apt_1", func(cur domain.Appointment) (app.Change, error) {
		return step(cur, domain.EventAppointmentBillingChanged, "", func(*domain.Appointment) {}), nil
	})
	must(t, err)
	occ, err := s.Occupancy(ctx, "br_1", []string{day})
	must(t, err)
	if len(occ) != 2 {
		t.Fatalf("occupancy %v after a change that keeps the cells", occ)
	}
	got, err := s.UpdateAppointment(ctx, "apt_1", func(cur domain.Appointment) (app.Change, error) {
		next, err := domain.ChangeStatus(cur, domain.StatusCancelled, cur.UpdatedAt.Add(time.Minute))
		if err != nil {
			return app.Change{}, err
		}
		h := domain.HistoryEntry{At: next.UpdatedAt, From: cur.Status, To: next.Status, Actor: staff, Start: cur.Start, End: cur.End}
		return app.One(next, h, domain.AppointmentEvent(evID(), domain.EventAppointmentCancelled, next.UpdatedAt, next)), nil
	})
	must(t, err)
	if got.Status != domain.StatusCancelled || got.Version != 3 {
		t.Fatalf("returned %s v%d, want cancelled v3", got.Status, got.Version)
	}
	occ, err = s.Occupancy(ctx, "br_1", []string{day})
	must(t, err)
	if len(occ) != 0 {
		t.Fatalf("occupancy %v after the cancellation, want none", occ)
	}
	must(t, create(ctx, s, appt("apt_2", nine, "res_a", "res_b")))
	hs, err := s.History(ctx, "apt_1")
	must(t, err)
	if len(hs) != 3 || hs[2].To != domain.StatusCancelled {
		t.Fatalf("history %+v", hs)
	}
	want := []string{domain.EventAppointmentBooked, domain.EventAppointmentBillingChanged, domain.EventAppointmentCancelled}
	if got := eventTypes(t, s, "apt_1"); !slices.Equal(got, want) {
		t.Fatalf("events %v, want %v", got, want)
	}
}

// UpdateRetriesOnConflict: a change committed between the update's read
// and its write makes the write fail on the version; the store reads again
// and calls the closure again, so neither change is lost.
func UpdateRetriesOnConflict(t T, s Store) {
	ctx := context.Background()
	must(t, create(ctx, s, appt("apt_1", nine, "res_a")))
	var seen []int
	got, err := s.UpdateAppointment(ctx, "apt_1", func(cur domain.Appointment) (app.Change, error) {
		seen = append(seen, cur.Version)
		if len(seen) == 1 { // a concurrent change wins meanwhile
			_, err := s.UpdateAppointment(ctx, "apt_1", func(c domain.Appointment) (app.Change, error) {
				return step(c, domain.EventAppointmentBillingChanged, "concurrent", func(n *domain.Appointment) { n.Notes = "concurrent" }), nil
			})
			must(t, err)
		}
		return step(cur, domain.EventAppointmentBillingChanged, "mine", func(n *domain.Appointment) {
			n.Patient.Phone = "+66810000099"
		}), nil
	})
	must(t, err)
	if !slices.Equal(seen, []int{1, 2}) {
		t.Fatalf("the closure saw versions %v, want [1 2]", seen)
	}
	a := get(t, s, "apt_1")
	if a.Version != 3 || a.Notes != "concurrent" || a.Patient.Phone != "+66810000099" || got.Version != 3 {
		t.Fatalf("stored v%d notes %q phone %q (returned v%d): a change was lost", a.Version, a.Notes, a.Patient.Phone, got.Version)
	}
	hs, err := s.History(ctx, "apt_1")
	must(t, err)
	if len(hs) != 3 || hs[1].Reason != "concurrent" || hs[2].Reason != "mine" {
		t.Fatalf("history %+v", hs)
	}
	if got := eventTypes(t, s, "apt_1"); len(got) != 3 {
		t.Fatalf("events %v, want 3 (the lost attempt's event is not recorded)", got)
	}
}

// UpdateGivesUp: when concurrent changes keep winning, the update stops
// after app.MaxUpdateAttempts with CONFLICT and writes nothing of its own.
func UpdateGivesUp(t T, s Store) {
	ctx := context.Background()
	must(t, create(ctx, s, appt("apt_1", nine, "res_a")))
	calls := 0
	_, err := s.UpdateAppointment(ctx, "apt_1", func(cur domain.Appointment) (app.Change, error) {
		calls++
		_, err := s.UpdateAppointment(ctx, "apt_1", func(c domain.Appointment) (app.Change, error) {
			return step(c, domain.EventAppointmentBillingChanged, "concurrent", func(*domain.Appointment) {}), nil
		})
		must(t, err)
		return step(cur, domain.EventAppointmentBillingChanged, "mine", func(*domain.Appointment) {}), nil
	})
	wantCode(t, err, apperr.Conflict)
	if calls != app.MaxUpdateAttempts {
		t.Fatalf("%d attempts, want %d", calls, app.MaxUpdateAttempts)
	}
	hs, err := s.History(ctx, "apt_1")
	must(t, err)
	for _, h := range hs {
		if h.Reason == "mine" {
			t.Fatalf("a lost attempt was written: %+v", hs)
		}
	}
	if a := get(t, s, "apt_1"); a.Version != 1+app.MaxUpdateAttempts {
		t.Fatalf("version %d, want %d", a.Version, 1+app.MaxUpdateAttempts)
	}
}

// UpdateDecisionErrors: the closure's error comes back as it is, without a
// retry and without a write; an empty change writes nothing; a missing
// appointment is NOT_FOUND; a step that is not the next version is refused.
func UpdateDecisionErrors(t T, s Store) {
	ctx := context.Background()
	must(t, create(ctx, s, appt("apt_1", nine, "res_a")))
	refused := apperr.E(apperr.Conflict, "refund before payment")
	refused.Err = domain.ErrNotPaidYet
	calls := 0
	_, err := s.UpdateAppointment(ctx, "apt_1", func(domain.Appointment) (app.Change, error) {
		calls++
		return app.Change{}, refused
	})
	if !errors.Is(err, domain.ErrNotPaidYet) || calls != 1 {
		t.Fatalf("error %v after %d calls, want the closure's own after 1", err, calls)
	}
	got, err := s.UpdateAppointment(ctx, "apt_1", func(domain.Appointment) (app.Change, error) { return app.Change{}, nil })
	must(t, err)
	if got.Version != 1 || got.ID != "apt_1" {
		t.Fatalf("an empty change returned %+v, want the appointment as read", got)
	}
	_, err = s.UpdateAppointment(ctx, "apt_missing", func(domain.Appointment) (app.Change, error) {
		t.Fatalf("the closure ran for a missing appointment")
		return app.Change{}, nil
	})
	wantCode(t, err, apperr.NotFound)
	_, err = s.UpdateAppointment(ctx, "apt_1", func(cur domain.Appointment) (app.Change, error) {
		c := step(cur, domain.EventAppointmentBillingChanged, "", func(*domain.Appointment) {})
		c.Steps[0].State.Version++ // skips a version
		return c, nil
	})
	wantCode(t, err, apperr.Internal)
	if a := get(t, s, "apt_1"); a.Version != 1 {
		t.Fatalf("version %d after refused changes, want 1", a.Version)
	}
}

// MultiStepChange: one decision that makes several versions writes them
// together with a history entry per step, an event per step that has one,
// and the lab order link; an existing link refuses the whole change.
func MultiStepChange(t T, s Store) {
	ctx := context.Background()
	must(t, create(ctx, s, appt("apt_1", nine, "res_a")))
	_, err := s.UpdateAppointment(ctx, "apt_1", func(cur domain.Appointment) (app.Change, error) {
		c := step(cur, domain.EventAppointmentSampleStatusChanged, "LIS", func(n *domain.Appointment) {
			n.LabOrders = []domain.LabOrder{{ID: "LO-1", AppointmentID: cur.ID}}
		})
		second := step(c.Steps[0].State, "", "no event", func(n *domain.Appointment) { n.Status = domain.StatusCheckedIn })
		second.Steps[0].Event = domain.Event{}
		c.Steps = append(c.Steps, second.Steps...)
		c.Links = []app.LabOrderLink{{LabOrderID: "LO-1", AppointmentID: cur.ID}}
		return c, nil
	})
	must(t, err)
	a := get(t, s, "apt_1")
	if a.Version != 3 || a.Status != domain.StatusCheckedIn || len(a.LabOrders) != 1 {
		t.Fatalf("stored %+v", a)
	}
	if id, err := s.LabOrderAppointment(ctx, "LO-1"); err != nil || id != "apt_1" {
		t.Fatalf("link %q, %v", id, err)
	}
	if got := eventTypes(t, s, "apt_1"); !slices.Equal(got, []string{domain.EventAppointmentBooked, domain.EventAppointmentSampleStatusChanged}) {
		t.Fatalf("events %v", got)
	}
	if hs, _ := s.History(ctx, "apt_1"); len(hs) != 3 {
		t.Fatalf("history %+v, want 3 entries", hs)
	}
	// The link exists: a change that links LO-1 again is refused whole
	// (CONFLICT after the retries: it is decided the same way each time).
	must(t, create(ctx, s, appt("apt_2", nine, "res_b")))
	_, err = s.UpdateAppointment(ctx, "apt_2", func(cur domain.Appointment) (app.Change, error) {
		c := step(cur, domain.EventAppointmentSampleStatusChanged, "LIS", func(n *domain.Appointment) {
			n.LabOrders = []domain.LabOrder{{ID: "LO-1", AppointmentID: cur.ID}}
		})
		c.Links = []app.LabOrderLink{{LabOrderID: "LO-1", AppointmentID: cur.ID}}
		return c, nil
	})
	wantCode(t, err, apperr.Conflict)
	if b := get(t, s, "apt_2"); b.Version != 1 || len(b.LabOrders) != 0 {
		t.Fatalf("a refused change was written: %+v", b)
	}
	if id, _ := s.LabOrderAppointment(ctx, "LO-1"); id != "apt_1" {
		t.Fatalf("link moved to %q", id)
	}
}

var idemNow = time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)

func record(key, hash string, inProgressFor time.Duration) idempotency.Record {
	return idempotency.Record{
		Key: key, Hash: hash, Status: idempotency.StatusInProgress,
		InProgressUntil: idemNow.Add(inProgressFor), ExpiresAt: idemNow.Add(time.Hour),
	}
}

func claimOf(r idempotency.Record) *idempotency.Claim {
	return &idempotency.Claim{Key: r.Key, Hash: r.Hash, SuccessStatus: 201, InProgressUntil: r.InProgressUntil, ExpiresAt: r.ExpiresAt,
		Render: func(a domain.Appointment) ([]byte, error) { return []byte(`{"id":"` + a.ID + `"}`), nil }}
}

// IdempotencyBegin: Begin claims a free key; while the claim is in
// progress a second Begin gets the record back (and claims nothing); once
// InProgressUntil has passed the key can be claimed again.
func IdempotencyBegin(t T, s Store) {
	ctx := context.Background()
	first := record("k1", "h1", 30*time.Second)
	old, err := s.Begin(ctx, first, idemNow)
	must(t, err)
	if old != nil {
		t.Fatalf("a free key returned %+v", old)
	}
	old, err = s.Begin(ctx, record("k1", "h2", time.Minute), idemNow.Add(10*time.Second))
	must(t, err)
	if old == nil || old.Status != idempotency.StatusInProgress || old.Hash != "h1" {
		t.Fatalf("an in-progress key returned %+v, want the first claim's record", old)
	}
	// The first claim lapses: a retry takes the key over.
	old, err = s.Begin(ctx, record("k1", "h3", time.Minute), idemNow.Add(31*time.Second))
	must(t, err)
	if old != nil {
		t.Fatalf("a lapsed claim still refused: %+v", old)
	}
	// The lapsed claim can no longer complete.
	wantCode(t, s.Complete(ctx, claimOf(first), 200, []byte(`{}`)), apperr.Conflict)
}

// IdempotencyComplete: a completed record is returned, with its status and
// body, until it expires; then the key is free again.
func IdempotencyComplete(t T, s Store) {
	ctx := context.Background()
	r := record("k1", "h1", 30*time.Second)
	_, err := s.Begin(ctx, r, idemNow)
	must(t, err)
	c := claimOf(r)
	must(t, s.Complete(ctx, c, 201, []byte(`{"id":"apt_1"}`)))
	if !c.Completed {
		t.Fatalf("Complete did not set claim.Completed")
	}
	old, err := s.Begin(ctx, record("k1", "h1", 30*time.Second), idemNow.Add(time.Minute))
	must(t, err)
	if old == nil || old.Status != idempotency.StatusCompleted || old.StatusCode != 201 || string(old.Body) != `{"id":"apt_1"}` {
		t.Fatalf("completed record %+v", old)
	}
	// Completing twice is refused (the record is no longer in progress).
	wantCode(t, s.Complete(ctx, claimOf(r), 201, nil), apperr.Conflict)
	// Expired: free again.
	old, err = s.Begin(ctx, record("k1", "h9", 30*time.Second), idemNow.Add(2*time.Hour))
	must(t, err)
	if old != nil {
		t.Fatalf("an expired record still refused: %+v", old)
	}
}

// IdempotencyRelease: Release deletes the claim's own in-progress record so
// that a retry runs at once; it leaves a later claim's record and a
// completed one alone.
func IdempotencyRelease(t T, s Store) {
	ctx := context.Background()
	r := record("k1", "h1", 30*time.Second)
	_, err := s.Begin(ctx, r, idemNow)
	must(t, err)
	must(t, s.Release(ctx, claimOf(r)))
	// The retry's claim lasts until another instant (the claim's identity).
	old, err := s.Begin(ctx, record("k1", "h2", 31*time.Second), idemNow.Add(time.Second))
	must(t, err)
	if old != nil {
		t.Fatalf("a released key still refused: %+v", old)
	}
	// r's claim is gone; releasing it again must not delete h2's claim.
	must(t, s.Release(ctx, claimOf(r)))
	old, err = s.Begin(ctx, record("k1", "h3", 30*time.Second), idemNow.Add(2*time.Second))
	must(t, err)
	if old == nil || old.Hash != "h2" {
		t.Fatalf("a stale Release removed a later claim: %+v", old)
	}
	// A completed record stays.
	r2 := record("k2", "h1", 30*time.Second)
	_, err = s.Begin(ctx, r2, idemNow)
	must(t, err)
	must(t, s.Complete(ctx, claimOf(r2), 204, nil))
	must(t, s.Release(ctx, claimOf(r2)))
	old, err = s.Begin(ctx, record("k2", "h1", 30*time.Second), idemNow.Add(time.Second))
	must(t, err)
	if old == nil || old.Status != idempotency.StatusCompleted {
		t.Fatalf("Release removed a completed record: %+v", old)
	}
}

// CompletionInTransaction: a booking or an update with a claim in ctx
// completes the claim's record in the same write; if the record is no
// longer the claim's, nothing is written.
func CompletionInTransaction(t T, s Store) {
	ctx := context.Background()
	r := record("k1", "h1", 30*time.Second)
	_, err := s.Begin(ctx, r, idemNow)
	must(t, err)
	c := claimOf(r)
	must(t, create(idempotency.NewContext(ctx, c), s, appt("apt_1", nine, "res_a")))
	if !c.Completed {
		t.Fatalf("the booking did not complete the claim")
	}
	old, err := s.Begin(ctx, record("k1", "h1", 30*time.Second), idemNow.Add(time.Second))
	must(t, err)
	if old == nil || old.Status != idempotency.StatusCompleted || old.StatusCode != 201 || string(old.Body) != `{"id":"apt_1"}` {
		t.Fatalf("record after the booking %+v, want 201 with the claim's rendering", old)
	}

	// A claim whose record was taken over: the booking is refused whole.
	lapsed := record("k2", "h1", 30*time.Second)
	_, err = s.Begin(ctx, lapsed, idemNow)
	must(t, err)
	_, err = s.Begin(ctx, record("k2", "h2", 30*time.Second), idemNow.Add(time.Minute))
	must(t, err)
	wantCode(t, create(idempotency.NewContext(ctx, claimOf(lapsed)), s, appt("apt_2", nine, "res_b")), apperr.Conflict)
	if _, err := s.GetAppointment(ctx, "apt_2"); apperr.CodeOf(err) != apperr.NotFound {
		t.Fatalf("a booking with a lost claim was written: %v", err)
	}
	if occ, _ := s.Occupancy(ctx, "br_1", []string{day}); len(occ) != 1 {
		t.Fatalf("occupancy %v, want apt_1's cell only", occ)
	}

	// An update completes its claim too.
	r3 := record("k3", "h1", 30*time.Second)
	_, err = s.Begin(ctx, r3, idemNow)
	must(t, err)
	c3 := claimOf(r3)
	_, err = s.UpdateAppointment(idempotency.NewContext(ctx, c3), "apt_1", func(cur domain.Appointment) (app.Change, error) {
		return step(cur, domain.EventAppointmentBillingChanged, "", func(*domain.Appointment) {}), nil
	})
	must(t, err)
	old, err = s.Begin(ctx, record("k3", "h1", 30*time.Second), idemNow.Add(time.Second))
	must(t, err)
	if !c3.Completed || old == nil || old.Status != idempotency.StatusCompleted {
		t.Fatalf("the update did not complete its claim: %+v", old)
	}
}

// OccupancyRangeCoversDates: the range read returns the cells of every date
// from..to inclusive and none outside (an index may lag: polled briefly).
func OccupancyRangeCoversDates(t T, s Store) {
	ctx := context.Background()
	must(t, create(ctx, s, appt("apt_1", nine.AddDate(0, 0, -1), "res_a"))) // before the range
	must(t, create(ctx, s, appt("apt_2", nine, "res_a")))                   // first day
	must(t, create(ctx, s, appt("apt_3", nine.AddDate(0, 0, 2), "res_b")))  // last day
	must(t, create(ctx, s, appt("apt_4", nine.AddDate(0, 0, 3), "res_a")))  // after
	want := domain.Occupancy{
		{ResourceID: "res_a", Start: nine.Unix()}:                  "apt_2",
		{ResourceID: "res_b", Start: nine.AddDate(0, 0, 2).Unix()}: "apt_3",
	}
	var occ domain.Occupancy
	for deadline := time.Now().Add(5 * time.Second); ; {
		var err error
		occ, err = s.OccupancyRange(ctx, "br_1", day, "2026-12-03")
		must(t, err)
		if len(occ) == len(want) || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if len(occ) != len(want) {
		t.Fatalf("occupancy %v, want %v", occ, want)
	}
	for k, id := range want {
		if occ[k] != id {
			t.Fatalf("occupancy %v, want %v", occ, want)
		}
	}
}

// OversizeEventRefused: a change whose event would be larger than a queue
// message may carry (events.MaxEventBytes) is refused with LIMIT_EXCEEDED
// before anything is written: it could be committed but never published.
func OversizeEventRefused(t T, s Store) {
	ctx := context.Background()
	must(t, create(ctx, s, appt("apt_1", nine, "res_a")))
	_, err := s.UpdateAppointment(ctx, "apt_1", func(cur domain.Appointment) (app.Change, error) {
		return step(cur, domain.EventAppointmentBillingChanged, "", func(n *domain.Appointment) {
			for i := 0; len(n.Resources)*128 <= events.MaxEventBytes; i++ {
				n.Resources = append(n.Resources, fmt.Sprintf("res_%0124d", i))
			}
		}), nil
	})
	wantCode(t, err, apperr.LimitExceeded)
	if !errors.Is(err, events.ErrTooLarge) {
		t.Fatalf("error %v does not wrap events.ErrTooLarge", err)
	}
	if a := get(t, s, "apt_1"); a.Version != 1 {
		t.Fatalf("version %d after the refused change, want 1", a.Version)
	}
	if got := eventTypes(t, s, "apt_1"); len(got) != 1 {
		t.Fatalf("events %v after the refused change, want only the booking's", got)
	}
}
