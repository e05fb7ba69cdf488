package storetest

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/labchain/appointments/shared/app"
	"github.com/labchain/appointments/shared/apperr"
	"github.com/labchain/appointments/shared/domain"
)

// capped books a for its patient with the cap on upcoming visits at now.
func capped(ctx context.Context, s Store, a domain.Appointment, limit int, now time.Time) error {
	h := domain.HistoryEntry{At: a.CreatedAt, To: a.Status, Actor: staff, Start: a.Start, End: a.End}
	ev := domain.AppointmentEvent(evID(), domain.EventAppointmentBooked, a.CreatedAt, a)
	return s.CreateAppointmentGuarded(ctx, a, h, ev, app.Guard{MaxUpcoming: limit, Now: now})
}

// ofPatient returns appt(id, start, resource) for patient "pat_x".
func ofPatient(id string, start time.Time, resource string) domain.Appointment {
	a := appt(id, start, resource)
	a.Patient.ID = "pat_x"
	return a
}

// moveStatus changes a visit's status the way the use cases do.
func moveStatus(t T, s Store, id string, to domain.Status) {
	t.Helper()
	_, err := s.UpdateAppointment(context.Background(), id, func(cur domain.Appointment) (app.Change, error) {
		next, err := domain.ChangeStatus(cur, to, cur.Start.Add(time.Minute))
		if err != nil {
			return app.Change{}, err
		}
		h := domain.HistoryEntry{At: next.UpdatedAt, From: cur.Status, To: to, Actor: staff, Start: cur.Start, End: cur.End}
		return app.One(next, h, domain.Event{}), nil
	})
	must(t, err)
}

// PatientCap: a guarded booking is refused with LIMIT_EXCEEDED, writing
// nothing, when the patient already holds the cap of visits that are booked
// or checked in and start after Now, counting visits booked without a cap
// (by staff) too; a cancelled, completed or no-show visit stops counting, a
// rescheduled one keeps counting (at its new start), and a visit whose start
// has passed stops counting without any write.
func PatientCap(t T, s Store) {
	ctx := context.Background()
	now := then // 2026-11-25 10:00 UTC; the visits below are in December
	must(t, capped(ctx, s, ofPatient("apt_1", nine, "res_a"), 2, now))
	must(t, capped(ctx, s, ofPatient("apt_2", nine.Add(time.Hour), "res_a"), 2, now))
	wantCode(t, capped(ctx, s, ofPatient("apt_3", nine.Add(2*time.Hour), "res_a"), 2, now), apperr.LimitExceeded)
	if _, err := s.GetAppointment(ctx, "apt_3"); apperr.CodeOf(err) != apperr.NotFound {
		t.Fatalf("a refused booking was written: %v", err)
	}
	// Another patient is not affected; a booking without a cap (staff) is
	// not refused, and counts.
	must(t, capped(ctx, s, appt("apt_other", nine.Add(3*time.Hour), "res_a"), 2, now))
	must(t, create(ctx, s, ofPatient("apt_3", nine.Add(2*time.Hour), "res_a")))
	wantCode(t, capped(ctx, s, ofPatient("apt_4", nine.Add(4*time.Hour), "res_a"), 3, now), apperr.LimitExceeded)

	// Cancelling frees a place.
	moveStatus(t, s, "apt_1", domain.StatusCancelled)
	must(t, capped(ctx, s, ofPatient("apt_4", nine.Add(4*time.Hour), "res_a"), 3, now))
	wantCode(t, capped(ctx, s, ofPatient("apt_5", nine.Add(5*time.Hour), "res_a"), 3, now), apperr.LimitExceeded)

	// A checked-in visit still counts; a completed one does not.
	moveStatus(t, s, "apt_2", domain.StatusCheckedIn)
	wantCode(t, capped(ctx, s, ofPatient("apt_5", nine.Add(5*time.Hour), "res_a"), 3, now), apperr.LimitExceeded)
	moveStatus(t, s, "apt_2", domain.StatusCompleted)
	must(t, capped(ctx, s, ofPatient("apt_5", nine.Add(5*time.Hour), "res_a"), 3, now))

	// apt_3, apt_4, apt_5 count. Moved earlier, apt_3 still counts now...
	early := time.Date(2026, 11, 26, 9, 0, 0, 0, bkk)
	_, err := s.UpdateAppointment(ctx, "apt_3", func(cur domain.Appointment) (app.Change, error) {
		moved := ofPatient(cur.ID, early, "res_b")
		return step(cur, domain.EventAppointmentRescheduled, "rescheduled", func(n *domain.Appointment) {
			n.Start, n.End, n.Cells = moved.Start, moved.End, moved.Cells
		}), nil
	})
	must(t, err)
	wantCode(t, capped(ctx, s, ofPatient("apt_6", nine.Add(6*time.Hour), "res_a"), 3, now), apperr.LimitExceeded)
	// ... and no longer once its (new) start has passed.
	later := early.Add(time.Minute)
	must(t, capped(ctx, s, ofPatient("apt_6", nine.Add(6*time.Hour), "res_a"), 3, later))
	wantCode(t, capped(ctx, s, ofPatient("apt_7", nine.Add(7*time.Hour), "res_a"), 3, later), apperr.LimitExceeded)
}

// PatientCapConcurrent: of many simultaneous capped bookings of one
// patient (each of other cells, so only the cap can refuse them), exactly
// as many commit as the cap leaves room for; the rest get LIMIT_EXCEEDED.
// The patient already holds a visit whose start has passed, which must not
// count.
func PatientCapConcurrent(t T, s Store) {
	ctx := context.Background()
	const n, limit = 12, 3
	now := then
	past := ofPatient("apt_past", time.Date(2026, 11, 24, 9, 0, 0, 0, bkk), "res_a")
	must(t, create(ctx, s, past))
	errs := make([]error, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			a := ofPatient(fmt.Sprintf("apt_c%02d", i), nine.Add(time.Duration(i)*15*time.Minute), "res_a")
			<-start
			errs[i] = capped(ctx, s, a, limit, now)
		}()
	}
	close(start)
	wg.Wait()
	won := 0
	for _, err := range errs {
		switch {
		case err == nil:
			won++
		case apperr.CodeOf(err) != apperr.LimitExceeded:
			t.Errorf("unexpected error %v", err)
		}
	}
	page, err := s.ListAppointmentsByPatient(ctx, "pat_x", 100, "")
	must(t, err)
	upcoming := 0
	for _, a := range page.Items {
		if domain.Upcoming(get(t, s, a.ID), now) {
			upcoming++
		}
	}
	if won != limit || upcoming != limit {
		t.Fatalf("%d of %d capped bookings won, %d upcoming visits stored; want exactly %d", won, n, upcoming, limit)
	}
}
