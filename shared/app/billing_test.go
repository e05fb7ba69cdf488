package app_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/labchain/appointments/shared/app"
	"github.com/labchain/appointments/shared/apperr"
	"github.com/labchain/appointments/shared/domain"
)

func thb(t *testing.T, v string) domain.Money {
	t.Helper()
	m, err := domain.ParseMoney(v, "THB")
	must(t, err)
	return m
}

func orderEv(t *testing.T, id string, typ domain.OrderEventType, a domain.Appointment, amount string, minute int) domain.OrderEvent {
	return domain.OrderEvent{
		EventID: id, Type: typ, OccurredAt: labT0.Add(time.Duration(minute) * time.Minute),
		OrderID: "ORD-1", AppointmentID: a.ID, BranchID: a.BranchID, Amount: thb(t, amount),
	}
}

// TestPOSPaidBeforeCreated: the payment arriving first ends paid, the late
// created changes only createdAt, and payment_confirmed is emitted once.
func TestPOSPaidBeforeCreated(t *testing.T) {
	f := newFixture(t, 1)
	ctx := context.Background()
	a, err := f.book(patientA, f.draw, "2026-12-01T08:00:00+07:00")
	must(t, err)
	pos := f.integrations()
	paid := orderEv(t, "pos-2", domain.OrderPaid, a, "1250.00", 2)
	paid.PaymentMethod = "card"
	must(t, pos.ApplyOrder(ctx, paid))
	must(t, pos.ApplyOrder(ctx, orderEv(t, "pos-1", domain.OrderCreated, a, "1250.00", 1)))
	must(t, pos.ApplyOrder(ctx, paid)) // duplicate
	got := f.get(t, a.ID)
	if len(got.Billing) != 1 {
		t.Fatalf("billing %+v", got.Billing)
	}
	b := got.Billing[0]
	if b.Status != domain.BillingPaid || b.Amount != thb(t, "1250.00") || !b.PaidAt.Equal(paid.OccurredAt) || b.CreatedAt.IsZero() || b.PaymentMethod != "card" {
		t.Fatalf("billing %+v", b)
	}
	if got.Version != a.Version+2 {
		t.Fatalf("version %d, want %d (the duplicate changed something)", got.Version, a.Version+2)
	}
	if ces := f.outbox(t)[a.ID]; typesOf(ces) != "appointment.booked appointment.payment_confirmed appointment.billing_changed" {
		t.Fatalf("events %s", typesOf(ces))
	}
	hs, err := f.svc.History(ctx, admin, a.ID)
	must(t, err)
	if len(hs) != 3 || hs[1].Actor != app.ActorPOS || hs[1].From != domain.StatusBooked || hs[1].To != domain.StatusBooked {
		t.Fatalf("history %+v", hs)
	}
}

// TestPOSRefunds: refunds accumulate once each; a refund before the payment
// is transient; refunds beyond the paid amount are permanent.
func TestPOSRefunds(t *testing.T) {
	f := newFixture(t, 1)
	ctx := context.Background()
	a, err := f.book(patientA, f.draw, "2026-12-01T08:00:00+07:00")
	must(t, err)
	pos := f.integrations()
	r1 := orderEv(t, "pos-r1", domain.OrderRefunded, a, "200.00", 5)
	err = pos.ApplyOrder(ctx, r1)
	if !errors.Is(err, domain.ErrNotPaidYet) || apperr.IsPermanent(err) {
		t.Fatalf("refund before payment: %v", err)
	}
	must(t, pos.ApplyOrder(ctx, orderEv(t, "pos-p", domain.OrderPaid, a, "1000.00", 2)))
	must(t, pos.ApplyOrder(ctx, r1))
	must(t, pos.ApplyOrder(ctx, r1)) // duplicate: counted once
	must(t, pos.ApplyOrder(ctx, orderEv(t, "pos-r2", domain.OrderRefunded, a, "300.50", 6)))
	b := f.get(t, a.ID).Billing[0]
	if b.Status != domain.BillingRefunded || len(b.Refunds) != 2 || b.RefundedTotal() != thb(t, "500.50") {
		t.Fatalf("billing %+v", b)
	}
	err = pos.ApplyOrder(ctx, orderEv(t, "pos-r3", domain.OrderRefunded, a, "600.00", 7))
	if !apperr.IsPermanent(err) {
		t.Fatalf("refund beyond the amount: %v", err)
	}
	if ces := f.outbox(t)[a.ID]; typesOf(ces) != "appointment.booked appointment.payment_confirmed appointment.payment_refunded appointment.payment_refunded" {
		t.Fatalf("events %s", typesOf(ces))
	}
}

// TestPOSContradictionIsPermanent: another amount or currency for the same
// order, or another branch than the appointment's, is permanent and not
// applied; an unknown appointment is transient.
func TestPOSContradictionIsPermanent(t *testing.T) {
	f := newFixture(t, 1)
	ctx := context.Background()
	a, err := f.book(patientA, f.draw, "2026-12-01T08:00:00+07:00")
	must(t, err)
	pos := f.integrations()
	must(t, pos.ApplyOrder(ctx, orderEv(t, "pos-1", domain.OrderCreated, a, "1250.00", 1)))
	before := f.get(t, a.ID)

	other := orderEv(t, "pos-2", domain.OrderPaid, a, "1300.00", 2)
	usd := orderEv(t, "pos-3", domain.OrderPaid, a, "1250.00", 2)
	usd.Amount.Currency = "USD"
	branch := orderEv(t, "pos-4", domain.OrderPaid, a, "1250.00", 2)
	branch.BranchID = "br_other"
	for name, ev := range map[string]domain.OrderEvent{"amount": other, "currency": usd, "branch": branch} {
		err := pos.ApplyOrder(ctx, ev)
		if !errors.Is(err, domain.ErrContradiction) || !apperr.IsPermanent(err) {
			t.Errorf("%s: %v, want a permanent contradiction", name, err)
		}
	}
	if got := f.get(t, a.ID); got.Version != before.Version || got.Billing[0].Status != domain.BillingCreated {
		t.Fatalf("a contradiction was applied: %+v", got.Billing)
	}
	missing := orderEv(t, "pos-5", domain.OrderPaid, domain.Appointment{ID: "apt_missing", BranchID: a.BranchID}, "1.00", 1)
	err = pos.ApplyOrder(ctx, missing)
	wantCode(t, err, apperr.NotFound)
	if apperr.IsPermanent(err) {
		t.Error("unknown appointment is permanent")
	}
}
