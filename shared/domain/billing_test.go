package domain

import (
	"encoding/json"
	"errors"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/labchain/appointments/shared/apperr"
)

func TestParseMoney(t *testing.T) {
	tests := []struct {
		value, currency string
		minor           int64
		canonical       string // Value(); "" = error
	}{
		{"1250.00", "THB", 125000, "1250.00"},
		{"1250.5", "THB", 125050, "1250.50"},
		{"1250", "THB", 125000, "1250.00"},
		{"0", "THB", 0, "0.00"},
		{"0.01", "THB", 1, "0.01"},
		{"0.1", "THB", 10, "0.10"},
		{"999999999999.99", "THB", 99999999999999, "999999999999.99"},
		{"1250", "JPY", 1250, "1250"},
		{"19.99", "USD", 1999, "19.99"},
		{"1.000", "THB", 0, ""},               // more precision than THB allows
		{"1250.50", "JPY", 0, ""},             // yen have no minor unit
		{"1250.0", "JPY", 0, ""},              // not even a zero one
		{"01.00", "THB", 0, ""},               // leading zero
		{"1,250.00", "THB", 0, ""},            // grouping
		{"-5.00", "THB", 0, ""},               // sign
		{"+5.00", "THB", 0, ""},               // sign
		{"1e3", "THB", 0, ""},                 // exponent
		{".50", "THB", 0, ""},                 // no integer part
		{"5.", "THB", 0, ""},                  // no fraction digits
		{"", "THB", 0, ""},                    // empty
		{" 5.00", "THB", 0, ""},               // space
		{"1000000000000", "THB", 0, ""},       // 13 integer digits
		{"5.00", "thb", 0, ""},                // lower-case code
		{"5.00", "XXX", 0, ""},                // unsupported code
		{"5.00", "", 0, ""},                   // no code
		{"๕.๐๐", "THB", 0, ""},                // Thai digits
		{"1250.00", "THB ", 0, ""},            // padded code
		{"9223372036854775807", "JPY", 0, ""}, // too many digits
	}
	for _, tt := range tests {
		m, err := ParseMoney(tt.value, tt.currency)
		if tt.canonical == "" {
			if !apperr.Is(err, apperr.Validation) {
				t.Errorf("ParseMoney(%q, %q) = %v, %v; want VALIDATION_FAILED", tt.value, tt.currency, m, err)
			}
			continue
		}
		if err != nil || m.Minor != tt.minor || m.Currency != tt.currency || m.Value() != tt.canonical {
			t.Errorf("ParseMoney(%q, %q) = %+v (%s), %v; want %d %s", tt.value, tt.currency, m, m.Value(), err, tt.minor, tt.canonical)
		}
		// The canonical form parses back to the same amount.
		if back, err := ParseMoney(m.Value(), m.Currency); err != nil || back != m {
			t.Errorf("round trip of %s: %+v, %v", m, back, err)
		}
	}
}

func TestMoneyFormatAndJSON(t *testing.T) {
	if s := (Money{Minor: -350, Currency: "THB"}).Value(); s != "-3.50" {
		t.Errorf("negative: %s", s)
	}
	if s := (Money{Minor: 5, Currency: "THB"}).String(); s != "0.05 THB" {
		t.Errorf("String: %s", s)
	}
	b, err := json.Marshal(struct {
		A Money `json:"a"`
		Z Money `json:"z"`
	}{A: Money{Minor: 125000, Currency: "THB"}})
	if err != nil || string(b) != `{"a":{"value":"1250.00","currency":"THB"},"z":null}` {
		t.Fatalf("marshal: %s %v", b, err)
	}
	var m Money
	if err := json.Unmarshal([]byte(`{"value":"1250.5","currency":"THB"}`), &m); err != nil || m != (Money{Minor: 125050, Currency: "THB"}) {
		t.Fatalf("unmarshal: %+v %v", m, err)
	}
	if err := json.Unmarshal([]byte(`{"value":"1250.555","currency":"THB"}`), &m); !apperr.Is(err, apperr.Validation) {
		t.Fatalf("unmarshal of too precise amount: %v", err)
	}
	sum, err := Money{Minor: 100, Currency: "THB"}.Add(Money{Minor: 250, Currency: "THB"})
	if err != nil || sum.Minor != 350 {
		t.Fatalf("Add: %+v %v", sum, err)
	}
	if _, err := (Money{Minor: 100, Currency: "THB"}).Add(Money{Minor: 1, Currency: "USD"}); !apperr.Is(err, apperr.Validation) {
		t.Fatalf("Add across currencies: %v", err)
	}
	if _, err := (Money{Minor: 1 << 62, Currency: "THB"}).Add(Money{Minor: 1 << 62, Currency: "THB"}); err == nil {
		t.Fatal("Add must detect overflow")
	}
	if c := Currencies(); !strings.Contains(strings.Join(c, ","), "THB") || c[0] > c[len(c)-1] {
		t.Fatalf("Currencies: %v", c)
	}
}

func thb(v string) Money {
	m, err := ParseMoney(v, "THB")
	if err != nil {
		panic(err)
	}
	return m
}

func oev(id string, typ OrderEventType, min int, amount string) OrderEvent {
	return OrderEvent{EventID: id, Type: typ, OccurredAt: labAt(min), OrderID: "pos-1", AppointmentID: "apt-1", BranchID: "br-1", Amount: thb(amount)}
}

func TestApplyOrderEvent(t *testing.T) {
	base := Billing{OrderID: "pos-1", AppointmentID: "apt-1", BranchID: "br-1"}
	with := func(f func(*Billing)) Billing { b := base; f(&b); return b }
	created := with(func(b *Billing) { b.Status, b.Amount, b.CreatedAt = BillingCreated, thb("1250.00"), labAt(0) })
	paid := with(func(b *Billing) {
		b.Status, b.Amount, b.CreatedAt, b.PaidAt, b.PaymentMethod = BillingPaid, thb("1250.00"), labAt(0), labAt(5), "card"
	})
	voided := with(func(b *Billing) {
		b.Status, b.Amount, b.CreatedAt, b.VoidedAt = BillingVoided, thb("1250.00"), labAt(0), labAt(3)
	})
	paidEv := oev("e2", OrderPaid, 5, "1250.00")
	paidEv.PaymentMethod = "card"

	tests := []struct {
		name        string
		b           Billing
		ev          OrderEvent
		want        Billing
		wantChanged bool
		wantCode    apperr.Code
		wantErr     error
	}{
		{name: "created on a new order", b: Billing{}, ev: oev("e1", OrderCreated, 0, "1250.00"), want: created, wantChanged: true},
		{name: "created twice is a no-op", b: created, ev: oev("e1", OrderCreated, 0, "1250.00"), want: created},
		{name: "created then paid", b: created, ev: paidEv, want: paid, wantChanged: true},
		{
			name: "paid before created ends paid",
			b:    Billing{}, ev: paidEv, wantChanged: true,
			want: with(func(b *Billing) {
				b.Status, b.Amount, b.PaidAt, b.PaymentMethod = BillingPaid, thb("1250.00"), labAt(5), "card"
			}),
		},
		{
			name: "created after paid does not downgrade",
			b: with(func(b *Billing) {
				b.Status, b.Amount, b.PaidAt, b.PaymentMethod = BillingPaid, thb("1250.00"), labAt(5), "card"
			}),
			ev: oev("e1", OrderCreated, 0, "1250.00"), want: paid, wantChanged: true,
		},
		{name: "paid again is a no-op", b: paid, ev: paidEv, want: paid},
		{
			name: "a paid event with another amount contradicts",
			b:    created, ev: oev("e2", OrderPaid, 5, "1200.00"), wantCode: apperr.Validation, wantErr: ErrContradiction,
		},
		{
			name: "another currency contradicts",
			b:    created, wantCode: apperr.Validation, wantErr: ErrContradiction,
			ev: func() OrderEvent { e := paidEv; e.Amount = Money{Minor: 125000, Currency: "USD"}; return e }(),
		},
		{
			name: "another appointment contradicts",
			b:    created, wantCode: apperr.Validation, wantErr: ErrContradiction,
			ev: func() OrderEvent { e := paidEv; e.AppointmentID = "apt-2"; return e }(),
		},
		{
			name: "another branch contradicts",
			b:    created, wantCode: apperr.Validation, wantErr: ErrContradiction,
			ev: func() OrderEvent { e := paidEv; e.BranchID = "br-2"; return e }(),
		},
		{name: "voided before paid", b: created, ev: oev("e3", OrderVoided, 3, "1250.00"), want: voided, wantChanged: true},
		{name: "voided after paid is refused", b: paid, ev: oev("e3", OrderVoided, 9, "1250.00"), wantCode: apperr.InvalidTransition},
		{
			name: "a payment overrides a void that arrived first",
			b:    voided, ev: paidEv, want: paid, wantChanged: true,
		},
		{
			name: "a refund before the payment is retried",
			b:    created, ev: oev("e4", OrderRefunded, 20, "250.00"), wantCode: apperr.Conflict, wantErr: ErrNotPaidYet,
		},
		{
			name: "a partial refund",
			b:    paid, ev: oev("e4", OrderRefunded, 20, "250.00"), wantChanged: true,
			want: func() Billing {
				b := paid
				b.Status, b.Refunds = BillingRefunded, []Refund{{EventID: "e4", Amount: thb("250.00"), At: labAt(20)}}
				return b
			}(),
		},
		{
			name: "refunds accumulate up to the paid amount",
			b: func() Billing {
				b := paid
				b.Status, b.Refunds = BillingRefunded, []Refund{{EventID: "e4", Amount: thb("250.00"), At: labAt(20)}}
				return b
			}(),
			ev: oev("e5", OrderRefunded, 10, "1000.00"), wantChanged: true,
			want: func() Billing {
				b := paid
				b.Status = BillingRefunded
				b.Refunds = []Refund{{EventID: "e5", Amount: thb("1000.00"), At: labAt(10)}, {EventID: "e4", Amount: thb("250.00"), At: labAt(20)}}
				return b
			}(),
		},
		{
			name: "refunds never exceed the paid amount",
			b: func() Billing {
				b := paid
				b.Status, b.Refunds = BillingRefunded, []Refund{{EventID: "e4", Amount: thb("250.00"), At: labAt(20)}}
				return b
			}(),
			ev: oev("e5", OrderRefunded, 30, "1000.01"), wantCode: apperr.Validation, wantErr: ErrContradiction,
		},
		{
			name: "a duplicate refund is a no-op",
			b: func() Billing {
				b := paid
				b.Status, b.Refunds = BillingRefunded, []Refund{{EventID: "e4", Amount: thb("250.00"), At: labAt(20)}}
				return b
			}(),
			ev: oev("e4", OrderRefunded, 20, "250.00"),
			want: func() Billing {
				b := paid
				b.Status, b.Refunds = BillingRefunded, []Refund{{EventID: "e4", Amount: thb("250.00"), At: labAt(20)}}
				return b
			}(),
		},
		{
			name: "the same refund event with another amount contradicts",
			b: func() Billing {
				b := paid
				b.Status, b.Refunds = BillingRefunded, []Refund{{EventID: "e4", Amount: thb("250.00"), At: labAt(20)}}
				return b
			}(),
			ev: oev("e4", OrderRefunded, 20, "300.00"), wantCode: apperr.Validation, wantErr: ErrContradiction,
		},
		{
			name: "a refund's amount is not the order total",
			b:    paid, ev: oev("e4", OrderRefunded, 20, "1250.00"), wantChanged: true,
			want: func() Billing {
				b := paid
				b.Status, b.Refunds = BillingRefunded, []Refund{{EventID: "e4", Amount: thb("1250.00"), At: labAt(20)}}
				return b
			}(),
		},
		{name: "a zero refund is invalid", b: paid, ev: oev("e4", OrderRefunded, 20, "0.00"), wantCode: apperr.Validation},
		{name: "unknown type", b: created, ev: oev("e9", "order.lost", 20, "1.00"), wantCode: apperr.Validation},
		{name: "missing event id", b: created, ev: oev("", OrderPaid, 20, "1250.00"), wantCode: apperr.Validation},
		{
			name: "another order", b: created, wantCode: apperr.Validation,
			ev: func() OrderEvent { e := paidEv; e.OrderID = "pos-2"; return e }(),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, changed, err := ApplyOrderEvent(tt.b, tt.ev)
			if tt.wantCode != "" {
				if apperr.CodeOf(err) != tt.wantCode || (tt.wantErr != nil && !errors.Is(err, tt.wantErr)) {
					t.Fatalf("err = %v, want %s wrapping %v", err, tt.wantCode, tt.wantErr)
				}
				if tt.wantErr == nil && errors.Is(err, ErrContradiction) {
					t.Fatalf("err = %v must not be a contradiction", err)
				}
				if !reflect.DeepEqual(got, tt.b) || changed {
					t.Fatalf("an error must leave the billing unchanged: %+v %v", got, changed)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if changed != tt.wantChanged || !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("got %+v changed=%v\nwant %+v changed=%v", got, changed, tt.want, tt.wantChanged)
			}
		})
	}
}

// TestApplyOrderEventAnyOrder delivers an order's events in many orders, with
// duplicates, redelivering refunds that arrived before the payment (as SQS
// does after a transient error): the billing always ends the same.
func TestApplyOrderEventAnyOrder(t *testing.T) {
	paid := oev("p", OrderPaid, 5, "1250.00")
	paid.PaymentMethod = "promptpay"
	events := []OrderEvent{
		oev("c", OrderCreated, 0, "1250.00"),
		paid,
		oev("r1", OrderRefunded, 60, "250.00"),
		oev("r2", OrderRefunded, 90, "1000.00"),
	}
	var want Billing
	rng := rand.New(rand.NewPCG(3, 4))
	for round := 0; round < 300; round++ {
		queue := append(append([]OrderEvent(nil), events...), events[rng.IntN(len(events))])
		if round > 0 {
			rng.Shuffle(len(queue), func(i, j int) { queue[i], queue[j] = queue[j], queue[i] })
		}
		var b Billing
		for n := 0; len(queue) > 0; n++ {
			if n > 100 {
				t.Fatal("events never settle")
			}
			ev := queue[0]
			queue = queue[1:]
			nb, _, err := ApplyOrderEvent(b, ev)
			if errors.Is(err, ErrNotPaidYet) {
				queue = append(queue, ev)
				continue
			}
			if err != nil {
				t.Fatal(err)
			}
			b = nb
		}
		if round == 0 {
			want = b
			if b.Status != BillingRefunded || b.RefundedTotal() != thb("1250.00") || b.PaymentMethod != "promptpay" {
				t.Fatalf("in-order result: %+v", b)
			}
			continue
		}
		if !reflect.DeepEqual(b, want) {
			t.Fatalf("round %d: %+v\nwant %+v", round, b, want)
		}
	}

	// Void and payment in either order: the payment wins; the late void is
	// refused, the early one annulled.
	void := oev("v", OrderVoided, 3, "1250.00")
	b1, _, _ := ApplyOrderEvent(Billing{}, void)
	b1, _, err := ApplyOrderEvent(b1, paid)
	if err != nil {
		t.Fatal(err)
	}
	b2, _, _ := ApplyOrderEvent(Billing{}, paid)
	if _, _, err := ApplyOrderEvent(b2, void); !apperr.Is(err, apperr.InvalidTransition) {
		t.Fatalf("void after payment: %v", err)
	}
	if !reflect.DeepEqual(b1, b2) || b1.Status != BillingPaid {
		t.Fatalf("void/paid orders differ: %+v vs %+v", b1, b2)
	}
}

func TestApplyOrderEventPaymentMethodTie(t *testing.T) {
	a := oev("p1", OrderPaid, 5, "100.00")
	b := a
	b.EventID, b.PaymentMethod = "p2", "cash"
	x, _, _ := ApplyOrderEvent(Billing{}, a)
	x, _, _ = ApplyOrderEvent(x, b)
	y, _, _ := ApplyOrderEvent(Billing{}, b)
	y, _, _ = ApplyOrderEvent(y, a)
	if x.PaymentMethod != "cash" || y.PaymentMethod != "cash" {
		t.Fatalf("a named method should win a tie in any order: %q %q", x.PaymentMethod, y.PaymentMethod)
	}
}

func TestBillingJSON(t *testing.T) {
	b := Billing{OrderID: "pos-1", AppointmentID: "apt-1", BranchID: "br-1", Status: BillingPaid, Amount: thb("1250"),
		PaymentMethod: "card", PaidAt: time.Date(2026, 12, 1, 8, 5, 0, 0, ictZone)}
	got, err := json.Marshal(b)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"orderId":"pos-1","appointmentId":"apt-1","branchId":"br-1","status":"paid",` +
		`"amount":{"value":"1250.00","currency":"THB"},"paymentMethod":"card","paidAt":"2026-12-01T08:05:00+07:00"}`
	if string(got) != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
}
