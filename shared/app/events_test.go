package app_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/labchain/appointments/shared/apperr"
	"github.com/labchain/appointments/shared/domain"
	"github.com/labchain/appointments/shared/events"
)

// outbox returns the recorded events of the fixture's table by subject, in
// time order.
func (f *fixture) outbox(t *testing.T) map[string][]events.CloudEvent {
	t.Helper()
	all, err := f.store.PendingOutbox(context.Background(), time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC), 1000)
	must(t, err)
	out := map[string][]events.CloudEvent{}
	for _, ce := range all {
		out[ce.Subject] = append(out[ce.Subject], ce)
	}
	return out
}

func typesOf(ces []events.CloudEvent) string {
	var out []string
	for _, ce := range ces {
		out = append(out, ce.Type)
	}
	return strings.Join(out, " ")
}

// TestEveryChangeRecordsItsEvent: each use case that changes an appointment
// records exactly one event of its type, whose data is the appointment it
// returned (as committed); failed changes record nothing.
func TestEveryChangeRecordsItsEvent(t *testing.T) {
	f := newFixture(t, 1)
	ctx := context.Background()
	a, err := f.book(patientA, f.draw, "2026-12-01T08:00:00+07:00")
	must(t, err)
	moved, err := f.svc.Reschedule(ctx, patientA, a.ID, bkk("2026-12-01T09:00:00+07:00"))
	must(t, err)
	f.clock.Set(fixedNow.Add(time.Minute))
	in, err := f.svc.Transition(ctx, f.staff, a.ID, domain.StatusCheckedIn, "")
	must(t, err)
	done, err := f.svc.Transition(ctx, f.staff, a.ID, domain.StatusCompleted, "")
	must(t, err)

	b, err := f.book(patientB, f.draw, "2026-12-01T08:00:00+07:00")
	must(t, err)
	cancelled, err := f.svc.Cancel(ctx, patientB, b.ID, "feeling better")
	must(t, err)

	c, err := f.book(patientB, f.draw, "2026-12-01T10:00:00+07:00")
	must(t, err)
	// Failures record nothing: a slot taken, a forbidden and an invalid change.
	_, err = f.book(patientA, f.draw, "2026-12-01T10:00:00+07:00")
	wantCode(t, err, apperr.SlotUnavailable)
	_, err = f.svc.Reschedule(ctx, patientB, c.ID, bkk("2026-12-01T10:00:00+07:00"))
	must(t, err) // same start: a reschedule onto its own cells is allowed
	_, err = f.svc.Transition(ctx, patientB, c.ID, domain.StatusCheckedIn, "")
	wantCode(t, err, apperr.Forbidden)
	_, err = f.svc.Transition(ctx, f.staff, c.ID, domain.StatusCompleted, "")
	wantCode(t, err, apperr.InvalidTransition)
	f.clock.Set(bkk("2026-12-01T10:20:00+07:00"))
	ns, err := f.svc.Transition(ctx, f.staff, c.ID, domain.StatusNoShow, "")
	must(t, err)

	got := f.outbox(t)
	if len(got) != 3 {
		t.Fatalf("events about %d appointments, want 3", len(got))
	}
	for subject, want := range map[string]string{
		a.ID: "appointment.booked appointment.rescheduled appointment.checked_in appointment.completed",
		b.ID: "appointment.booked appointment.cancelled",
		c.ID: "appointment.booked appointment.rescheduled appointment.no_show",
	} {
		if typesOf(got[subject]) != want {
			t.Errorf("%s: %s, want %s", subject, typesOf(got[subject]), want)
		}
	}
	// Data is each change's result, exactly as committed (in event contract
	// v1); ids are fresh "evt_".
	results := map[string]domain.Appointment{}
	for _, r := range []domain.Appointment{a, moved, in, done, b, cancelled, ns} {
		results[r.ID+"@"+string(rune('0'+r.Version))] = r
	}
	seen := map[string]bool{}
	for _, ces := range got {
		for _, ce := range ces {
			if !strings.HasPrefix(ce.ID, "evt_") || seen[ce.ID] {
				t.Errorf("event id %q", ce.ID)
			}
			seen[ce.ID] = true
			var d events.AppointmentData
			must(t, ce.DecodeData(&d))
			if !ce.Time.Equal(d.UpdatedAt) {
				t.Errorf("%s %s: time %v, appointment updated %v", ce.Subject, ce.Type, ce.Time, d.UpdatedAt)
			}
			r, ok := results[d.ID+"@"+string(rune('0'+d.Version))]
			if !ok {
				continue // c's booking and reschedule: checked through the store below
			}
			want, _ := json.Marshal(events.AppointmentDataOf(r))
			if string(ce.Data) != string(want) {
				t.Errorf("%s %s data:\n%s\nwant\n%s", ce.Subject, ce.Type, ce.Data, want)
			}
		}
	}
	last := got[c.ID][len(got[c.ID])-1]
	stored, err := f.svc.GetAppointment(ctx, admin, c.ID)
	must(t, err)
	if want, _ := json.Marshal(events.AppointmentDataOf(stored)); string(last.Data) != string(want) {
		t.Errorf("last event of %s:\n%s\nstored:\n%s", c.ID, last.Data, want)
	}
}
