package domain

import (
	"encoding/json"
	"errors"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/labchain/appointments/shared/apperr"
)

// currencyDigits maps the supported ISO 4217 codes to their number of minor
// unit digits (2 for THB: 1 baht = 100 satang). The POS contract
// (docs/contracts/pos-order.v1.schema.json) lists the same codes.
var currencyDigits = map[string]int{
	"CNY": 2,
	"EUR": 2,
	"GBP": 2,
	"JPY": 0,
	"SGD": 2,
	"THB": 2,
	"USD": 2,
}

// MaxAmountIntegerDigits bounds the integer part of an amount (up to
// 999,999,999,999 units), so that every amount and every sum of a few of them
// fits an int64 in minor units.
const MaxAmountIntegerDigits = 12

// CurrencyDigits returns the number of decimal places (minor unit digits) of a
// supported ISO 4217 currency code, and false for any other code.
func CurrencyDigits(code string) (int, bool) {
	d, ok := currencyDigits[code]
	return d, ok
}

// Currencies returns the supported ISO 4217 codes, sorted.
func Currencies() []string {
	out := make([]string, 0, len(currencyDigits))
	for c := range currencyDigits {
		out = append(out, c)
	}
	slices.Sort(out)
	return out
}

// Money is an exact amount of one currency, counted in the currency's minor
// unit (satang for THB). It never goes through a float. The zero Money (no
// currency) means "unknown".
//
// Its JSON form is the contracts' amount object,
// {"value":"1250.00","currency":"THB"}: the value is a decimal string with
// exactly the currency's number of decimal places.
type Money struct {
	Minor    int64  // amount in minor units; never negative for parsed amounts
	Currency string // ISO 4217 code, one of Currencies()
}

// ParseMoney parses a decimal string such as "1250.00", "1250.5" or "1250" in
// a supported currency: digits only, no sign, no exponent, no leading zeros,
// at most MaxAmountIntegerDigits before the point and at most the currency's
// digits after it (more precision than the currency has, even "1.000" in THB,
// is refused rather than rounded). VALIDATION_FAILED otherwise; the message
// does not quote the value.
func ParseMoney(value, currency string) (Money, error) {
	digits, ok := CurrencyDigits(currency)
	if !ok {
		return Money{}, invalid("currency: must be one of %s", strings.Join(Currencies(), ", "))
	}
	whole, frac, dot := strings.Cut(value, ".")
	switch {
	case whole == "" || !allDigits(whole) || (dot && (frac == "" || !allDigits(frac))):
		return Money{}, invalid("value: must be a decimal string such as %q", Money{Minor: 125000, Currency: "THB"}.Value())
	case len(whole) > 1 && whole[0] == '0':
		return Money{}, invalid("value: must not have leading zeros")
	case len(whole) > MaxAmountIntegerDigits:
		return Money{}, invalid("value: must be less than 10^%d", MaxAmountIntegerDigits)
	case len(frac) > digits:
		return Money{}, invalid("value: %s allows at most %d decimal places", currency, digits)
	}
	frac += strings.Repeat("0", digits-len(frac))
	minor, err := strconv.ParseInt(whole+frac, 10, 64) // ≤ 14 digits: cannot overflow
	if err != nil {
		return Money{}, invalid("value: must be a decimal string")
	}
	return Money{Minor: minor, Currency: currency}, nil
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// IsZero reports whether m is the zero Money (unknown amount).
func (m Money) IsZero() bool { return m == Money{} }

// Value formats the amount with exactly the currency's decimal places:
// "1250.00" for 125000 THB minor units, "-3.50" for a negative amount. An
// unsupported currency formats as 2 decimal places.
func (m Money) Value() string {
	digits, ok := CurrencyDigits(m.Currency)
	if !ok {
		digits = 2
	}
	n := m.Minor
	sign := ""
	if n < 0 {
		sign = "-"
	}
	s := strconv.FormatUint(absInt64(n), 10)
	if digits == 0 {
		return sign + s
	}
	if len(s) <= digits {
		s = strings.Repeat("0", digits-len(s)+1) + s
	}
	return sign + s[:len(s)-digits] + "." + s[len(s)-digits:]
}

func absInt64(n int64) uint64 {
	if n < 0 {
		return uint64(-(n + 1)) + 1 // math.MinInt64 safe
	}
	return uint64(n)
}

// String returns the value and the currency, "1250.00 THB".
func (m Money) String() string { return m.Value() + " " + m.Currency }

// Add returns m + o. VALIDATION_FAILED if the currencies differ or the sum
// overflows.
func (m Money) Add(o Money) (Money, error) {
	if m.Currency != o.Currency {
		return Money{}, invalid("amount: cannot add %s to %s", o.Currency, m.Currency)
	}
	s := m.Minor + o.Minor
	if (o.Minor > 0 && s < m.Minor) || (o.Minor < 0 && s > m.Minor) {
		return Money{}, invalid("amount: sum is out of range")
	}
	return Money{Minor: s, Currency: m.Currency}, nil
}

type moneyJSON struct {
	Value    string `json:"value"`
	Currency string `json:"currency"`
}

// MarshalJSON encodes {"value":"1250.00","currency":"THB"}; the zero Money
// encodes as null.
func (m Money) MarshalJSON() ([]byte, error) {
	if m.IsZero() {
		return []byte("null"), nil
	}
	return json.Marshal(moneyJSON{Value: m.Value(), Currency: m.Currency})
}

// UnmarshalJSON decodes the form MarshalJSON writes (null leaves m unchanged),
// with ParseMoney's rules.
func (m *Money) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		return nil
	}
	var j moneyJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return invalid("amount: must be an object with value and currency")
	}
	v, err := ParseMoney(j.Value, j.Currency)
	if err != nil {
		return err
	}
	*m = v
	return nil
}

// OrderEventType is the type of a POS order event.
type OrderEventType string

// POS order event types.
const (
	OrderCreated  OrderEventType = "order.created"
	OrderPaid     OrderEventType = "order.paid"
	OrderRefunded OrderEventType = "order.refunded"
	OrderVoided   OrderEventType = "order.voided"
)

// Valid reports whether t is one of the four order event types.
func (t OrderEventType) Valid() bool {
	switch t {
	case OrderCreated, OrderPaid, OrderRefunded, OrderVoided:
		return true
	}
	return false
}

// OrderEvent is a POS order event in domain terms (see shared/messages for the
// wire form).
//
// Amount is the order total for created, paid and voided events and the
// amount of this refund (> 0) for a refunded event.
type OrderEvent struct {
	EventID       string
	Type          OrderEventType
	OccurredAt    time.Time
	OrderID       string
	AppointmentID string
	BranchID      string
	Amount        Money
	PaymentMethod string // paid events; "" if not given
}

// BillingStatus is the state of an appointment's POS order.
type BillingStatus string

// Billing statuses: created → paid → refunded (partially or wholly); created
// → voided. A payment overrides a void (see ApplyOrderEvent).
const (
	BillingCreated  BillingStatus = "created"
	BillingPaid     BillingStatus = "paid"
	BillingRefunded BillingStatus = "refunded"
	BillingVoided   BillingStatus = "voided"
)

// Refund is one refund of a paid order.
type Refund struct {
	EventID string    `json:"eventId"` // the producer's event id: a refund is counted once
	Amount  Money     `json:"amount"`  // > 0, in the order's currency
	At      time.Time `json:"at"`      // the event's occurredAt
}

// MaxRefundsPerOrder bounds Billing.Refunds, which is stored with the
// appointment.
const MaxRefundsPerOrder = 50

// Billing is what the POS told us about an appointment's order. It is the
// result of applying the order's events with ApplyOrderEvent, in any order.
type Billing struct {
	OrderID       string        `json:"orderId"`
	AppointmentID string        `json:"appointmentId"`
	BranchID      string        `json:"branchId"`
	Status        BillingStatus `json:"status"`
	// Amount is the order total (from a created, paid or voided event); zero
	// until one of them arrives.
	Amount        Money     `json:"amount"`
	PaymentMethod string    `json:"paymentMethod,omitempty"`
	CreatedAt     time.Time `json:"createdAt,omitzero"`
	PaidAt        time.Time `json:"paidAt,omitzero"`
	VoidedAt      time.Time `json:"voidedAt,omitzero"`
	// Refunds are sorted by At, then EventID.
	Refunds []Refund `json:"refunds,omitempty"`
}

// RefundedTotal returns the sum of the refunds in the order's currency.
func (b Billing) RefundedTotal() Money {
	t := Money{Currency: b.Amount.Currency}
	for _, r := range b.Refunds {
		t.Minor += r.Amount.Minor // bounded: the sum never exceeds Amount
	}
	return t
}

// ErrContradiction is wrapped (as the Err of a VALIDATION_FAILED apperr.Error)
// by ApplyOrderEvent and ApplySampleEvent when an event contradicts what
// earlier events established: another amount, currency, appointment or
// branch for the same order, a refund beyond the paid amount, a lab order
// linked to another appointment. Retrying cannot help; the consumer
// dead-letters the message (errors.Is(err, ErrContradiction)).
var ErrContradiction = errors.New("event contradicts an earlier event")

// ErrNotPaidYet is wrapped (as the Err of a CONFLICT apperr.Error) by
// ApplyOrderEvent for a refund of an order whose payment has not arrived. It
// is transient: the payment event is usually a few seconds behind, so the
// consumer retries the refund (and after maxReceiveCount SQS dead-letters it).
var ErrNotPaidYet = errors.New("order not paid yet")

func contradiction(format string, args ...any) error {
	e := apperr.E(apperr.Validation, format, args...)
	e.Err = ErrContradiction
	return e
}

// ApplyOrderEvent applies one POS event to an order's billing (the zero Billing
// for an order seen for the first time) and reports whether it changed
// anything. The result does not depend on the order in which events arrive,
// and applying an event twice changes nothing:
//
//   - created records CreatedAt (the earliest) and the total; it never
//     downgrades a paid, refunded or voided order.
//   - paid records PaidAt (the earliest), the payment method and the total,
//     whatever arrived before: paid before created ends paid, and a payment
//     overrides a void that arrived first (money was taken, so the void was
//     wrong; VoidedAt is cleared).
//   - refunded adds a refund (once per EventID) to a paid order; the refunds
//     never exceed the paid amount. A refund before the payment has arrived
//     returns CONFLICT wrapping ErrNotPaidYet (transient: retry).
//   - voided records VoidedAt on an unpaid order; on a paid or refunded order
//     it returns INVALID_TRANSITION (permanent).
//
// Every event must agree with what earlier events established: the same
// appointment and branch, the same currency, and for created, paid and voided
// the same total. A disagreement returns VALIDATION_FAILED wrapping
// ErrContradiction (permanent) and b is returned unchanged. A malformed event
// (unknown type, missing ids, amount ≤ 0 for a refund, another order id) is
// VALIDATION_FAILED.
func ApplyOrderEvent(b Billing, ev OrderEvent) (Billing, bool, error) {
	if err := checkOrderEvent(b, ev); err != nil {
		return b, false, err
	}
	before := b
	nb := b
	nb.Refunds = slices.Clone(b.Refunds)
	nb.OrderID, nb.AppointmentID, nb.BranchID = ev.OrderID, ev.AppointmentID, ev.BranchID

	switch ev.Type {
	case OrderCreated:
		nb.Amount = ev.Amount
		nb.CreatedAt = earliest(nb.CreatedAt, ev.OccurredAt)
	case OrderPaid:
		nb.Amount = ev.Amount
		// The earliest payment gives PaidAt and the method; on a tie, a named
		// method beats none and the smaller name wins, so that arrival order
		// does not matter.
		if nb.PaidAt.IsZero() || ev.OccurredAt.Before(nb.PaidAt) ||
			(ev.OccurredAt.Equal(nb.PaidAt) && ev.PaymentMethod != "" &&
				(nb.PaymentMethod == "" || ev.PaymentMethod < nb.PaymentMethod)) {
			nb.PaidAt = ev.OccurredAt
			nb.PaymentMethod = ev.PaymentMethod
		}
		nb.VoidedAt = time.Time{}
	case OrderVoided:
		if !nb.PaidAt.IsZero() {
			return b, false, apperr.E(apperr.InvalidTransition, "order.voided: the order is already paid; a paid order can only be refunded")
		}
		nb.Amount = ev.Amount
		nb.VoidedAt = earliest(nb.VoidedAt, ev.OccurredAt)
	case OrderRefunded:
		if nb.PaidAt.IsZero() {
			e := apperr.E(apperr.Conflict, "order.refunded: the order's payment has not arrived yet")
			e.Err = ErrNotPaidYet
			return b, false, e
		}
		i := slices.IndexFunc(nb.Refunds, func(r Refund) bool { return r.EventID == ev.EventID })
		if i >= 0 {
			if nb.Refunds[i].Amount != ev.Amount {
				return b, false, contradiction("order.refunded: the same refund event arrived with another amount")
			}
			break // duplicate
		}
		if len(nb.Refunds) >= MaxRefundsPerOrder {
			return b, false, apperr.E(apperr.LimitExceeded, "order.refunded: an order has at most %d refunds", MaxRefundsPerOrder)
		}
		total := nb.RefundedTotal()
		if total.Minor+ev.Amount.Minor > nb.Amount.Minor {
			return b, false, contradiction("order.refunded: refunds would exceed the paid amount")
		}
		nb.Refunds = append(nb.Refunds, Refund{EventID: ev.EventID, Amount: ev.Amount, At: ev.OccurredAt})
		slices.SortFunc(nb.Refunds, func(x, y Refund) int {
			if c := x.At.Compare(y.At); c != 0 {
				return c
			}
			return strings.Compare(x.EventID, y.EventID)
		})
	}
	nb.Status = billingStatus(nb)
	return nb, !billingEqual(before, nb), nil
}

// checkOrderEvent validates ev on its own and against what b established.
func checkOrderEvent(b Billing, ev OrderEvent) error {
	switch {
	case !ev.Type.Valid():
		return invalid("type: must be one of order.created, order.paid, order.refunded, order.voided")
	case ev.EventID == "":
		return invalid("eventId: is required")
	case ev.OrderID == "":
		return invalid("orderId: is required")
	case ev.AppointmentID == "":
		return invalid("appointmentId: is required")
	case ev.BranchID == "":
		return invalid("branchId: is required")
	case ev.OccurredAt.IsZero():
		return invalid("occurredAt: is required")
	}
	if _, ok := CurrencyDigits(ev.Amount.Currency); !ok {
		return invalid("amount.currency: must be one of %s", strings.Join(Currencies(), ", "))
	}
	if ev.Amount.Minor < 0 || (ev.Type == OrderRefunded && ev.Amount.Minor == 0) {
		return invalid("amount.value: must be positive for a refund and not negative otherwise")
	}
	if b.OrderID != "" && b.OrderID != ev.OrderID {
		return invalid("orderId: the event is for another order")
	}
	switch {
	case b.AppointmentID != "" && b.AppointmentID != ev.AppointmentID:
		return contradiction("%s: appointmentId differs from an earlier event of the order", ev.Type)
	case b.BranchID != "" && b.BranchID != ev.BranchID:
		return contradiction("%s: branchId differs from an earlier event of the order", ev.Type)
	case b.Amount.Currency != "" && b.Amount.Currency != ev.Amount.Currency:
		return contradiction("%s: amount.currency differs from an earlier event of the order", ev.Type)
	case ev.Type != OrderRefunded && !b.Amount.IsZero() && b.Amount != ev.Amount:
		return contradiction("%s: amount differs from the order total of an earlier event", ev.Type)
	}
	return nil
}

// billingStatus derives the status from the facts recorded.
func billingStatus(b Billing) BillingStatus {
	switch {
	case len(b.Refunds) > 0:
		return BillingRefunded
	case !b.PaidAt.IsZero():
		return BillingPaid
	case !b.VoidedAt.IsZero():
		return BillingVoided
	}
	return BillingCreated
}

func billingEqual(a, b Billing) bool {
	return a.OrderID == b.OrderID && a.AppointmentID == b.AppointmentID && a.BranchID == b.BranchID &&
		a.Status == b.Status && a.Amount == b.Amount && a.PaymentMethod == b.PaymentMethod &&
		a.CreatedAt.Equal(b.CreatedAt) && a.PaidAt.Equal(b.PaidAt) && a.VoidedAt.Equal(b.VoidedAt) &&
		slices.EqualFunc(a.Refunds, b.Refunds, func(x, y Refund) bool {
			return x.EventID == y.EventID && x.Amount == y.Amount && x.At.Equal(y.At)
		})
}

// earliest returns the earlier of t and u, ignoring a zero t.
func earliest(t, u time.Time) time.Time {
	if t.IsZero() || u.Before(t) {
		return u
	}
	return t
}
