package events

import (
	"time"

	"github.com/labchain/appointments/shared/domain"
)

// This file is the data of the outbound event contract, version 1
// (docs/contracts/events, guide docs/consumers.md): what `data` carries, as
// wire types owned here and mapped from the domain, so the API body, the
// stored item and the event can each change alone.
//
// Data minimisation (PDPA): the data names the patient by id only. It
// carries no name, phone, email, locale, national id, notes, preparation
// instructions or free-text reasons; a consumer that needs contact details
// reads them from the store when it acts (shared/notify does).
//
// Every member name is also a member of the appointment's JSON before v1
// (the whole domain.Appointment), with the same meaning, so that a consumer
// still running the code before v1 reads a v1 event, and the readers here
// read the records written before v1 (see Upgrade).

// AppointmentData is the data of every appointment event except
// appointment.reminder_due: the appointment after the change, as committed.
type AppointmentData struct {
	// ID is the appointment id (the event's subject).
	ID string `json:"id"`
	// Status is the status after the change (booked, checked_in, completed,
	// cancelled, no_show).
	Status string `json:"status"`
	// BranchID and ServiceID say where and what.
	BranchID  string `json:"branchId"`
	ServiceID string `json:"serviceId"`
	// Start and End are the visit's times, with the branch's offset.
	Start time.Time `json:"start"`
	End   time.Time `json:"end"`
	// Patient names the patient by id only.
	Patient PatientRef `json:"patient"`
	// Resources are the ids of the resources (stations, rooms, staff) the
	// visit holds or held; never null.
	Resources []string `json:"resources"`
	// Version is the appointment's version after the change: it grows by one
	// with every change, so a consumer keeps the highest it has seen.
	Version int `json:"version"`
	// CreatedAt and UpdatedAt are when the appointment was booked and last
	// changed.
	CreatedAt time.Time `json:"createdAt"`
	UpdatedAt time.Time `json:"updatedAt"`
	// LabOrders are the LIS lab orders linked to the visit (absent if none).
	LabOrders []LabOrderData `json:"labOrders,omitempty"`
	// Billing holds one record per POS order of the visit (absent if none).
	Billing []BillingData `json:"billing,omitempty"`
}

// PatientRef names a patient without saying anything about them.
type PatientRef struct {
	ID string `json:"id"`
}

// LabOrderData is a lab order linked to the visit and its samples' states.
type LabOrderData struct {
	ID            string `json:"id"`
	AppointmentID string `json:"appointmentId"`
	// Samples are sorted by id; never null.
	Samples []SampleData `json:"samples"`
	// RecollectionNeeded is true once a sample was rejected or needs
	// recollecting.
	RecollectionNeeded bool `json:"recollectionNeeded"`
}

// SampleData is one sample's state. The LIS's free-text reason is not
// carried (staff read it through the API).
type SampleData struct {
	ID     string `json:"id"`
	Status string `json:"status"`
	// UpdatedAt is when the LIS said the sample reached Status.
	UpdatedAt time.Time `json:"updatedAt"`
	// Sequence is the LIS's per-sample counter, absent if it sent none.
	Sequence int64 `json:"sequence,omitempty"`
}

// BillingData is what the POS told us about one order of the visit.
type BillingData struct {
	OrderID       string `json:"orderId"`
	AppointmentID string `json:"appointmentId"`
	BranchID      string `json:"branchId"`
	// Status is created, paid, refunded (partly or fully: see Refunds) or
	// voided.
	Status string `json:"status"`
	// Amount is the order total; absent until an event carrying it arrived.
	Amount        *MoneyData `json:"amount,omitempty"`
	PaymentMethod string     `json:"paymentMethod,omitempty"`
	CreatedAt     *time.Time `json:"createdAt,omitempty"`
	PaidAt        *time.Time `json:"paidAt,omitempty"`
	VoidedAt      *time.Time `json:"voidedAt,omitempty"`
	// Refunds are sorted by time, then by the POS event id.
	Refunds []RefundData `json:"refunds,omitempty"`
}

// MoneyData is an amount as a decimal string in a currency ("1250.00" THB).
type MoneyData struct {
	Value    string `json:"value"`
	Currency string `json:"currency"`
}

// RefundData is one refund of an order.
type RefundData struct {
	// EventID is the POS event that reported the refund.
	EventID string    `json:"eventId"`
	Amount  MoneyData `json:"amount"`
	At      time.Time `json:"at"`
}

// ReminderDueData is the data of an appointment.reminder_due event: the
// visit as the reminders job read it, which reminder (LeadMinutes: 1440 the
// day before, 120 two hours before) and when it is due (SendAt, after quiet
// hours).
type ReminderDueData struct {
	Appointment AppointmentData `json:"appointment"`
	LeadMinutes int             `json:"leadMinutes"`
	SendAt      time.Time       `json:"sendAt"`
}

// AppointmentDataOf maps an appointment to its event data.
func AppointmentDataOf(a domain.Appointment) AppointmentData {
	out := AppointmentData{
		ID: a.ID, Status: string(a.Status), BranchID: a.BranchID, ServiceID: a.ServiceID,
		Start: a.Start, End: a.End, Patient: PatientRef{ID: a.Patient.ID},
		Resources: append([]string{}, a.Resources...), Version: a.Version,
		CreatedAt: a.CreatedAt, UpdatedAt: a.UpdatedAt,
	}
	for _, o := range a.LabOrders {
		lo := LabOrderData{ID: o.ID, AppointmentID: o.AppointmentID, Samples: []SampleData{}, RecollectionNeeded: o.RecollectionNeeded}
		for _, s := range o.Samples {
			lo.Samples = append(lo.Samples, SampleData{ID: s.ID, Status: string(s.Status), UpdatedAt: s.UpdatedAt, Sequence: s.Sequence})
		}
		out.LabOrders = append(out.LabOrders, lo)
	}
	for _, b := range a.Billing {
		bd := BillingData{
			OrderID: b.OrderID, AppointmentID: b.AppointmentID, BranchID: b.BranchID, Status: string(b.Status),
			Amount: moneyOf(b.Amount), PaymentMethod: b.PaymentMethod,
			CreatedAt: timeOf(b.CreatedAt), PaidAt: timeOf(b.PaidAt), VoidedAt: timeOf(b.VoidedAt),
		}
		for _, r := range b.Refunds {
			bd.Refunds = append(bd.Refunds, RefundData{EventID: r.EventID, Amount: MoneyData{Value: r.Amount.Value(), Currency: r.Amount.Currency}, At: r.At})
		}
		out.Billing = append(out.Billing, bd)
	}
	return out
}

// ReminderDueDataOf maps a due reminder to its event data.
func ReminderDueDataOf(r domain.ReminderDue) ReminderDueData {
	return ReminderDueData{Appointment: AppointmentDataOf(r.Appointment), LeadMinutes: r.LeadMinutes, SendAt: r.SendAt}
}

func moneyOf(m domain.Money) *MoneyData {
	if m.IsZero() {
		return nil
	}
	return &MoneyData{Value: m.Value(), Currency: m.Currency}
}

func timeOf(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}
