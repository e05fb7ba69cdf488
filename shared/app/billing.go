package app

import (
	"context"
	"fmt"
	"slices"

	"github.com/labchain/appointments/shared/apperr"
	"github.com/labchain/appointments/shared/domain"
)

// ApplyOrder applies one POS order event to the billing record of its order
// on its appointment (domain.ApplyOrderEvent): events may arrive in any order
// and twice (paid before created ends paid; a duplicate changes nothing and
// returns nil). A change is one history entry by ActorPOS and one event in
// the same transaction: appointment.payment_confirmed when the order becomes
// paid, appointment.payment_refunded for a refund, else
// appointment.billing_changed.
//
// Errors (classed by apperr.Classify): NOT_FOUND for an unknown
// appointment (transient); VALIDATION_FAILED wrapping domain.ErrContradiction
// when the event's branch is not the appointment's, or its amount, currency
// or appointment contradicts an earlier event of the order (permanent: not
// applied); CONFLICT wrapping domain.ErrNotPaidYet for a refund before the
// payment (transient); INVALID_TRANSITION for a void of a paid order;
// LIMIT_EXCEEDED beyond MaxBillingPerAppointment orders or the refunds'
// limits (per order, MaxRefundsPerAppointment in all); VALIDATION_FAILED for a malformed event.
func (s *Integrations) ApplyOrder(ctx context.Context, ev domain.OrderEvent) error {
	if ev.AppointmentID == "" {
		return apperr.E(apperr.Validation, "appointmentId: is required")
	}
	_, err := s.store.UpdateAppointment(ctx, ev.AppointmentID, func(a domain.Appointment) (Change, error) {
		if ev.BranchID != a.BranchID {
			e := apperr.E(apperr.Validation, "branchId: the order's branch is not the appointment's branch")
			e.Err = domain.ErrContradiction
			return Change{}, e
		}
		i := slices.IndexFunc(a.Billing, func(b domain.Billing) bool { return b.OrderID == ev.OrderID })
		var b domain.Billing
		if i >= 0 {
			b = a.Billing[i]
		} else if len(a.Billing) >= MaxBillingPerAppointment {
			return Change{}, apperr.E(apperr.LimitExceeded, "orderId: an appointment has at most %d orders", MaxBillingPerAppointment)
		}
		nb, changed, err := domain.ApplyOrderEvent(b, ev)
		if err != nil || !changed {
			return Change{}, err // a duplicate changes nothing
		}
		state := a
		state.Billing = slices.Clone(a.Billing)
		if i >= 0 {
			state.Billing[i] = nb
		} else {
			state.Billing = append(state.Billing, nb)
		}
		if total := countRefunds(state.Billing); total > MaxRefundsPerAppointment && total > countRefunds(a.Billing) {
			return Change{}, apperr.E(apperr.LimitExceeded, "order.refunded: an appointment has at most %d refunds in all its orders", MaxRefundsPerAppointment)
		}
		evType := domain.EventAppointmentBillingChanged
		switch {
		case b.PaidAt.IsZero() && !nb.PaidAt.IsZero():
			evType = domain.EventAppointmentPaymentConfirmed
		case len(nb.Refunds) > len(b.Refunds):
			evType = domain.EventAppointmentPaymentRefunded
		}
		reason := fmt.Sprintf("POS: order %s %s (%s)", nb.OrderID, nb.Status, ev.Type)
		return Change{Steps: []Step{s.step(&state, s.clock(), a.Status, ActorPOS, reason, evType)}}, nil
	})
	return err
}
