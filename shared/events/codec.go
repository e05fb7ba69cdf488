package events

import (
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/labchain/appointments/shared/domain"
	"github.com/labchain/appointments/shared/strictjson"
)

// dataOf maps a domain event's data to its wire type: a domain.Appointment
// to AppointmentData, a domain.ReminderDue to ReminderDueData (wire values
// are taken as they are). The data must fit the type: reminder_due carries a
// reminder, every other type an appointment.
func dataOf(ev domain.Event) (any, error) {
	var out any
	switch d := ev.Data.(type) {
	case domain.Appointment:
		out = AppointmentDataOf(d)
	case AppointmentData:
		out = d
	case domain.ReminderDue:
		out = ReminderDueDataOf(d)
	case ReminderDueData:
		out = d
	default:
		return nil, fmt.Errorf("events: %s %s: no wire type for data of type %T", ev.Type, ev.ID, ev.Data)
	}
	_, isReminder := out.(ReminderDueData)
	if isReminder != (ev.Type == domain.EventAppointmentReminderDue) {
		return nil, fmt.Errorf("events: %s %s: data of type %T does not fit the event type", ev.Type, ev.ID, ev.Data)
	}
	return out, nil
}

// The shapes a reader accepts: contract v1 and, for records written before
// it, the whole appointment (domain.Appointment's JSON). The extra members
// of the old shape are read and dropped; any other member is an error.
type (
	anyAppointment struct {
		AppointmentData
		Patient     anyPatient      `json:"patient"`
		LabOrders   []anyLabOrder   `json:"labOrders"`
		Notes       string          `json:"notes"`       // before v1 only
		Preparation json.RawMessage `json:"preparation"` // before v1 only
	}
	anyPatient struct {
		PatientRef
		Name   string `json:"name"`   // before v1 only
		Phone  string `json:"phone"`  // before v1 only
		Email  string `json:"email"`  // before v1 only
		Locale string `json:"locale"` // before v1 only
	}
	anyLabOrder struct {
		LabOrderData
		Samples []anySample `json:"samples"`
	}
	anySample struct {
		SampleData
		Reason string `json:"reason"` // before v1 only
	}
	anyReminderDue struct {
		Appointment anyAppointment `json:"appointment"`
		LeadMinutes int            `json:"leadMinutes"`
		SendAt      time.Time      `json:"sendAt"`
	}
)

// v1 returns the contract v1 form of an appointment read in either shape.
func (a anyAppointment) v1() AppointmentData {
	out := a.AppointmentData
	out.Patient = a.Patient.PatientRef
	if out.Resources == nil {
		out.Resources = []string{}
	}
	out.LabOrders = nil
	for _, o := range a.LabOrders {
		lo := o.LabOrderData
		lo.Samples = []SampleData{}
		for _, s := range o.Samples {
			lo.Samples = append(lo.Samples, s.SampleData)
		}
		out.LabOrders = append(out.LabOrders, lo)
	}
	for i := range out.Billing {
		if len(out.Billing[i].Refunds) == 0 {
			out.Billing[i].Refunds = nil
		}
	}
	if len(out.Billing) == 0 {
		out.Billing = nil
	}
	return out
}

// decodeStrict decodes b into v with the project's strict decoder: one
// object, no unknown, wrongly-cased or repeated members, no trailing data.
func decodeStrict(b []byte, v any) error {
	return strictjson.Decode(b, v, strictjson.Options{})
}

// AppointmentData returns the appointment an appointment event is about: its
// data, or for appointment.reminder_due the data's appointment. It reads
// contract v1 and the records written before it (their patient name and
// contact details, notes, preparation and sample reasons are dropped).
func (e CloudEvent) AppointmentData() (AppointmentData, error) {
	if e.Type == domain.EventAppointmentReminderDue {
		r, err := e.ReminderDueData()
		return r.Appointment, err
	}
	var a anyAppointment
	if err := decodeStrict(e.Data, &a); err != nil {
		return AppointmentData{}, fmt.Errorf("events: data of %s %s: %w", e.Type, e.ID, err)
	}
	return a.v1(), nil
}

// ReminderDueData returns the data of an appointment.reminder_due event,
// read as AppointmentData reads its appointment.
func (e CloudEvent) ReminderDueData() (ReminderDueData, error) {
	if e.Type != domain.EventAppointmentReminderDue {
		return ReminderDueData{}, fmt.Errorf("events: %s %s is not a %s", e.Type, e.ID, domain.EventAppointmentReminderDue)
	}
	var r anyReminderDue
	if err := decodeStrict(e.Data, &r); err != nil {
		return ReminderDueData{}, fmt.Errorf("events: data of %s %s: %w", e.Type, e.ID, err)
	}
	return ReminderDueData{Appointment: r.Appointment.v1(), LeadMinutes: r.LeadMinutes, SendAt: r.SendAt}, nil
}

// Upgrade returns e with its data in contract v1. An outbox record written
// before v1 carries the whole appointment (with the patient's name, phone,
// email and the notes); the publisher upgrades it before it leaves, so no
// consumer gets the old shape from a publisher of v1. Data already in v1
// comes back byte for byte; an event type the domain does not produce is
// returned unchanged (it stays unrouted). The id, time and every other
// attribute are kept: consumers that saw the event before deduplicate it.
func Upgrade(e CloudEvent) (CloudEvent, error) {
	if !slices.Contains(domain.EventTypes(), e.Type) {
		return e, nil
	}
	var data any
	var err error
	if e.Type == domain.EventAppointmentReminderDue {
		data, err = e.ReminderDueData()
	} else {
		data, err = e.AppointmentData()
	}
	if err != nil {
		return CloudEvent{}, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	b, err := json.Marshal(data)
	if err != nil {
		return CloudEvent{}, fmt.Errorf("events: encode data of %s %s: %w", e.Type, e.ID, err)
	}
	e.Data = b
	return e, nil
}
