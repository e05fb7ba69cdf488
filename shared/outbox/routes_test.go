package outbox

import (
	"slices"
	"strings"
	"testing"

	"github.com/labchain/appointments/shared/config"
	"github.com/labchain/appointments/shared/domain"
)

// TestEveryDomainEventIsRouted: an event type without a route would stay
// PENDING forever, so routes.json must cover every type the domain produces.
func TestEveryDomainEventIsRouted(t *testing.T) {
	r, err := DefaultRoutes()
	if err != nil {
		t.Fatal(err)
	}
	for _, typ := range domain.EventTypes() {
		targets := r.Targets(typ)
		if len(targets) == 0 {
			t.Errorf("%s has no route in routes.json", typ)
		}
		// Every appointment change goes out; a due reminder is no change.
		if strings.HasPrefix(typ, "appointment.") && typ != domain.EventAppointmentReminderDue &&
			!slices.Contains(targets, TargetAppointmentEvents) {
			t.Errorf("%s does not go to %s", typ, TargetAppointmentEvents)
		}
	}
	if got := r.Targets(domain.EventAppointmentReminderDue); !slices.Equal(got, []string{TargetNotifications}) {
		t.Errorf("%s → %v, want notifications only", domain.EventAppointmentReminderDue, got)
	}
	// Patients hear about bookings, moves and cancellations, reminders,
	// recollections, results and payments; nothing else.
	notified := []string{
		domain.EventAppointmentBooked, domain.EventAppointmentRescheduled, domain.EventAppointmentCancelled,
		domain.EventAppointmentReminderDue,
		domain.EventAppointmentRecollectionNeeded, domain.EventAppointmentResultsReady, domain.EventAppointmentPaymentConfirmed,
	}
	for _, typ := range domain.EventTypes() {
		want := slices.Contains(notified, typ)
		if got := slices.Contains(r.Targets(typ), TargetNotifications); got != want {
			t.Errorf("%s → notifications = %v, want %v", typ, got, want)
		}
	}
	if r.Targets("appointment.unknown") != nil {
		t.Error("an unknown type has targets")
	}
}

func TestParseRoutesRefusesBadTables(t *testing.T) {
	known := KnownTargets()
	good := `{"routes":{"a.b":["notifications","appointment-events"]}}`
	r, err := ParseRoutes([]byte(good), known)
	if err != nil {
		t.Fatal(err)
	}
	if got := r.Targets("a.b"); !slices.Equal(got, []string{"appointment-events", "notifications"}) {
		t.Fatalf("targets %v, want sorted", got)
	}
	for name, in := range map[string]string{
		"unknown target":   `{"routes":{"a.b":["email"]}}`,
		"no targets":       `{"routes":{"a.b":[]}}`,
		"null targets":     `{"routes":{"a.b":null}}`,
		"target twice":     `{"routes":{"a.b":["notifications","notifications"]}}`,
		"type twice":       `{"routes":{"a.b":["notifications"],"a.b":["appointment-events"]}}`,
		"not a type":       `{"routes":{"Booked":["notifications"]}}`,
		"unknown member":   `{"routes":{},"version":2}`,
		"routes not obj":   `{"routes":[]}`,
		"no routes":        `{}`,
		"trailing data":    good + `{}`,
		"target not array": `{"routes":{"a.b":"notifications"}}`,
	} {
		if _, err := ParseRoutes([]byte(in), known); err == nil {
			t.Errorf("%s: accepted %s", name, in)
		}
	}
}

func TestQueueURLs(t *testing.T) {
	q := QueueURLs(config.Config{NotificationsQueueURL: "https://n", AppointmentEventsQueueURL: "https://e"})
	if q[TargetNotifications] != "https://n" || q[TargetAppointmentEvents] != "https://e" || len(q) != len(KnownTargets()) {
		t.Fatalf("queue URLs %v", q)
	}
}
