package app_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/labchain/appointments/shared/app"
	"github.com/labchain/appointments/shared/apperr"
	"github.com/labchain/appointments/shared/domain"
	"github.com/labchain/appointments/shared/events"
)

// longID is an id of the longest form the contracts allow (128 characters),
// distinct per n.
func longID(prefix string, n int) string {
	s := fmt.Sprintf("%s-%d-", prefix, n)
	return s + strings.Repeat("x", 128-len(s))
}

// largestAppointment is the biggest appointment the limits allow: every id
// 128 characters, the most resources, lab orders, samples, orders and
// refunds, every optional field set with its longest value.
func largestAppointment(t *testing.T, samples, refunds int) domain.Appointment {
	t.Helper()
	at := time.Date(2026, 12, 31, 23, 59, 59, 999999999, time.FixedZone("", 7*3600))
	a := domain.Appointment{
		ID: longID("apt", 0), Status: domain.StatusNoShow, BranchID: longID("br", 0), ServiceID: longID("svc", 0),
		Start: at, End: at, CreatedAt: at, UpdatedAt: at, Version: 1 << 30,
		Patient: domain.Patient{ID: strings.Repeat("p", 200)},
	}
	for i := range domain.MaxCellsPerBooking {
		a.Resources = append(a.Resources, longID("res", i))
	}
	for o := range app.MaxLabOrdersPerAppointment {
		lo := domain.LabOrder{ID: longID("lo", o), AppointmentID: a.ID, RecollectionNeeded: true}
		for s := 0; s < domain.MaxSamplesPerLabOrder && samples > 0; s++ {
			samples--
			lo.Samples = append(lo.Samples, domain.Sample{ID: longID("s", s), Status: domain.SampleRecollectRequired, UpdatedAt: at, Sequence: 1<<63 - 1})
		}
		a.LabOrders = append(a.LabOrders, lo)
	}
	big, err := domain.ParseMoney("999999999999.99", "THB")
	if err != nil {
		t.Fatal(err)
	}
	for o := range app.MaxBillingPerAppointment {
		b := domain.Billing{OrderID: longID("ord", o), AppointmentID: a.ID, BranchID: a.BranchID, Status: domain.BillingRefunded,
			Amount: big, PaymentMethod: strings.Repeat("m", 32), CreatedAt: at, PaidAt: at, VoidedAt: at}
		for r := 0; r < domain.MaxRefundsPerOrder && refunds > 0; r++ {
			refunds--
			b.Refunds = append(b.Refunds, domain.Refund{EventID: longID("ref", r), Amount: big, At: at})
		}
		a.Billing = append(a.Billing, b)
	}
	return a
}

// TestLargestEventFitsAQueueMessage: the limits on what an appointment
// holds (resources, lab orders, samples, orders, refunds, id lengths) keep
// its largest event, the reminder that wraps it, within events.MaxEventBytes,
// so LIS and POS messages are refused with LIMIT_EXCEEDED by those limits
// long before the outbox would have to refuse a change.
func TestLargestEventFitsAQueueMessage(t *testing.T) {
	a := largestAppointment(t, app.MaxSamplesPerAppointment, app.MaxRefundsPerAppointment)
	ev := domain.Event{ID: longID("evt", 0), Type: domain.EventAppointmentReminderDue, Subject: a.ID, Time: a.UpdatedAt,
		Data: domain.ReminderDue{Appointment: a, LeadMinutes: 1440, SendAt: a.Start}}
	ce, err := events.New(ev, "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")
	if err != nil {
		t.Fatalf("the largest appointment's event is refused: %v", err)
	}
	body, _ := json.Marshal(ce)
	t.Logf("largest event: %d bytes of %d", len(body), events.MaxEventBytes)
	if len(body) > events.MaxEventBytes/2 {
		t.Errorf("the largest event is %d bytes, more than half of %d: little room for a new field", len(body), events.MaxEventBytes)
	}

	// Positive control: without the per-appointment totals the per-order
	// limits alone allow an event no queue message can carry.
	a = largestAppointment(t, app.MaxLabOrdersPerAppointment*domain.MaxSamplesPerLabOrder, app.MaxBillingPerAppointment*domain.MaxRefundsPerOrder)
	ev.Data = domain.ReminderDue{Appointment: a, LeadMinutes: 1440, SendAt: a.Start}
	if _, err := events.New(ev, ""); err == nil {
		t.Fatal("the per-order limits alone keep the event small: the totals are not needed (or the check does not work)")
	}
}

// TestAppointmentTotalsOfSamplesAndRefunds: an LIS sample or a POS refund
// beyond the appointment's totals is refused with LIMIT_EXCEEDED
// (permanent) and changes nothing, while news about what the appointment
// already holds still applies.
func TestAppointmentTotalsOfSamplesAndRefunds(t *testing.T) {
	f := newFixture(t, 1)
	ctx := context.Background()
	a, err := f.book(patientA, f.draw, "2026-12-01T08:00:00+07:00")
	must(t, err)
	lis, pos := f.integrations(), f.integrations()

	n := 0
	for o := 0; n < app.MaxSamplesPerAppointment; o++ {
		for s := 0; s < domain.MaxSamplesPerLabOrder && n < app.MaxSamplesPerAppointment; s++ {
			n++
			must(t, lis.ApplySampleStatus(ctx, sampleEv(n, a.ID, fmt.Sprintf("LO-%d", o), fmt.Sprintf("S-%d", s), domain.SampleCollected)))
		}
	}
	before := f.get(t, a.ID)
	err = lis.ApplySampleStatus(ctx, sampleEv(n+1, a.ID, "LO-new", "S-0", domain.SampleCollected))
	if !apperr.Is(err, apperr.LimitExceeded) || !apperr.IsPermanent(err) {
		t.Fatalf("sample %d: %v, want a permanent LIMIT_EXCEEDED", n+1, err)
	}
	if got := f.get(t, a.ID); got.Version != before.Version {
		t.Fatalf("the refused sample changed the appointment (version %d → %d)", before.Version, got.Version)
	}
	must(t, lis.ApplySampleStatus(ctx, sampleEv(n+2, a.ID, "LO-0", "S-0", domain.SampleReceived)))

	n = 0
	for o := 0; n < app.MaxRefundsPerAppointment; o++ {
		ord := func(id string, typ domain.OrderEventType, amount string, minute int) domain.OrderEvent {
			ev := orderEv(t, id, typ, a, amount, minute)
			ev.OrderID = fmt.Sprintf("ORD-%d", o)
			return ev
		}
		must(t, pos.ApplyOrder(ctx, ord(fmt.Sprintf("pay-%d", o), domain.OrderPaid, "10000.00", 1)))
		for r := 0; r < domain.MaxRefundsPerOrder && n < app.MaxRefundsPerAppointment; r++ {
			n++
			must(t, pos.ApplyOrder(ctx, ord(fmt.Sprintf("ref-%d", n), domain.OrderRefunded, "1.00", 2+r)))
		}
	}
	before = f.get(t, a.ID)
	extra := orderEv(t, "ref-extra", domain.OrderRefunded, a, "1.00", 100)
	extra.OrderID = "ORD-0"
	if err := pos.ApplyOrder(ctx, extra); err == nil {
		t.Fatal("a refund beyond the order's own limit was applied") // ORD-0 holds 50 already
	}
	more := orderEv(t, "pay-more", domain.OrderPaid, a, "10000.00", 1)
	more.OrderID = "ORD-more"
	must(t, pos.ApplyOrder(ctx, more))
	refund := orderEv(t, "ref-more", domain.OrderRefunded, a, "1.00", 3)
	refund.OrderID = "ORD-more"
	err = pos.ApplyOrder(ctx, refund)
	if !apperr.Is(err, apperr.LimitExceeded) || !apperr.IsPermanent(err) {
		t.Fatalf("refund %d: %v, want a permanent LIMIT_EXCEEDED", n+1, err)
	}
	if got := f.get(t, a.ID); got.Version != before.Version+1 || countRefunds(got) != app.MaxRefundsPerAppointment {
		t.Fatalf("the refused refund changed the appointment: version %d → %d, %d refunds", before.Version, got.Version, countRefunds(got))
	}
}

func countRefunds(a domain.Appointment) int {
	n := 0
	for _, b := range a.Billing {
		n += len(b.Refunds)
	}
	return n
}
