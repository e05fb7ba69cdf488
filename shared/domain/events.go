package domain

import "time"

// Event is a fact about a committed change, recorded in the same transaction
// as the change itself (the transactional outbox) and published afterwards at
// least once. Consumers deduplicate by ID.
type Event struct {
	// ID is unique per event ("evt_..."); a re-published event keeps it.
	ID string
	// Type is one of the Event* constants, e.g. EventAppointmentBooked.
	Type string
	// Time is when the change happened (the use case's now).
	Time time.Time
	// Subject is the id of the object changed, e.g. the appointment id.
	Subject string
	// Data is the object after the change, exactly as committed (for
	// appointment events a domain.Appointment; for
	// EventAppointmentReminderDue a ReminderDue). It is encoded with
	// encoding/json.
	Data any
}

// Appointment event types. Each committed appointment change produces exactly
// one event of the type of the change; EventAppointmentReminderDue is the one
// event that is not about a change.
const (
	// EventAppointmentBooked: a visit was booked.
	EventAppointmentBooked = "appointment.booked"
	// EventAppointmentRescheduled: a booked visit moved to another start.
	EventAppointmentRescheduled = "appointment.rescheduled"
	// EventAppointmentCancelled: a booked visit was cancelled.
	EventAppointmentCancelled = "appointment.cancelled"
	// EventAppointmentCheckedIn: the patient arrived.
	EventAppointmentCheckedIn = "appointment.checked_in"
	// EventAppointmentCompleted: the visit is over.
	EventAppointmentCompleted = "appointment.completed"
	// EventAppointmentNoShow: the patient did not come.
	EventAppointmentNoShow = "appointment.no_show"
	// EventAppointmentSampleStatusChanged: the LIS reported a sample of one
	// of the visit's lab orders in a new state (or linked a lab order), and
	// the change is neither of the two below.
	EventAppointmentSampleStatusChanged = "appointment.sample_status_changed"
	// EventAppointmentRecollectionNeeded: a sample was rejected or needs
	// recollecting; the patient must come back ("recollection needed").
	EventAppointmentRecollectionNeeded = "appointment.recollection_needed"
	// EventAppointmentResultsReady: every sample of a lab order is resulted
	// ("results ready").
	EventAppointmentResultsReady = "appointment.results_ready"
	// EventAppointmentBillingChanged: the POS created or voided an order of
	// the visit (or another detail of its billing changed).
	EventAppointmentBillingChanged = "appointment.billing_changed"
	// EventAppointmentPaymentConfirmed: an order of the visit was paid.
	EventAppointmentPaymentConfirmed = "appointment.payment_confirmed"
	// EventAppointmentPaymentRefunded: (part of) a paid order was refunded.
	EventAppointmentPaymentRefunded = "appointment.payment_refunded"
	// EventAppointmentReminderDue: a reminder of a booked visit is due (see
	// ReminderPolicy). Unlike the types above it reports no change of the
	// appointment: the reminders job records it, once per appointment, lead
	// time and start, and its data is a ReminderDue, not an Appointment.
	EventAppointmentReminderDue = "appointment.reminder_due"
)

// EventTypes returns every event type the domain produces, in a fixed order.
// Routing tables are checked against it.
func EventTypes() []string {
	return []string{
		EventAppointmentBooked,
		EventAppointmentRescheduled,
		EventAppointmentCancelled,
		EventAppointmentCheckedIn,
		EventAppointmentCompleted,
		EventAppointmentNoShow,
		EventAppointmentSampleStatusChanged,
		EventAppointmentRecollectionNeeded,
		EventAppointmentResultsReady,
		EventAppointmentBillingChanged,
		EventAppointmentPaymentConfirmed,
		EventAppointmentPaymentRefunded,
		EventAppointmentReminderDue,
	}
}

// StatusEventType returns the event type of a status change to `to`
// (cancelled, checked_in, completed, no_show), and false for a status that no
// change moves to (booked is the booking or a reschedule, not a status change).
func StatusEventType(to Status) (string, bool) {
	switch to {
	case StatusCancelled:
		return EventAppointmentCancelled, true
	case StatusCheckedIn:
		return EventAppointmentCheckedIn, true
	case StatusCompleted:
		return EventAppointmentCompleted, true
	case StatusNoShow:
		return EventAppointmentNoShow, true
	}
	return "", false
}

// AppointmentEvent returns the event of an appointment change: Subject is the
// appointment id and Data the appointment after the change.
func AppointmentEvent(id, eventType string, at time.Time, a Appointment) Event {
	return Event{ID: id, Type: eventType, Time: at, Subject: a.ID, Data: a}
}

// ReminderDue is the data of an appointment.reminder_due event: the visit as
// the reminders job read it when the reminder became due, which reminder
// (LeadMinutes: 1440 for the day-before one, 120 for the two-hour one) and
// when it was due (SendAt, after quiet hours were applied). A consumer
// reading the appointment again may find it changed since: a reminder of a
// visit that is no longer booked, or no longer starts at
// Appointment.Start, is stale and must not be sent.
type ReminderDue struct {
	Appointment Appointment `json:"appointment"`
	LeadMinutes int         `json:"leadMinutes"`
	SendAt      time.Time   `json:"sendAt"`
}

// ReminderDueEvent returns the appointment.reminder_due event of r, recorded
// at `at`: Subject is the appointment id and Data r.
func ReminderDueEvent(id string, at time.Time, r ReminderDue) Event {
	return Event{ID: id, Type: EventAppointmentReminderDue, Time: at, Subject: r.Appointment.ID, Data: r}
}
