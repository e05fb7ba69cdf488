package httpapi

import (
	"encoding/json"
	"time"

	"github.com/labchain/appointments/shared/app"
	"github.com/labchain/appointments/shared/domain"
)

// PatientBody is the person a visit is for (personal data).
type PatientBody struct {
	ID     string `json:"id"`
	Name   string `json:"name"`
	Phone  string `json:"phone,omitempty"`
	Email  string `json:"email,omitempty"`
	Locale string `json:"locale,omitempty"`
}

func patientBody(p domain.Patient) PatientBody {
	return PatientBody{ID: p.ID, Name: p.Name, Phone: p.Phone, Email: p.Email, Locale: p.Locale}
}

func (p PatientBody) domain() domain.Patient {
	return domain.Patient{ID: p.ID, Name: p.Name, Phone: p.Phone, Email: p.Email, Locale: p.Locale}
}

// BookRequest is the body of POST /v1/appointments. Start is an RFC 3339
// date-time with a UTC offset, such as "2025-03-01T09:00:00+07:00".
type BookRequest struct {
	BranchID  string      `json:"branchId"`
	ServiceID string      `json:"serviceId"`
	Start     string      `json:"start"`
	Patient   PatientBody `json:"patient"`
	Notes     string      `json:"notes"`
}

// RescheduleRequest is the body of POST /v1/appointments/{id}/reschedule.
type RescheduleRequest struct {
	Start string `json:"start"`
}

// ReasonRequest is the optional body of the cancel and status routes.
type ReasonRequest struct {
	Reason string `json:"reason"`
}

// AppointmentResponse is a visit: the answer of every appointment route, and
// the body an idempotent replay sends (see renderAppointment).
type AppointmentResponse struct {
	ID          string             `json:"id"`
	Status      string             `json:"status"`
	BranchID    string             `json:"branchId"`
	ServiceID   string             `json:"serviceId"`
	Start       time.Time          `json:"start"`
	End         time.Time          `json:"end"`
	Patient     PatientBody        `json:"patient"`
	Notes       string             `json:"notes,omitempty"`
	Resources   []string           `json:"resources"`
	Preparation PreparationBody    `json:"preparation"`
	Version     int                `json:"version"`
	CreatedAt   time.Time          `json:"createdAt"`
	UpdatedAt   time.Time          `json:"updatedAt"`
	LabOrders   []LabOrderResponse `json:"labOrders,omitempty"`
	Billing     []BillingResponse  `json:"billing,omitempty"`
}

// LabOrderResponse is an LIS lab order linked to a visit.
type LabOrderResponse struct {
	ID                 string           `json:"id"`
	AppointmentID      string           `json:"appointmentId"`
	Samples            []SampleResponse `json:"samples"`
	RecollectionNeeded bool             `json:"recollectionNeeded"`
}

// SampleResponse is one specimen of a lab order.
type SampleResponse struct {
	ID        string    `json:"id"`
	Status    string    `json:"status"`
	UpdatedAt time.Time `json:"updatedAt"`
	Sequence  int64     `json:"sequence,omitempty"`
	Reason    string    `json:"reason,omitempty"`
}

// BillingResponse is what the POS reported about a visit's order.
type BillingResponse struct {
	OrderID       string           `json:"orderId"`
	AppointmentID string           `json:"appointmentId"`
	BranchID      string           `json:"branchId"`
	Status        string           `json:"status"`
	Amount        *MoneyBody       `json:"amount"`
	PaymentMethod string           `json:"paymentMethod,omitempty"`
	CreatedAt     time.Time        `json:"createdAt,omitzero"`
	PaidAt        time.Time        `json:"paidAt,omitzero"`
	VoidedAt      time.Time        `json:"voidedAt,omitzero"`
	Refunds       []RefundResponse `json:"refunds,omitempty"`
}

// RefundResponse is one refund of a paid order.
type RefundResponse struct {
	EventID string     `json:"eventId"`
	Amount  *MoneyBody `json:"amount"`
	At      time.Time  `json:"at"`
}

// MoneyBody is an amount as a decimal string with the currency's exact
// number of decimals: {"value":"1250.00","currency":"THB"}. An unknown amount
// is null.
type MoneyBody struct {
	Value    string `json:"value"`
	Currency string `json:"currency"`
}

func moneyBody(m domain.Money) *MoneyBody {
	if m.IsZero() {
		return nil
	}
	return &MoneyBody{Value: m.Value(), Currency: m.Currency}
}

func appointmentResponse(a domain.Appointment) AppointmentResponse {
	return AppointmentResponse{
		ID: a.ID, Status: string(a.Status), BranchID: a.BranchID, ServiceID: a.ServiceID,
		Start: a.Start, End: a.End, Patient: patientBody(a.Patient), Notes: a.Notes,
		Resources: a.Resources, Preparation: preparationBody(a.Preparation), Version: a.Version,
		CreatedAt: a.CreatedAt, UpdatedAt: a.UpdatedAt,
		LabOrders: mapSlice(a.LabOrders, labOrderResponse),
		Billing:   mapSlice(a.Billing, billingResponse),
	}
}

func labOrderResponse(o domain.LabOrder) LabOrderResponse {
	return LabOrderResponse{
		ID: o.ID, AppointmentID: o.AppointmentID, RecollectionNeeded: o.RecollectionNeeded,
		Samples: mapSlice(o.Samples, func(s domain.Sample) SampleResponse {
			return SampleResponse{ID: s.ID, Status: string(s.Status), UpdatedAt: s.UpdatedAt, Sequence: s.Sequence, Reason: s.Reason}
		}),
	}
}

func billingResponse(b domain.Billing) BillingResponse {
	return BillingResponse{
		OrderID: b.OrderID, AppointmentID: b.AppointmentID, BranchID: b.BranchID, Status: string(b.Status),
		Amount: moneyBody(b.Amount), PaymentMethod: b.PaymentMethod,
		CreatedAt: b.CreatedAt, PaidAt: b.PaidAt, VoidedAt: b.VoidedAt,
		Refunds: mapSlice(b.Refunds, func(r domain.Refund) RefundResponse {
			return RefundResponse{EventID: r.EventID, Amount: moneyBody(r.Amount), At: r.At}
		}),
	}
}

// renderAppointment is the response body of the routes that answer with a
// visit. The store completes an idempotency claim with these bytes inside the
// booking transaction (idempotency.Claim.Render), and the route answers with
// the same function's output, so a replay is byte-identical to the first
// answer.
func renderAppointment(a domain.Appointment) ([]byte, error) {
	return json.Marshal(appointmentResponse(a))
}

// appointmentPage maps a page of visits; items are never null.
func appointmentPage(p app.Page[domain.Appointment]) PageResponse[AppointmentResponse] {
	resp := PageResponse[AppointmentResponse]{Items: items(p.Items, appointmentResponse).Items}
	if p.Cursor != "" {
		c := p.Cursor
		resp.NextCursor = &c
	}
	return resp
}

// HistoryEntryResponse is one change of a visit.
type HistoryEntryResponse struct {
	At     time.Time        `json:"at"`
	From   string           `json:"from"`
	To     string           `json:"to"`
	Actor  ActorRefResponse `json:"actor"`
	Reason string           `json:"reason,omitempty"`
	Start  time.Time        `json:"start"`
	End    time.Time        `json:"end"`
}

// ActorRefResponse is who made a change.
type ActorRefResponse struct {
	ID   string `json:"id"`
	Role string `json:"role"`
}

func historyEntryResponse(h domain.HistoryEntry) HistoryEntryResponse {
	return HistoryEntryResponse{
		At: h.At, From: string(h.From), To: string(h.To),
		Actor:  ActorRefResponse{ID: h.Actor.ID, Role: string(h.Actor.Role)},
		Reason: h.Reason, Start: h.Start, End: h.End,
	}
}
