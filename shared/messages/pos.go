package messages

import (
	"time"

	"github.com/labchain/appointments/shared/domain"
)

// MaxOrderItems is the most lines a POSOrder may carry.
const MaxOrderItems = 200

// POSOrder is an order event sent by the POS
// (docs/contracts/pos-order.v1.schema.json).
//
// Amount is the order total for order.created, order.paid and order.voided,
// and the amount of this one refund (> 0) for order.refunded; see
// domain.ApplyOrderEvent for how events combine.
type POSOrder struct {
	SchemaVersion int                   `json:"schemaVersion"` // 1
	EventID       string                `json:"eventId"`       // the dedupe key
	Type          domain.OrderEventType `json:"type"`
	OccurredAt    time.Time             `json:"occurredAt"`
	OrderID       string                `json:"orderId"`
	AppointmentID string                `json:"appointmentId"`
	BranchID      string                `json:"branchId"`
	Amount        Amount                `json:"amount"`
	Items         []OrderItem           `json:"items"`
	PaymentMethod string                `json:"paymentMethod,omitempty"` // "" when absent
}

// Amount is the wire form of money: a decimal string and an ISO 4217 code,
// {"value":"1250.00","currency":"THB"}. Amount.Money converts it to the exact
// domain.Money.
type Amount struct {
	Value    string `json:"value"`
	Currency string `json:"currency"`
}

// Money parses the amount (domain.ParseMoney).
func (a Amount) Money() (domain.Money, error) { return domain.ParseMoney(a.Value, a.Currency) }

// OrderItem is one line of a POS order. Price is a decimal string in the
// order's currency.
type OrderItem struct {
	Code  string `json:"code"`
	Name  string `json:"name"`
	Qty   int    `json:"qty"`
	Price string `json:"price"`
}

var _ Message = POSOrder{}

// DecodePOSOrder is Decode for a POS message.
func DecodePOSOrder(body []byte) (POSOrder, error) { return Decode[POSOrder](body) }

// DedupeKey returns the producer's eventId.
func (m POSOrder) DedupeKey() string { return m.EventID }

// Validate checks the schema's rules: schemaVersion 1 (another positive
// version wraps apperr.ErrUnknownVersion), ids 1..128 characters of
// [A-Za-z0-9_.:/-], type one of the four order events, occurredAt set, amount
// a supported currency (domain.Currencies) and a decimal string with at most
// the currency's decimal places (ParseMoney's rules), positive for a refund;
// 1..200 items with an id code, a name of 1..200 characters, qty 1..999 and a
// price like the amount's value; paymentMethod, when present, snake_case of
// at most 32 characters.
func (m POSOrder) Validate() error {
	if err := checkVersion(m.SchemaVersion); err != nil {
		return err
	}
	var v validator
	v.id("eventId", m.EventID, true)
	if !m.Type.Valid() {
		v.fail("type: must be one of order.created, order.paid, order.refunded, order.voided")
	}
	v.instant("occurredAt", m.OccurredAt)
	v.id("orderId", m.OrderID, true)
	v.id("appointmentId", m.AppointmentID, true)
	v.id("branchId", m.BranchID, true)
	digits, currencyOK := domain.CurrencyDigits(m.Amount.Currency)
	if !currencyOK {
		v.fail("amount.currency: must be one of %s", currencyList())
	} else if money, err := m.Amount.Money(); err != nil {
		v.fail("amount.value: %s", decimalRule(digits))
	} else if m.Type == domain.OrderRefunded && money.Minor == 0 {
		v.fail("amount.value: must be greater than 0 for order.refunded")
	}
	if len(m.Items) < 1 || len(m.Items) > MaxOrderItems {
		v.fail("items: must list 1..%d order lines", MaxOrderItems)
	}
	for i, it := range m.Items {
		if v.err != nil {
			break
		}
		f := func(name string) string { return "items[" + itoa(i) + "]." + name }
		v.id(f("code"), it.Code, true)
		v.text(f("name"), it.Name, 200, true)
		if it.Qty < 1 || it.Qty > 999 {
			v.fail("%s: must be 1..999", f("qty"))
		}
		if currencyOK {
			if _, err := domain.ParseMoney(it.Price, m.Amount.Currency); err != nil {
				v.fail("%s: %s", f("price"), decimalRule(digits))
			}
		}
	}
	if m.PaymentMethod != "" && !reMethod.MatchString(m.PaymentMethod) {
		v.fail("paymentMethod: must be snake_case (a-z, 0-9, _), 1..32 characters, such as card or promptpay")
	}
	return v.err
}

// OrderEvent returns the message as a domain event for
// domain.ApplyOrderEvent; VALIDATION_FAILED if the amount does not parse (it
// always does once Validate has accepted the message).
func (m POSOrder) OrderEvent() (domain.OrderEvent, error) {
	money, err := m.Amount.Money()
	if err != nil {
		return domain.OrderEvent{}, err
	}
	return domain.OrderEvent{
		EventID:       m.EventID,
		Type:          m.Type,
		OccurredAt:    m.OccurredAt,
		OrderID:       m.OrderID,
		AppointmentID: m.AppointmentID,
		BranchID:      m.BranchID,
		Amount:        money,
		PaymentMethod: m.PaymentMethod,
	}, nil
}

// UnmarshalJSON decodes one JSON object strictly (see Decode); the value
// rules are Validate's. A body whose schemaVersion is an unknown version
// decodes to just SchemaVersion and EventID, without error, so that Validate
// reports apperr.ErrUnknownVersion.
func (m *POSOrder) UnmarshalJSON(b []byte) error {
	tree, err := parseObject(b)
	if err != nil {
		return err
	}
	if v := unknownVersion(tree); v != 0 {
		id, _ := tree["eventId"].(string)
		*m = POSOrder{SchemaVersion: v, EventID: id}
		return nil
	}
	r := newReader(tree)
	out := POSOrder{
		SchemaVersion: int(r.integer("schemaVersion", false)),
		EventID:       r.str("eventId"),
		Type:          domain.OrderEventType(r.str("type")),
		OccurredAt:    r.dateTime("occurredAt"),
		OrderID:       r.str("orderId"),
		AppointmentID: r.str("appointmentId"),
		BranchID:      r.str("branchId"),
		PaymentMethod: r.optStr("paymentMethod"),
	}
	a := r.object("amount")
	out.Amount = Amount{Value: a.str("value"), Currency: a.str("currency")}
	a.done()
	if items := r.objects("items"); items != nil {
		out.Items = make([]OrderItem, len(items))
		for i, it := range items {
			out.Items[i] = OrderItem{Code: it.str("code"), Name: it.str("name"), Qty: int(it.integer("qty", false)), Price: it.str("price")}
			it.done()
		}
	}
	r.done()
	if *r.err != nil {
		return *r.err
	}
	*m = out
	return nil
}
