package domain

import (
	"strings"
	"testing"
	"time"
)

func TestEventTypes(t *testing.T) {
	seen := map[string]bool{}
	for _, typ := range EventTypes() {
		if seen[typ] || !strings.HasPrefix(typ, "appointment.") {
			t.Errorf("event type %q duplicated or outside appointment.*", typ)
		}
		seen[typ] = true
	}
	// Every status a change can move to has its own event type.
	for _, to := range []Status{StatusCancelled, StatusCheckedIn, StatusCompleted, StatusNoShow} {
		typ, ok := StatusEventType(to)
		if !ok || !seen[typ] || typ != "appointment."+string(to) {
			t.Errorf("StatusEventType(%s) = %q, %v", to, typ, ok)
		}
	}
	if _, ok := StatusEventType(StatusBooked); ok {
		t.Error("booked is not a status change")
	}
	a := Appointment{ID: "apt_1"}
	at := time.Date(2026, 12, 1, 1, 2, 3, 0, time.UTC)
	ev := AppointmentEvent("evt_1", EventAppointmentBooked, at, a)
	if ev.Subject != "apt_1" || ev.Data.(Appointment).ID != "apt_1" || !ev.Time.Equal(at) {
		t.Fatalf("event %+v", ev)
	}
}
