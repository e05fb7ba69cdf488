package dynamo

import (
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/labchain/appointments/shared/domain"
)

// Stored form of an appointment (with its patient, lab orders and billing)
// and of a history entry (see item.go for the format version). The cells,
// keys and internal attributes are added by appointmentItem.

func appointmentAttrs(a domain.Appointment) item {
	it := newItem(16)
	it.str("id", a.ID)
	it.str("status", string(a.Status))
	it.str("branchId", a.BranchID)
	it.str("serviceId", a.ServiceID)
	it.time("start", a.Start)
	it.time("end", a.End)
	p := newItem(5)
	p.str("id", a.Patient.ID)
	p.str("name", a.Patient.Name)
	p.optStr("phone", a.Patient.Phone)
	p.optStr("email", a.Patient.Email)
	p.optStr("locale", a.Patient.Locale)
	it.m("patient", p)
	it.optStr("notes", a.Notes)
	it.strs("resources", a.Resources)
	it["preparation"] = preparationAV(a.Preparation)
	it.num("version", int64(a.Version))
	it.time("createdAt", a.CreatedAt)
	it.time("updatedAt", a.UpdatedAt)
	it.optList("labOrders", len(a.LabOrders), func(i int) types.AttributeValue { return labOrderAV(a.LabOrders[i]) })
	it.optList("billing", len(a.Billing), func(i int) types.AttributeValue { return billingAV(a.Billing[i]) })
	return it
}

// appointmentAttrsFrom decodes the attributes appointmentAttrs writes (not
// the cells).
func appointmentAttrsFrom(av map[string]types.AttributeValue) (domain.Appointment, error) {
	r := newReader(av)
	r.checkFormat()
	p, _ := r.m("patient")
	a := domain.Appointment{
		ID:        r.str("id"),
		Status:    domain.Status(r.str("status")),
		BranchID:  r.str("branchId"),
		ServiceID: r.str("serviceId"),
		Start:     r.time("start"),
		End:       r.time("end"),
		Patient: domain.Patient{
			ID:     p.str("id"),
			Name:   p.str("name"),
			Phone:  p.str("phone"),
			Email:  p.str("email"),
			Locale: p.str("locale"),
		},
		Notes:       r.str("notes"),
		Resources:   r.strs("resources"),
		Preparation: preparationFrom(r),
		Version:     r.int("version"),
		CreatedAt:   r.time("createdAt"),
		UpdatedAt:   r.time("updatedAt"),
	}
	// Empty lists were never written (omitempty in format 0): decode them
	// as nil.
	if ls := r.maps("labOrders"); len(ls) > 0 {
		a.LabOrders = make([]domain.LabOrder, len(ls))
		for i, l := range ls {
			a.LabOrders[i] = labOrderFrom(l)
		}
	}
	if bs := r.maps("billing"); len(bs) > 0 {
		a.Billing = make([]domain.Billing, len(bs))
		for i, b := range bs {
			a.Billing[i] = billingFrom(b)
		}
	}
	return a, r.err()
}

func labOrderAV(o domain.LabOrder) types.AttributeValue {
	it := newItem(4)
	it.str("id", o.ID)
	it.str("appointmentId", o.AppointmentID)
	it.list("samples", o.Samples == nil, len(o.Samples), func(i int) types.AttributeValue {
		s := o.Samples[i]
		m := newItem(5)
		m.str("id", s.ID)
		m.str("status", string(s.Status))
		m.time("updatedAt", s.UpdatedAt)
		m.optNum("sequence", s.Sequence)
		m.optStr("reason", s.Reason)
		return avM(m)
	})
	it.boolean("recollectionNeeded", o.RecollectionNeeded)
	return avM(it)
}

func labOrderFrom(r reader) domain.LabOrder {
	o := domain.LabOrder{ID: r.str("id"), AppointmentID: r.str("appointmentId"), RecollectionNeeded: r.boolean("recollectionNeeded")}
	if ss := r.maps("samples"); ss != nil {
		o.Samples = make([]domain.Sample, len(ss))
		for i, s := range ss {
			o.Samples[i] = domain.Sample{
				ID:        s.str("id"),
				Status:    domain.SampleStatus(s.str("status")),
				UpdatedAt: s.time("updatedAt"),
				Sequence:  s.num("sequence"),
				Reason:    s.str("reason"),
			}
		}
	}
	return o
}

// optMoney writes m as {value, currency} unless it is zero (format 0 wrote
// NULL for it).
func (it item) optMoney(name string, m domain.Money) {
	if m.IsZero() {
		return
	}
	v := newItem(2)
	v.str("value", m.Value())
	v.str("currency", m.Currency)
	it.m(name, v)
}

func (r reader) money(name string) domain.Money {
	sub, ok := r.m(name)
	if !ok {
		return domain.Money{}
	}
	value, currency := sub.str("value"), sub.str("currency")
	m, err := domain.ParseMoney(value, currency)
	if err != nil {
		r.failf(name, "%q %q: %v", value, currency, err)
	}
	return m
}

func billingAV(b domain.Billing) types.AttributeValue {
	it := newItem(10)
	it.str("orderId", b.OrderID)
	it.str("appointmentId", b.AppointmentID)
	it.str("branchId", b.BranchID)
	it.str("status", string(b.Status))
	it.optMoney("amount", b.Amount)
	it.optStr("paymentMethod", b.PaymentMethod)
	it.optTime("createdAt", b.CreatedAt)
	it.optTime("paidAt", b.PaidAt)
	it.optTime("voidedAt", b.VoidedAt)
	it.optList("refunds", len(b.Refunds), func(i int) types.AttributeValue {
		f := b.Refunds[i]
		m := newItem(3)
		m.str("eventId", f.EventID)
		m.optMoney("amount", f.Amount)
		m.time("at", f.At)
		return avM(m)
	})
	return avM(it)
}

func billingFrom(r reader) domain.Billing {
	b := domain.Billing{
		OrderID:       r.str("orderId"),
		AppointmentID: r.str("appointmentId"),
		BranchID:      r.str("branchId"),
		Status:        domain.BillingStatus(r.str("status")),
		Amount:        r.money("amount"),
		PaymentMethod: r.str("paymentMethod"),
		CreatedAt:     r.time("createdAt"),
		PaidAt:        r.time("paidAt"),
		VoidedAt:      r.time("voidedAt"),
	}
	if fs := r.maps("refunds"); len(fs) > 0 {
		b.Refunds = make([]domain.Refund, len(fs))
		for i, f := range fs {
			b.Refunds[i] = domain.Refund{EventID: f.str("eventId"), Amount: f.money("amount"), At: f.time("at")}
		}
	}
	return b
}

// historyAttrs encodes a history entry (without keys).
func historyAttrs(h domain.HistoryEntry) item {
	it := newItem(7)
	it.time("at", h.At)
	it.str("from", string(h.From))
	it.str("to", string(h.To))
	actor := newItem(2)
	actor.str("id", h.Actor.ID)
	actor.str("role", string(h.Actor.Role))
	it.m("actor", actor)
	it.optStr("reason", h.Reason)
	it.time("start", h.Start)
	it.time("end", h.End)
	return it
}

func historyFrom(av map[string]types.AttributeValue) (domain.HistoryEntry, error) {
	r := newReader(av)
	r.checkFormat()
	actor, _ := r.m("actor")
	h := domain.HistoryEntry{
		At:     r.time("at"),
		From:   domain.Status(r.str("from")),
		To:     domain.Status(r.str("to")),
		Actor:  domain.ActorRef{ID: actor.str("id"), Role: domain.Role(actor.str("role"))},
		Reason: r.str("reason"),
		Start:  r.time("start"),
		End:    r.time("end"),
	}
	return h, r.err()
}
