package notify

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/labchain/appointments/shared/domain"
	"github.com/labchain/appointments/shared/events"
)

// Job is one notification job: an event published to the notifications
// queue (shared/outbox/routes.json), as a CloudEvent. It implements
// consumer.Message: the dedupe key is the event id.
type Job struct {
	Event events.CloudEvent
	// Appointment is the event's appointment as it was when the event was
	// made, as the event carries it: ids, status and times, no personal
	// data. The dispatcher re-reads the current appointment and takes
	// everything it sends (contact details, locale, names) from the store.
	Appointment events.AppointmentData
	// LeadTime is a reminder's lead time (24 h, 2 h); zero for other kinds.
	LeadTime time.Duration
	// ReceiveCount is how many times the queue has delivered the job, this
	// delivery included (0: unknown). Not part of the message.
	ReceiveCount int
}

// checkupPatientPrefix marks the patients created for corporate check-up
// participants (app.CheckupPatientID): their booking is an invitation.
const checkupPatientPrefix = "chk-"

// KindOf returns the message kind of an event type, and false for a type
// that makes no patient message. A booking for a check-up participant
// (patientID made by app.CheckupPatientID) is an invitation rather than a
// confirmation.
func KindOf(eventType, patientID string) (Kind, bool) {
	switch eventType {
	case domain.EventAppointmentBooked:
		if strings.HasPrefix(patientID, checkupPatientPrefix) {
			return KindCheckupInvitation, true
		}
		return KindConfirmation, true
	case domain.EventAppointmentRescheduled:
		return KindReschedule, true
	case domain.EventAppointmentCancelled:
		return KindCancellation, true
	case domain.EventAppointmentReminderDue:
		return KindReminder, true
	case domain.EventAppointmentPaymentConfirmed:
		return KindPaymentConfirmation, true
	case domain.EventAppointmentRecollectionNeeded:
		return KindRecollectionNeeded, true
	case domain.EventAppointmentResultsReady:
		return KindResultsReady, true
	}
	return "", false
}

// Kind returns the job's message kind (valid after Validate).
func (j Job) Kind() Kind {
	k, _ := KindOf(j.Event.Type, j.Appointment.Patient.ID)
	return k
}

// UnmarshalJSON decodes a queue message body: a CloudEvent (decoded strictly
// by events.Decode) whose data is the appointment (events.AppointmentData),
// or for a reminder an events.ReminderDueData. Jobs published before event
// contract v1 (data: the whole appointment) are read too; their personal
// fields are dropped, not used.
func (j *Job) UnmarshalJSON(b []byte) error {
	ce, err := events.Decode(b)
	if err != nil {
		return err
	}
	out := Job{Event: ce}
	if ce.Type == domain.EventAppointmentReminderDue {
		r, err := ce.ReminderDueData()
		if err != nil {
			return err
		}
		out.Appointment = r.Appointment
		out.LeadTime = time.Duration(r.LeadMinutes) * time.Minute
	} else if out.Appointment, err = ce.AppointmentData(); err != nil {
		return err
	}
	*j = out
	return nil
}

// MarshalJSON encodes the job's event (so a job round-trips).
func (j Job) MarshalJSON() ([]byte, error) { return json.Marshal(j.Event) }

// DedupeKey is the event id: a redelivered or re-published job has the same.
func (j Job) DedupeKey() string { return j.Event.ID }

// Validate accepts the event types that make a patient message, with an
// appointment whose id is the event's subject. Its errors quote no field
// value except the event type.
func (j Job) Validate() error {
	if _, ok := KindOf(j.Event.Type, j.Appointment.Patient.ID); !ok {
		return fmt.Errorf("notify: event type %q makes no patient message", j.Event.Type)
	}
	if j.Appointment.ID == "" || j.Appointment.ID != j.Event.Subject {
		return errors.New("notify: data.id must be the appointment id given as subject")
	}
	if j.Appointment.BranchID == "" || j.Appointment.ServiceID == "" {
		return errors.New("notify: data must have branchId and serviceId")
	}
	if j.Event.Type == domain.EventAppointmentReminderDue && j.LeadTime <= 0 {
		return errors.New("notify: a reminder needs leadMinutes > 0")
	}
	return nil
}
